package federation

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/breaker"
)

// Config is the federation service's settings (the `federation:` section).
type Config struct {
	// Upstreams are the MCP servers presented as providers.
	Upstreams []Upstream `koanf:"upstreams"`
	// GRPC are the gRPC services whose methods are presented as tools, one provider
	// each (docs/grpc-tools.md).
	GRPC []GRPCService `koanf:"grpc"`
	// CallTimeout bounds one request to an upstream (tools/call included) unless the
	// upstream sets its own.
	CallTimeout time.Duration `koanf:"call_timeout"`
	// ConnectTimeout bounds connecting to an upstream and its handshake.
	ConnectTimeout time.Duration `koanf:"connect_timeout"`
	// PingInterval is how often a connected upstream is pinged; a failed ping ends the
	// connection and starts a reconnect (0: never, rely on the connection's end).
	PingInterval time.Duration `koanf:"ping_interval"`
	// ReconnectMin and ReconnectMax bound the backoff between reconnect attempts.
	ReconnectMin time.Duration `koanf:"reconnect_min"`
	ReconnectMax time.Duration `koanf:"reconnect_max"`
	// Breaker guards each upstream: after FailureThreshold consecutive failed calls
	// its calls fail at once for OpenTimeout.
	Breaker breaker.Settings `koanf:"breaker"`
	// Admin are the rules of the upstream admin API (adminsettings.go).
	Admin AdminSettings `koanf:"admin"`
	// CallerSessions bound the sessions the federation opens per caller with a
	// token_exchange upstream that keeps sessions (callersession.go).
	CallerSessions CallerSessionSettings `koanf:"caller_sessions"`
}

// CallerSessionSettings bound the callers' sessions of one token_exchange upstream.
type CallerSessionSettings struct {
	// Max is how many callers' sessions one upstream may have open; past it, the
	// least recently used idle one is closed.
	Max int `koanf:"max"`
	// IdleTimeout closes a caller's session unused for that long (shorter than the
	// upstream's own session timeout spares a refused request and a new handshake).
	IdleTimeout time.Duration `koanf:"idle_timeout"`
}

// Upstream is one upstream MCP server.
type Upstream struct {
	// Name is the provider's name in the mesh: 1-63 of [a-z0-9_-].
	Name string `koanf:"name"`
	// URL of a Streamable HTTP endpoint (either generation), or of a legacy
	// HTTP+SSE endpoint when Transport is "sse".
	URL string `koanf:"url"`
	// Transport for URL: "streamable" (default) or "sse" (the 2024-11-05 HTTP+SSE
	// transport).
	Transport string `koanf:"transport"`
	// Command starts a stdio upstream: the program and its arguments. The process is
	// restarted when it dies; its stderr goes to the log.
	Command []string `koanf:"command"`
	// Env adds NAME=value pairs to a stdio upstream's environment.
	Env []string `koanf:"env"`
	// Prefix renames tools and prompts to <prefix>__<name>; "" keeps their names.
	Prefix string `koanf:"prefix"`
	// Tools, Resources and Prompts filter what the mesh sees (resources and
	// templates by URI, tools and prompts by their upstream name).
	Tools     Filter `koanf:"tools"`
	Resources Filter `koanf:"resources"`
	Prompts   Filter `koanf:"prompts"`
	// Auth is how the federation authenticates to an HTTP upstream.
	Auth Auth `koanf:"auth"`
	// CallTimeout overrides federation.call_timeout for this upstream.
	CallTimeout time.Duration `koanf:"call_timeout"`
}

// Filter keeps the names matching any Include glob (all when empty) and none of the
// Exclude globs (path.Match syntax).
type Filter struct {
	Include []string `koanf:"include"`
	Exclude []string `koanf:"exclude"`
}

// Auth is an HTTP upstream's credentials; at most one kind.
type Auth struct {
	// BearerFile holds a static token sent as "Authorization: Bearer <token>".
	BearerFile string `koanf:"bearer_file"`
	// OAuth gets tokens by the OAuth 2.0 client credentials grant.
	OAuth OAuthClient `koanf:"oauth"`
	// TokenExchange gets, for each caller, a token of that caller for the upstream by
	// RFC 8693 token exchange of the caller's identity assertion (tokenexchange.go).
	TokenExchange TokenExchange `koanf:"token_exchange"`
}

// OAuthClient is an OAuth 2.0 client credentials grant.
type OAuthClient struct {
	TokenURL         string   `koanf:"token_url"`
	ClientID         string   `koanf:"client_id"`
	ClientSecretFile string   `koanf:"client_secret_file"`
	Scopes           []string `koanf:"scopes"`
	// Audience is sent as the "audience" parameter, and Resource as the RFC 8707
	// "resource" parameter, when set.
	Audience string `koanf:"audience"`
	Resource string `koanf:"resource"`
}

func (o OAuthClient) configured() bool { return o.TokenURL != "" || o.ClientID != "" }

// Transports of an HTTP upstream.
const (
	TransportStreamable = "streamable"
	TransportSSE        = "sse"
)

// DefaultConfig returns the defaults: no upstreams.
func DefaultConfig() Config {
	return Config{
		CallTimeout:    60 * time.Second,
		ConnectTimeout: 10 * time.Second,
		PingInterval:   15 * time.Second,
		ReconnectMin:   200 * time.Millisecond,
		ReconnectMax:   30 * time.Second,
		Breaker:        breaker.DefaultSettings(),
		CallerSessions: CallerSessionSettings{Max: 256, IdleTimeout: 5 * time.Minute},
	}
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.CallTimeout <= 0 {
		errs = append(errs, fmt.Errorf("federation.call_timeout: must be > 0, got %s", c.CallTimeout))
	}
	if c.ConnectTimeout <= 0 {
		errs = append(errs, fmt.Errorf("federation.connect_timeout: must be > 0, got %s", c.ConnectTimeout))
	}
	if c.PingInterval < 0 {
		errs = append(errs, fmt.Errorf("federation.ping_interval: must be >= 0, got %s", c.PingInterval))
	}
	if c.ReconnectMin <= 0 || c.ReconnectMax < c.ReconnectMin {
		errs = append(errs, fmt.Errorf("federation.reconnect_min/reconnect_max: need 0 < min <= max, got %s and %s", c.ReconnectMin, c.ReconnectMax))
	}
	errs = append(errs, c.Breaker.ValidateAt("federation.breaker"))
	if c.CallerSessions.Max < 1 {
		errs = append(errs, fmt.Errorf("federation.caller_sessions.max: must be >= 1, got %d", c.CallerSessions.Max))
	}
	if c.CallerSessions.IdleTimeout <= 0 {
		errs = append(errs, fmt.Errorf("federation.caller_sessions.idle_timeout: must be > 0, got %s", c.CallerSessions.IdleTimeout))
	}
	seen := map[string]bool{}
	for i, u := range c.Upstreams {
		at := fmt.Sprintf("federation.upstreams[%d]", i)
		if u.Name != "" {
			at = fmt.Sprintf("federation.upstreams[%d] (%s)", i, u.Name)
		}
		if seen[u.Name] {
			errs = append(errs, fmt.Errorf("%s.name: listed twice", at))
		}
		seen[u.Name] = true
		errs = append(errs, u.validate(at))
	}
	for i, g := range c.GRPC {
		at := fmt.Sprintf("federation.grpc[%d]", i)
		if g.Name != "" {
			at = fmt.Sprintf("federation.grpc[%d] (%s)", i, g.Name)
		}
		if seen[g.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is already the name of another upstream or gRPC service", at, g.Name))
		}
		seen[g.Name] = true
		errs = append(errs, g.Validate(at))
	}
	return errors.Join(errs...)
}

func (u Upstream) validate(at string) error {
	var errs []error
	if !isValidName(u.Name) {
		errs = append(errs, fmt.Errorf("%s.name: %q must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit", at, u.Name))
	}
	if u.Prefix != "" && !isValidName(u.Prefix) {
		errs = append(errs, fmt.Errorf("%s.prefix: %q must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit", at, u.Prefix))
	}
	switch {
	case u.URL == "" && len(u.Command) == 0:
		errs = append(errs, fmt.Errorf("%s: set url (HTTP) or command (stdio)", at))
	case u.URL != "" && len(u.Command) > 0:
		errs = append(errs, fmt.Errorf("%s: set url or command, not both", at))
	case u.URL != "":
		p, err := url.Parse(u.URL)
		switch {
		case err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "":
			errs = append(errs, fmt.Errorf("%s.url: %q must be an absolute http or https URL", at, u.URL))
		case p.User != nil:
			// config print shows the upstreams as they are: credentials go in files.
			errs = append(errs, fmt.Errorf("%s.url: must not carry credentials; use auth.bearer_file or auth.oauth", at))
		}
	}
	if u.Transport != "" && u.Transport != TransportStreamable && u.Transport != TransportSSE {
		errs = append(errs, fmt.Errorf("%s.transport: %q must be %q or %q", at, u.Transport, TransportStreamable, TransportSSE))
	}
	if u.Transport != "" && u.URL == "" {
		errs = append(errs, fmt.Errorf("%s.transport: only for an HTTP upstream (url)", at))
	}
	if u.CallTimeout < 0 {
		errs = append(errs, fmt.Errorf("%s.call_timeout: must be >= 0, got %s", at, u.CallTimeout))
	}
	for kind, f := range map[string]Filter{"tools": u.Tools, "resources": u.Resources, "prompts": u.Prompts} {
		for _, g := range append(append([]string(nil), f.Include...), f.Exclude...) {
			if _, err := path.Match(g, ""); err != nil {
				errs = append(errs, fmt.Errorf("%s.%s: bad glob %q: %w", at, kind, g, err))
			}
		}
	}
	errs = append(errs, u.Auth.validate(at, u.URL != ""))
	return errors.Join(errs...)
}

func (a Auth) validate(at string, http bool) error {
	var errs []error
	if kinds := a.kinds(); len(kinds) > 1 {
		errs = append(errs, fmt.Errorf("%s.auth: set one of bearer_file, oauth and token_exchange, not %s", at, strings.Join(kinds, " and ")))
	}
	if len(a.kinds()) > 0 && !http {
		errs = append(errs, fmt.Errorf("%s.auth: only an HTTP upstream (url) takes credentials", at))
	}
	errs = append(errs, a.TokenExchange.validate(at+".auth.token_exchange"))
	if o := a.OAuth; o.configured() {
		if p, err := url.Parse(o.TokenURL); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s.auth.oauth.token_url: %q must be an absolute http or https URL", at, o.TokenURL))
		}
		if o.ClientID == "" {
			errs = append(errs, fmt.Errorf("%s.auth.oauth.client_id: required", at))
		}
		if o.ClientSecretFile == "" {
			errs = append(errs, fmt.Errorf("%s.auth.oauth.client_secret_file: required", at))
		}
	}
	return errors.Join(errs...)
}

// isValidName accepts the short stable names the registry expects.
func isValidName(name string) bool {
	if name == "" || len(name) > 63 || name[0] == '-' || name[0] == '_' {
		return false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// ProviderNames are the names of every provider the federation serves: its upstreams
// and its gRPC services.
func (c Config) ProviderNames() []string {
	names := make([]string, 0, len(c.Upstreams)+len(c.GRPC))
	for _, u := range c.Upstreams {
		names = append(names, u.Name)
	}
	for _, g := range c.GRPC {
		names = append(names, g.Name)
	}
	return names
}
