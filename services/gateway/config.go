package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Config holds the gateway's settings.
type Config struct {
	// Listen is the HTTP listen address.
	Listen string `koanf:"listen"`
	// MaxBodyBytes bounds the body of a POST to /mcp.
	MaxBodyBytes int64 `koanf:"max_body_bytes"`
	// AllowedOrigins lists the Origin values (scheme://host[:port]) that may call /mcp
	// besides the same origin as the Host header. "*" allows every origin.
	AllowedOrigins []string `koanf:"allowed_origins"`
	// KeepaliveInterval is how long an SSE stream may stay silent before the gateway
	// writes a comment line, so proxies do not close it.
	KeepaliveInterval time.Duration `koanf:"keepalive_interval"`
	// ReadHeaderTimeout bounds reading request headers (slow-loris protection).
	ReadHeaderTimeout time.Duration `koanf:"read_header_timeout"`
	// IdleTimeout closes idle keep-alive connections.
	IdleTimeout time.Duration `koanf:"idle_timeout"`
	// ShutdownTimeout bounds the drain of in-flight requests at shutdown.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
}

// DefaultConfig binds loopback (the MCP spec asks local servers to) with a 4 MiB body
// limit and a keepalive below common proxy idle timeouts (30 s and more).
func DefaultConfig() Config {
	return Config{
		Listen:            "127.0.0.1:8080",
		MaxBodyBytes:      4 << 20,
		AllowedOrigins:    []string{},
		KeepaliveInterval: 25 * time.Second,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ShutdownTimeout:   15 * time.Second,
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
	for i, o := range c.AllowedOrigins {
		if err := validateOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("gateway.allowed_origins[%d]: %w", i, err))
		}
	}
	positive := []struct {
		key string
		d   time.Duration
	}{
		{"gateway.keepalive_interval", c.KeepaliveInterval},
		{"gateway.read_header_timeout", c.ReadHeaderTimeout},
		{"gateway.idle_timeout", c.IdleTimeout},
		{"gateway.shutdown_timeout", c.ShutdownTimeout},
	}
	for _, p := range positive {
		if p.d <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be > 0", p.key))
		}
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
