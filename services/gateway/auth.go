package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mcpmesh/mcpmesh/services/gateway/internal/auth"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/mcphttp"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/rest"
	"github.com/mcpmesh/mcpmesh/services/kit/apikey"
)

// authentication is the gateway's auth.mode put together: the middleware and, with
// OAuth, the protected-resource metadata.
type authentication struct {
	authn *auth.Authenticator
	// metadata serves RFC 9728 metadata; nil without OAuth.
	metadata http.Handler
	// metadataPaths are where it is served.
	metadataPaths []string
	// settings built authn; each virtual server's authenticator differs only in the
	// challenge. resource is auth.oauth.resource ("" without OAuth).
	settings auth.Settings
	document auth.ProtectedResource
	// byVirtualServer are the authenticators of /mcp/<name> and /v1/servers/<name>/
	// (their challenges name the virtual server's metadata); see virtualservers.go.
	byVirtualServer map[string]*auth.Authenticator
}

// newAuthentication builds the authentication of auth.mode.
func newAuthentication(c AuthConfig, listen string, keys apikey.Source, logger *slog.Logger) (*authentication, error) {
	mode, err := auth.ParseMode(c.Mode)
	if err != nil {
		return nil, err
	}
	if !mode.Configured {
		logger.Info("authentication is not configured: every request acts for the anonymous principal, which is allowed on loopback only",
			"listen", listen)
	}
	out := &authentication{}
	s := auth.Settings{Mode: mode, Logger: logger, MaxTokenBytes: c.OAuth.MaxTokenBytes}
	if mode.APIKey {
		v, err := newAPIKeyVerifier(c, keys)
		if err != nil {
			return nil, err
		}
		s.APIKeys = v
	}
	if mode.OAuth {
		v, err := newOAuthVerifier(c.OAuth)
		if err != nil {
			return nil, err
		}
		s.OAuth = v
		s.Challenge = auth.Challenge{ResourceMetadata: auth.MetadataURL(c.OAuth.Resource), Scopes: c.OAuth.Scopes}
		out.document = auth.ProtectedResource{
			Resource:               c.OAuth.Resource,
			AuthorizationServers:   []string{c.OAuth.Issuer},
			ScopesSupported:        c.OAuth.Scopes,
			BearerMethodsSupported: []string{"header"},
		}
		out.metadata = auth.MetadataHandler(out.document)
		out.metadataPaths = metadataPaths(c.OAuth.Resource)
	}
	if out.authn, err = auth.New(s); err != nil {
		return nil, err
	}
	out.settings = s
	return out, nil
}

// metadataPaths: the root document, the one under /mcp (the and the clients'
// usual place) and the one path-inserted for the configured resource.
func metadataPaths(resource string) []string {
	paths := []string{auth.MetadataPath, auth.MetadataPath + "/mcp"}
	if u := auth.MetadataURL(resource); u != "" {
		if i := strings.Index(u, auth.MetadataPath); i >= 0 {
			p := u[i:]
			if p != paths[0] && p != paths[1] {
				paths = append(paths, p)
			}
		}
	}
	return paths
}

// newAPIKeyVerifier checks keys against keys (the database's, followed by the mesh)
// or, without a database, against auth.api_keys.file.
func newAPIKeyVerifier(ac AuthConfig, keys apikey.Source) (*auth.APIKeyVerifier, error) {
	c := ac.APIKeys
	if ac.APIKeysInDatabase && keys == nil {
		return nil, errors.New("auth.api_keys: the keys are in the database but no follower of them was given (Deps.APIKeys)")
	}
	pepper, err := apikey.ReadPepper(c.PepperFile)
	if err != nil {
		return nil, fmt.Errorf("auth.api_keys.pepper_file: %w", err)
	}
	h, err := apikey.NewHasher(pepper)
	if err != nil {
		return nil, fmt.Errorf("auth.api_keys.pepper_file: %w", err)
	}
	if keys == nil {
		// A new or revoked key takes effect within a second.
		if keys, err = apikey.NewFileSource(apikey.NewFileStore(c.File), time.Second, c.LastUsedInterval, time.Now()); err != nil {
			return nil, fmt.Errorf("auth.api_keys.file: %w", err)
		}
	}
	return auth.NewAPIKeyVerifier(auth.APIKeySettings{Hasher: h, Keys: keys})
}

func newOAuthVerifier(c OAuthConfig) (*auth.OAuthVerifier, error) {
	s := auth.OAuthSettings{
		Issuer:              c.Issuer,
		JWKSURL:             c.JWKSURL,
		Resource:            c.Resource,
		ScopeImplies:        c.ScopeImplies,
		Algorithms:          c.Algorithms,
		ClockSkew:           c.ClockSkew,
		JWKSRefreshInterval: c.JWKSRefreshInterval,
	}
	if in := c.Introspection; in.URL != "" {
		secret, err := os.ReadFile(in.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("auth.oauth.introspection.client_secret_file: %w", err)
		}
		s.Introspection = &auth.Introspector{URL: in.URL, ClientID: in.ClientID, ClientSecret: strings.TrimSpace(string(secret)), CacheTTL: in.CacheTTL}
	}
	return auth.NewOAuthVerifier(s)
}

// deniedMCP answers the session service's denials on /mcp, /sse and /messages: a step-up
// challenge for missing scopes, JSON-RPC -32003 for a policy refusal.
func (a *authentication) deniedMCP(w http.ResponseWriter, r *http.Request, err error) bool {
	return a.denied(w, r, err, mcphttp.WriteForbidden)
}

// deniedREST is deniedMCP for /v1: a policy refusal is 403 with grpc-gateway's body.
func (a *authentication) deniedREST(w http.ResponseWriter, r *http.Request, err error) bool {
	return a.denied(w, r, err, rest.WriteForbidden)
}

func (a *authentication) denied(w http.ResponseWriter, r *http.Request, err error, forbidden func(http.ResponseWriter)) bool {
	d, ok := auth.DenialOf(err)
	switch {
	case !ok:
		return false
	case d.Policy:
		forbidden(w)
	default:
		// The step-up challenge names the metadata of the path the client used.
		a.authenticatorOf(r).Challenge().WriteStepUp(w, d.Scopes)
	}
	return true
}
