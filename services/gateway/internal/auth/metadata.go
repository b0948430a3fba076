package auth

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// MetadataPath is where the RFC 9728 protected-resource metadata is served; the same
// document is also served with the resource's path appended (path insertion), which is
// where RFC 9728 clients look first for a resource such as https://host/mcp.
const MetadataPath = "/.well-known/oauth-protected-resource"

// ProtectedResource is the RFC 9728 metadata of the gateway.
type ProtectedResource struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
}

// MetadataURL is the URL of the metadata for resource (path-inserted when the
// resource has a path), as the challenges' resource_metadata names it.
func MetadataURL(resource string) string {
	u, err := url.Parse(resource)
	if err != nil {
		return ""
	}
	u.Path = MetadataPath + strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

// MetadataHandler serves m as JSON.
func MetadataHandler(m ProtectedResource) http.Handler {
	body, _ := json.Marshal(m) // plain strings always marshal
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(body)
	})
}

// WriteNotFound answers a metadata request for a resource that does not exist: 404
// with an OAuth-style error body.
func WriteNotFound(w http.ResponseWriter, description string) {
	body, _ := json.Marshal(map[string]string{"error": "not_found", "error_description": description})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write(body)
}
