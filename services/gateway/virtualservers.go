package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mcpmesh/mcpmesh/services/gateway/internal/auth"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/mcphttp"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/rest"
	"github.com/mcpmesh/mcpmesh/services/kit/virtualserver"
)

// Virtual servers (the top-level section virtual_servers) are served at /mcp/<name>,
// with the REST listings and calls under /v1/servers/<name>/ and, with OAuth, RFC 9728
// metadata at /.well-known/oauth-protected-resource/mcp/<name>. The gateway only
// routes: it puts the name in the request's context (kit/virtualserver), which the
// session service reads to show and allow the virtual server's selection. The name
// comes from the path alone.

// virtualServerPath is the MCP endpoint of the virtual server name.
func virtualServerPath(name string) string { return "/mcp/" + name }

// virtualServerResource is the canonical URI of the virtual server name: the mesh's
// resource (auth.oauth.resource, the URI of /mcp) with the name as one more segment.
func virtualServerResource(resource, name string) string {
	return strings.TrimSuffix(resource, "/") + "/" + name
}

// addVirtualServers builds, for each name, the authenticator whose challenges point at
// the virtual server's metadata and, with OAuth, that metadata: by name (served at
// /.well-known/oauth-protected-resource/mcp/<name>), and by path where the metadata
// URL path-inserted for the virtual server's resource is another path (a resource
// whose path is not /mcp).
func (a *authentication) addVirtualServers(names []string) (byName, byPath map[string]http.Handler, _ error) {
	a.byVirtualServer = make(map[string]*auth.Authenticator, len(names))
	byName, byPath = map[string]http.Handler{}, map[string]http.Handler{}
	for _, name := range names {
		s := a.settings
		if a.metadata != nil {
			doc := a.document
			doc.Resource = virtualServerResource(doc.Resource, name)
			s.Challenge = auth.Challenge{ResourceMetadata: auth.MetadataURL(doc.Resource), Scopes: s.Challenge.Scopes}
			if v, ok := s.OAuth.(*auth.OAuthVerifier); ok {
				// Tokens for the mesh, and tokens for this virtual server only.
				s.OAuth = v.AlsoFor(doc.Resource)
			}
			h := auth.MetadataHandler(doc)
			byName[name] = h
			if u, err := url.Parse(s.Challenge.ResourceMetadata); err == nil && u.Path != auth.MetadataPath+virtualServerPath(name) {
				byPath[u.Path] = h
			}
		}
		authn, err := auth.New(s)
		if err != nil {
			return nil, nil, fmt.Errorf("virtual server %s: %w", name, err)
		}
		a.byVirtualServer[name] = authn
	}
	return byName, byPath, nil
}

// authenticatorOf is the authenticator of the path r came through.
func (a *authentication) authenticatorOf(r *http.Request) *auth.Authenticator {
	if authn, ok := a.byVirtualServer[virtualserver.FromContext(r.Context())]; ok {
		return authn
	}
	return a.authn
}

// byVirtualServer serves a route with a {server} wildcard: the handler of that virtual
// server, with its name in the request's context, or notFound for a name that is not
// configured.
func byVirtualServer(handlers map[string]http.Handler, notFound func(w http.ResponseWriter, name string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("server")
		h, ok := handlers[name]
		if !ok {
			notFound(w, name)
			return
		}
		h.ServeHTTP(w, r.WithContext(virtualserver.NewContext(r.Context(), name)))
	})
}

// unknownVirtualServer is the message of a 404 for a name that is not configured.
func unknownVirtualServer(name string) string {
	return fmt.Sprintf("Not Found: no virtual server is named %q", name)
}

// restRoutesOfVirtualServers are the first segments of the REST routes served under
// /v1/servers/<name>/: the session service's listings, calls and sessions. Providers
// and health are the whole mesh's, not a virtual server's.
var restRoutesOfVirtualServers = []string{"tools", "resources", "resource-templates", "prompts", "sessions"}

// underVirtualServer serves /v1/servers/<name>/<route> as /v1/<route> for the REST mux
// (the name is already in the context), or 404 for a route not served there.
func underVirtualServer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		prefix := "/v1/servers/" + r.PathValue("server")
		route := strings.TrimPrefix(r.URL.Path, prefix+"/")
		first := route
		if i := strings.IndexAny(route, "/:"); i >= 0 {
			first = route[:i]
		}
		if !slices.Contains(restRoutesOfVirtualServers, first) {
			rest.WriteNotFound(w, "Not Found: a virtual server serves /v1/servers/<name>/ followed by "+strings.Join(restRoutesOfVirtualServers, ", "))
			return
		}
		u := *r.URL
		u.Path = "/v1" + strings.TrimPrefix(r.URL.Path, prefix)
		if u.RawPath != "" {
			u.RawPath = "/v1" + strings.TrimPrefix(u.RawPath, prefix)
		}
		r2 := new(http.Request)
		*r2 = *r
		r2.URL = &u
		next.ServeHTTP(w, r2)
	})
}

// notFoundMCP and notFoundREST answer a name that is not configured in each API's error shape.
func notFoundMCP(w http.ResponseWriter, name string) {
	mcphttp.WriteNotFound(w, unknownVirtualServer(name))
}

func notFoundREST(w http.ResponseWriter, name string) {
	rest.WriteNotFound(w, unknownVirtualServer(name))
}

func notFoundMetadata(w http.ResponseWriter, name string) {
	auth.WriteNotFound(w, unknownVirtualServer(name))
}

// validateVirtualServers checks the names the gateway routes: each a valid, distinct
// path segment whose routes are not the mesh's own. The one route a name can collide
// with is protected-resource metadata: the mesh's, path-inserted for resource (for a
// resource such as https://host/mcp/reports), is where the metadata of a virtual
// server would be served.
func validateVirtualServers(names []string, resource string) []error {
	var errs []error
	own := map[string]bool{}
	if resource != "" {
		for _, p := range metadataPaths(resource) {
			own[p] = true
		}
	}
	seen := map[string]bool{}
	for i, name := range names {
		// As the session service names them, so that a process running both reports a
		// problem once.
		at := fmt.Sprintf("virtual_servers[%d]", i)
		if name != "" {
			at += " (" + name + ")"
		}
		at += ".name"
		if err := virtualserver.CheckName(name); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", at, err))
			continue
		}
		if seen[name] {
			errs = append(errs, fmt.Errorf("%s: %q is the name of an earlier virtual server", at, name))
		}
		seen[name] = true
		if resource == "" {
			continue
		}
		paths := []string{auth.MetadataPath + virtualServerPath(name)}
		if u, err := url.Parse(auth.MetadataURL(virtualServerResource(resource, name))); err == nil {
			paths = append(paths, u.Path)
		}
		for _, p := range paths {
			if own[p] {
				errs = append(errs, fmt.Errorf("%s: %q would serve its metadata at %s, where the mesh's own is (auth.oauth.resource %s); rename it", at, name, p, resource))
				break
			}
		}
	}
	return errs
}
