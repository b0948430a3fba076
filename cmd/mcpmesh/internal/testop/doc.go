// Package testop runs a real OpenID provider for tests: zitadel/oidc's op package over
// its example storage, with what a deployment has and the example lacks. Signing keys
// rotate (the previous key stays published until retired); access tokens are JWTs
// whose audience is the RFC 8707 resource the client asked for (the authorization code
// flow) or the mesh's resource (client credentials), carrying the granted scopes; a
// public client may use the authorization code flow with PKCE through a login form
// served by the provider, as a user's browser would (UserToken does it for a test).
// The federation's client may exchange a mesh identity assertion for an access token
// of the assertion's subject (RFC 8693) once the mesh's JWKS is trusted
// (TrustMeshAssertions); exchanges are counted and may be refused by subject.
package testop
