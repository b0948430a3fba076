// Package auth authenticates requests at the gateway: it turns a bearer token (an OAuth
// 2.1 access token, checked as a JWT against the authorization server's keys or by
// introspection) or an API key into a principal.Principal in the request's context, and
// answers the requests it refuses with RFC 6750 challenges that point at the RFC 9728
// protected-resource metadata, so MCP clients find the authorization server on their own.
package auth
