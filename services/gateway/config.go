package gateway

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config holds the gateway's settings.
type Config struct {
	// Listen is the HTTP listen address.
	Listen string `koanf:"listen"`
	// MaxBodyBytes bounds the body of a POST to /mcp, /messages and the REST API.
	MaxBodyBytes int64 `koanf:"max_body_bytes"`
	// AllowedOrigins lists the Origin values (scheme://host[:port]) that may call /mcp
	// besides the same origin as the Host header. "*" allows every origin.
	AllowedOrigins []string `koanf:"allowed_origins"`
	// AllowedHosts lists Host header values (host, or host:port for one port) that may
	// call /mcp. On a loopback listen address localhost, 127.0.0.1 and [::1] are always
	// allowed and every other Host gets 403 (DNS-rebinding protection); on other
	// addresses an empty list allows every Host. "*" turns the check off.
	AllowedHosts []string `koanf:"allowed_hosts"`
	// KeepaliveInterval is how long an SSE stream may stay silent before the gateway
	// writes a comment line, so proxies do not close it.
	KeepaliveInterval time.Duration `koanf:"keepalive_interval"`
	// ReadHeaderTimeout bounds reading request headers (slow-loris protection).
	ReadHeaderTimeout time.Duration `koanf:"read_header_timeout"`
	// IdleTimeout closes idle keep-alive connections.
	IdleTimeout time.Duration `koanf:"idle_timeout"`
	// ShutdownTimeout bounds the drain of in-flight requests at shutdown.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// DrainDelay is how long /readyz reports not ready, with the listener still
	// accepting, before the drain starts: load balancers and Kubernetes endpoints take
	// that long to stop sending new requests to this replica.
	DrainDelay time.Duration `koanf:"drain_delay"`
	// AccessLog writes one info line per request on /mcp and /v1 when it ends.
	AccessLog bool `koanf:"access_log"`
	// RateLimit bounds the request rate of this replica on /mcp and /v1.
	RateLimit RateLimitConfig `koanf:"rate_limit"`
	// Admission bounds the POST exchanges on /mcp that run at once.
	Admission AdmissionConfig `koanf:"admission"`
	// Auth is the top-level auth: section (not a gateway.* key): the mesh's
	// configuration copies it here, because how the gateway may listen depends on it.
	Auth AuthConfig `koanf:"-"`
	// VirtualServers are the names of the top-level section virtual_servers (not a
	// gateway.* key), each served at /mcp/<name> and /v1/servers/<name>/.
	VirtualServers []string `koanf:"-"`
	// Limits bound each caller, beside the replica's RateLimit.
	Limits LimitsConfig `koanf:"limits"`
	// CORS lets pages of the listed origins call the gateway from a browser.
	CORS CORSConfig `koanf:"cors"`
	// TLS serves HTTPS on the listener; files reloaded on change.
	TLS TLSConfig `koanf:"tls"`
}

// LimitsConfig holds the per-caller limits.
type LimitsConfig struct {
	PerPrincipal PrincipalLimits `koanf:"per_principal"`
}

// PrincipalLimits bound each principal (the authenticated caller; every anonymous
// request shares one) on /mcp, /sse, /messages and /v1, answering 429 with Retry-After.
type PrincipalLimits struct {
	// RPS is each principal's token bucket refill rate; 0 turns it off.
	RPS float64 `koanf:"rps"`
	// Burst is the bucket size; 0 means RPS rounded up.
	Burst int `koanf:"burst"`
	// Concurrency bounds each principal's requests at once (GET streams exempt); 0
	// turns it off.
	Concurrency int `koanf:"concurrency"`
}

// CORSConfig is cross-origin access from browsers.
type CORSConfig struct {
	// AllowedOrigins (scheme://host[:port]) get CORS headers and preflight answers;
	// empty: no CORS at all.
	AllowedOrigins []string `koanf:"allowed_origins"`
}

// TLSConfig is the gateway listener's certificate.
type TLSConfig struct {
	// CertFile and KeyFile are PEM files; both set serves HTTPS (reloaded on change).
	CertFile string `koanf:"cert_file"`
	KeyFile  string `koanf:"key_file"`
}

// RateLimitConfig is one token bucket per gateway replica, shared by /mcp and /v1.
type RateLimitConfig struct {
	// RequestsPerSecond is the bucket's refill rate; 0 turns the limit off.
	RequestsPerSecond float64 `koanf:"requests_per_second"`
	// Burst is how many requests may arrive at once above the rate; 0 means the rate
	// rounded up (at least 1).
	Burst int `koanf:"burst"`
}

// burst is the bucket size to use.
func (c RateLimitConfig) burst() int {
	if c.Burst > 0 {
		return c.Burst
	}
	return max(1, int(math.Ceil(c.RequestsPerSecond)))
}

// AdmissionConfig bounds how many POST exchanges are active at once; the others wait
// in arrival order (see internal/mcphttp/admission.go for why this helps latency).
type AdmissionConfig struct {
	// MaxInFlightPerCPU is the number of active exchanges per CPU (GOMAXPROCS).
	MaxInFlightPerCPU int `koanf:"max_in_flight_per_cpu"`
	// QueueTimeout is how long an exchange keeps its slot at most: a slower one (a
	// slow tool, a long event stream) gives it up, so it never holds the others back.
	QueueTimeout time.Duration `koanf:"queue_timeout"`
}

// DefaultConfig binds loopback (the MCP spec asks local servers to) with a 4 MiB body
// limit and a keepalive below common proxy idle timeouts (30 s and more).
func DefaultConfig() Config {
	return Config{
		Listen:            "127.0.0.1:8080",
		MaxBodyBytes:      4 << 20,
		AllowedOrigins:    []string{},
		AllowedHosts:      []string{},
		KeepaliveInterval: 25 * time.Second,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ShutdownTimeout:   15 * time.Second,
		AccessLog:         true,
		// No limit by default: one replica cannot know what the deployment behind it
		// can take. Operators set it from a load test (see docs/performance.md).
		RateLimit: RateLimitConfig{RequestsPerSecond: 0, Burst: 0},
		// 32 per CPU and 50 ms: measured on 2 cores (see internal/mcphttp/admission.go).
		Admission: AdmissionConfig{MaxInFlightPerCPU: 32, QueueTimeout: 50 * time.Millisecond},
		Auth:      DefaultAuthConfig(),
		CORS:      CORSConfig{AllowedOrigins: []string{}},
	}
}

// Validate reports every problem at once, each naming its key.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("gateway.listen: want host:port: %w", err))
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("gateway.max_body_bytes: must be > 0"))
	}
	if c.DrainDelay < 0 {
		errs = append(errs, errors.New("gateway.drain_delay: must not be negative"))
	}
	for i, o := range c.AllowedOrigins {
		if err := validateOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("gateway.allowed_origins[%d]: %w", i, err))
		}
	}
	for i, h := range c.AllowedHosts {
		if err := validateHost(h); err != nil {
			errs = append(errs, fmt.Errorf("gateway.allowed_hosts[%d]: %w", i, err))
		}
	}
	errs = append(errs, validateVirtualServers(c.VirtualServers, c.Auth.OAuth.Resource)...)
	positive := []struct {
		key string
		d   time.Duration
	}{
		{"gateway.keepalive_interval", c.KeepaliveInterval},
		{"gateway.read_header_timeout", c.ReadHeaderTimeout},
		{"gateway.idle_timeout", c.IdleTimeout},
		{"gateway.shutdown_timeout", c.ShutdownTimeout},
		{"gateway.admission.queue_timeout", c.Admission.QueueTimeout},
	}
	for _, p := range positive {
		if p.d <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be > 0", p.key))
		}
	}
	if c.RateLimit.RequestsPerSecond < 0 || math.IsNaN(c.RateLimit.RequestsPerSecond) || math.IsInf(c.RateLimit.RequestsPerSecond, 0) {
		errs = append(errs, errors.New("gateway.rate_limit.requests_per_second: must be a number >= 0 (0 turns the limit off)"))
	}
	if c.RateLimit.Burst < 0 {
		errs = append(errs, errors.New("gateway.rate_limit.burst: must be >= 0 (0 means the rate, rounded up)"))
	}
	for i, o := range c.CORS.AllowedOrigins {
		switch err := validateOrigin(o); {
		case o == "*":
			errs = append(errs, fmt.Errorf("gateway.cors.allowed_origins[%d]: name each origin (scheme://host[:port]); a wildcard is not allowed", i))
		case err != nil:
			errs = append(errs, fmt.Errorf("gateway.cors.allowed_origins[%d]: %w", i, err))
		}
	}
	if l := c.Limits.PerPrincipal; l.RPS < 0 || math.IsNaN(l.RPS) || math.IsInf(l.RPS, 0) || l.Burst < 0 || l.Concurrency < 0 {
		errs = append(errs, errors.New("gateway.limits.per_principal: rps, burst and concurrency must be >= 0 (0 turns a bound off)"))
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("gateway.tls.cert_file and gateway.tls.key_file: set both or neither"))
	}
	if c.Admission.MaxInFlightPerCPU <= 0 {
		errs = append(errs, errors.New("gateway.admission.max_in_flight_per_cpu: must be > 0"))
	}
	if err := c.Auth.validate(c.Listen); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validateOrigin accepts "*" or a bare scheme://host[:port] origin, as browsers send it.
func validateOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil {
		return fmt.Errorf("%q is not an origin: %w", o, err)
	}
	if u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("%q is not an origin: want scheme://host[:port]", o)
	}
	if strings.HasSuffix(o, "/") {
		return fmt.Errorf("%q is not an origin: drop the trailing slash", o)
	}
	return nil
}

// validateHost accepts "*" or a Host header value: a name or IP, with an optional
// numeric port; IPv6 addresses in brackets when a port follows ("[::1]:8080").
func validateHost(h string) error {
	if h == "*" {
		return nil
	}
	if h == "" || strings.ContainsAny(h, "/?#@ \t") {
		return fmt.Errorf("%q is not a host: want host or host:port", h)
	}
	if net.ParseIP(h) != nil {
		return nil // a bare IPv4 or IPv6 address
	}
	name, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 || net.ParseIP(h[1:end]) == nil {
			return fmt.Errorf("%q is not a host: want [IPv6] or [IPv6]:port", h)
		}
		name, port = h[1:end], h[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return fmt.Errorf("%q is not a host: want [IPv6]:port", h)
		}
		port = strings.TrimPrefix(port, ":")
		if port == "" && strings.HasSuffix(h, ":") {
			return fmt.Errorf("%q is not a host: empty port", h)
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
		name, port = h[:i], h[i+1:]
		if port == "" {
			return fmt.Errorf("%q is not a host: empty port", h)
		}
	}
	if name == "" || (strings.Contains(name, ":") && net.ParseIP(name) == nil) {
		return fmt.Errorf("%q is not a host: want host or host:port", h)
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q is not a host: port must be 1-65535", h)
		}
	}
	return nil
}
