package gateway

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mcpmesh/mcpmesh/services/gateway/internal/auth"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/mcphttp"
)

// AuthConfig is the top-level auth: section as far as the gateway is concerned: how a
// request's caller is authenticated. The mesh's configuration fills Config.Auth from it.
type AuthConfig struct {
	// Mode is "oauth", "api_key", "oauth+api_key" or "none". Empty means not configured:
	// allowed only on a loopback listen address, where every request acts for the
	// anonymous principal (as "none" does).
	Mode string `koanf:"mode"`
	// OAuth configures the OAuth 2.1 resource server (modes oauth and oauth+api_key).
	OAuth OAuthConfig `koanf:"oauth"`
	// APIKeys configures API keys (modes api_key and oauth+api_key).
	APIKeys APIKeysConfig `koanf:"api_keys"`
	// APIKeysInDatabase is set by the mesh when database.url is: the keys are then in
	// the database (Deps.APIKeys follows them) and auth.api_keys.file must be empty.
	APIKeysInDatabase bool `koanf:"-"`
}

// OAuthConfig configures bearer-token checks.
type OAuthConfig struct {
	// Issuer is the authorization server (the tokens' iss). Its OpenID/OAuth discovery
	// document names the JWKS when JWKSURL is empty.
	Issuer string `koanf:"issuer"`
	// JWKSURL is where the signing keys are, when not discovered from Issuer.
	JWKSURL string `koanf:"jwks_url"`
	// Resource is this server's canonical URI: the audience every token must carry
	// (RFC 8707) and the resource of the protected-resource metadata (RFC 9728).
	Resource string `koanf:"resource"`
	// Scopes are needed for any access and advertised in the metadata and challenges.
	Scopes []string `koanf:"scopes"`
	// ScopeImplies is the scope hierarchy: a broader scope and the narrower scopes it
	// implies. A token's scopes are expanded with it before any check.
	ScopeImplies map[string][]string `koanf:"scope_implies"`
	// Algorithms is the allow-list of JWS algorithms (asymmetric only).
	Algorithms []string `koanf:"algorithms"`
	// ClockSkew is the leeway for exp, nbf and iat.
	ClockSkew time.Duration `koanf:"clock_skew"`
	// MaxTokenBytes bounds the size of a bearer token.
	MaxTokenBytes int `koanf:"max_token_bytes"`
	// JWKSRefreshInterval is the least time between two JWKS fetches caused by tokens
	// with an unknown key id.
	JWKSRefreshInterval time.Duration `koanf:"jwks_refresh_interval"`
	// Introspection checks opaque (non-JWT) tokens at the authorization server (RFC 7662).
	Introspection IntrospectionConfig `koanf:"introspection"`
}

// IntrospectionConfig configures RFC 7662 token introspection; an empty URL turns it off.
type IntrospectionConfig struct {
	URL      string `koanf:"url"`
	ClientID string `koanf:"client_id"`
	// ClientSecretFile holds the client secret (the secret itself never sits in the config).
	ClientSecretFile string `koanf:"client_secret_file"`
	// CacheTTL is how long an introspection answer is reused (never past the token's exp).
	CacheTTL time.Duration `koanf:"cache_ttl"`
}

// APIKeysConfig configures API keys.
type APIKeysConfig struct {
	// File is the key store of the in-memory mode (written by `mcpmesh apikey`); with a
	// database the keys are kept there instead, and File must be empty.
	File string `koanf:"file"`
	// PepperFile holds the secret that keys are hashed with (HMAC-SHA256).
	PepperFile string `koanf:"pepper_file"`
	// LastUsedInterval is how often, at most, a key's last use is written.
	LastUsedInterval time.Duration `koanf:"last_used_interval"`
	// MaxStaleness, with a database, bounds how late a revocation takes effect on a
	// replica: each re-reads the keys on every change notification and at least every
	// third of it, and refuses every key (503) while its copy is older.
	MaxStaleness time.Duration `koanf:"max_staleness"`
}

// DefaultAuthConfig: not configured (anonymous on loopback only), with strict OAuth
// defaults ready for when a mode is chosen.
func DefaultAuthConfig() AuthConfig {
	return AuthConfig{
		OAuth: OAuthConfig{
			Scopes:              []string{},
			ScopeImplies:        map[string][]string{},
			Algorithms:          []string{"RS256", "PS256", "ES256", "EdDSA"},
			ClockSkew:           30 * time.Second,
			MaxTokenBytes:       8 << 10,
			JWKSRefreshInterval: 30 * time.Second,
			Introspection:       IntrospectionConfig{CacheTTL: time.Minute},
		},
		APIKeys: APIKeysConfig{LastUsedInterval: time.Minute, MaxStaleness: 10 * time.Second},
	}
}

// UsesAPIKeys reports whether auth.mode accepts API keys.
func (c AuthConfig) UsesAPIKeys() bool {
	mode, err := auth.ParseMode(c.Mode)
	return err == nil && mode.APIKey
}

// validate reports every problem of the auth section, given the gateway's listen address.
func (c AuthConfig) validate(listen string) error {
	mode, err := auth.ParseMode(c.Mode)
	if err != nil {
		return fmt.Errorf("auth.mode: %w", err)
	}
	if !mode.Configured && !mcphttp.IsLoopbackListen(listen) {
		return fmt.Errorf("auth.mode: gateway.listen %s is not a loopback address and no authentication is configured: "+
			"set auth.mode to oauth, api_key or oauth+api_key, or to none to serve everyone without authentication", listen)
	}
	var errs []error
	if mode.OAuth {
		errs = append(errs, c.OAuth.validate())
	}
	if mode.APIKey && c.APIKeys.PepperFile == "" {
		errs = append(errs, errors.New("auth.api_keys.pepper_file: required in mode "+c.Mode+" (the secret API keys are hashed with)"))
	}
	switch {
	case mode.APIKey && c.APIKeysInDatabase && c.APIKeys.File != "":
		errs = append(errs, errors.New("auth.api_keys.file: must be empty with database.url set (the keys are kept in the database; `mcpmesh apikey` writes them there)"))
	case mode.APIKey && !c.APIKeysInDatabase && c.APIKeys.File == "":
		errs = append(errs, errors.New("auth.api_keys.file: required in mode "+c.Mode+" without a database (where `mcpmesh apikey create` keeps the keys)"))
	}
	if c.APIKeys.LastUsedInterval <= 0 {
		errs = append(errs, errors.New("auth.api_keys.last_used_interval: must be > 0"))
	}
	if c.APIKeys.MaxStaleness < 100*time.Millisecond || c.APIKeys.MaxStaleness > 5*time.Minute {
		errs = append(errs, errors.New("auth.api_keys.max_staleness: must be between 100ms and 5m"))
	}
	return errors.Join(errs...)
}

func (c OAuthConfig) validate() error {
	var errs []error
	if c.Issuer == "" {
		errs = append(errs, errors.New("auth.oauth.issuer: required in mode oauth (the authorization server clients are sent to)"))
	} else if err := httpsURL(c.Issuer); err != nil {
		errs = append(errs, fmt.Errorf("auth.oauth.issuer: %w", err))
	}
	if c.JWKSURL != "" {
		if err := httpsURL(c.JWKSURL); err != nil {
			errs = append(errs, fmt.Errorf("auth.oauth.jwks_url: %w", err))
		}
	}
	if c.Resource == "" {
		errs = append(errs, errors.New("auth.oauth.resource: required in mode oauth (this server's canonical URI, e.g. https://mesh.example.com/mcp)"))
	} else if err := httpsURL(c.Resource); err != nil {
		errs = append(errs, fmt.Errorf("auth.oauth.resource: %w", err))
	} else if u, _ := url.Parse(c.Resource); u.Fragment != "" {
		errs = append(errs, errors.New("auth.oauth.resource: must not have a fragment (RFC 8707)"))
	}
	if len(c.Algorithms) == 0 {
		errs = append(errs, errors.New("auth.oauth.algorithms: name at least one"))
	}
	for i, a := range c.Algorithms {
		if !slices.Contains(auth.AsymmetricAlgorithms, a) {
			errs = append(errs, fmt.Errorf("auth.oauth.algorithms[%d]: %q is not allowed (want one of %s; never none or HMAC)", i, a, strings.Join(auth.AsymmetricAlgorithms, ", ")))
		}
	}
	for i, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \"\\") {
			errs = append(errs, fmt.Errorf("auth.oauth.scopes[%d]: %q is not a scope token", i, s))
		}
	}
	if c.ClockSkew < 0 || c.ClockSkew > 5*time.Minute {
		errs = append(errs, errors.New("auth.oauth.clock_skew: must be between 0 and 5m"))
	}
	if c.MaxTokenBytes < 256 || c.MaxTokenBytes > 64<<10 {
		errs = append(errs, errors.New("auth.oauth.max_token_bytes: must be between 256 and 65536"))
	}
	if c.JWKSRefreshInterval <= 0 {
		errs = append(errs, errors.New("auth.oauth.jwks_refresh_interval: must be > 0"))
	}
	if in := c.Introspection; in.URL != "" {
		if err := httpsURL(in.URL); err != nil {
			errs = append(errs, fmt.Errorf("auth.oauth.introspection.url: %w", err))
		}
		if in.ClientID == "" || in.ClientSecretFile == "" {
			errs = append(errs, errors.New("auth.oauth.introspection: client_id and client_secret_file are required with url"))
		}
		if in.CacheTTL <= 0 {
			errs = append(errs, errors.New("auth.oauth.introspection.cache_ttl: must be > 0"))
		}
	}
	return errors.Join(errs...)
}

// httpsURL accepts an absolute https URL, or http on a loopback host (local IdPs in
// development and tests).
func httpsURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && mcphttp.IsLoopbackListen(u.Host):
		return nil
	case u.Scheme == "http" && u.Hostname() == "localhost":
		return nil
	}
	return fmt.Errorf("%q: want https (http only on loopback)", s)
}
