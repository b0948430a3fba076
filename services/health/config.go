package health

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Config is the health service's settings.
type Config struct {
	// Services maps a service name (transport, session, registry, gateway, ...) to its
	// gRPC target ("host:port" or "inproc"), or for an HTTP-only service such as the
	// gateway, to a base URL whose /healthz is fetched.
	Services map[string]string `koanf:"services"`
	// CheckInterval is the time between the starts of two check rounds.
	CheckInterval time.Duration `koanf:"check_interval"`
	// CheckTimeout bounds one round, and so every check in it. It may exceed
	// CheckInterval: a slow round then delays the next one instead of overlapping it.
	CheckTimeout time.Duration `koanf:"check_timeout"`
	// ProvidersFromRegistry lists providers through the registry every round and checks
	// each one's grpc.health.v1.
	ProvidersFromRegistry bool `koanf:"providers_from_registry"`
}

// DefaultConfig checks every 5s with a 2s timeout and checks registered providers.
func DefaultConfig() Config {
	return Config{
		Services:              map[string]string{},
		CheckInterval:         5 * time.Second,
		CheckTimeout:          2 * time.Second,
		ProvidersFromRegistry: true,
	}
}

// Validate reports every problem at once, each naming its key.
func (c Config) Validate() error {
	var errs []error
	if c.CheckInterval <= 0 {
		errs = append(errs, errors.New("health.check_interval: must be > 0"))
	}
	if c.CheckTimeout <= 0 {
		errs = append(errs, errors.New("health.check_timeout: must be > 0"))
	}
	// Sorted so that the report is stable.
	names := make([]string, 0, len(c.Services))
	for name := range c.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := validateService(name, c.Services[name]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func validateService(name, target string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("health.services: service name must not be empty")
	}
	key := "health.services." + name
	switch {
	case strings.TrimSpace(target) == "":
		return fmt.Errorf("%s: target must not be empty", key)
	case strings.ContainsAny(target, " \t\r\n"):
		return fmt.Errorf("%s: target %q must not contain spaces", key, target)
	case isHTTPURL(target):
		u, err := url.Parse(target)
		if err != nil || u.Host == "" {
			return fmt.Errorf("%s: %q is not a valid http URL", key, target)
		}
	}
	return nil
}

// isHTTPURL reports whether target is checked over HTTP (GET <target>/healthz) rather
// than grpc.health.v1.
func isHTTPURL(target string) bool {
	return strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://")
}
