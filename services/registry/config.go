package registry

import (
	"errors"
	"fmt"
	"time"
)

// Config is the registry's configuration (the "registry" section).
type Config struct {
	// LeaseSeconds is the lease granted when a provider asks for none.
	LeaseSeconds int `koanf:"lease_seconds"`
	// MaxLeaseSeconds caps the lease a provider may ask for.
	MaxLeaseSeconds int `koanf:"max_lease_seconds"`
	// SweepInterval is how often expired leases are removed.
	SweepInterval time.Duration `koanf:"sweep_interval"`
	// DescribeTimeout bounds each call to a provider's Describe.
	DescribeTimeout time.Duration `koanf:"describe_timeout"`
	// RefreshInterval is how often a replica whose records are shared (PostgreSQL)
	// re-reads them. Replicas announce their changes to each other with PostgreSQL
	// notifications, so this only bounds the delay of a change whose notification was
	// lost (while a listener reconnects).
	RefreshInterval time.Duration `koanf:"refresh_interval"`
	// DefaultPageSize is the page size of list calls that ask for none.
	DefaultPageSize int `koanf:"default_page_size"`
	// Providers are configured statically: described at start, never expiring.
	Providers []StaticProvider `koanf:"providers"`
	// ProviderIdentities restricts registration over the network, when set: a provider
	// name maps to the identity pattern (certificate URI or DNS SAN, "*" within a
	// segment) allowed to register it; the name "*" covers names not listed. A name
	// with no entry cannot be registered. Empty: any caller the gRPC allow-list admits.
	ProviderIdentities map[string]string `koanf:"provider_identities"`
}

// StaticProvider is a provider known from configuration rather than registration.
type StaticProvider struct {
	Name    string `koanf:"name"`
	Address string `koanf:"address"`
}

// Limits that are not configurable.
const (
	minLeaseSeconds = 5
	maxPageSize     = 1000
)

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		LeaseSeconds:       30,
		MaxLeaseSeconds:    300,
		SweepInterval:      time.Second,
		DescribeTimeout:    5 * time.Second,
		RefreshInterval:    2 * time.Second,
		DefaultPageSize:    100,
		ProviderIdentities: map[string]string{},
	}
}

// Validate reports every problem at once, each naming its key.
func (c Config) Validate() error {
	var errs []error
	problem := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("registry.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.MaxLeaseSeconds < minLeaseSeconds {
		problem("max_lease_seconds", "must be >= %d", minLeaseSeconds)
	}
	if c.LeaseSeconds < minLeaseSeconds || c.LeaseSeconds > c.MaxLeaseSeconds {
		problem("lease_seconds", "must be between %d and max_lease_seconds (%d)", minLeaseSeconds, c.MaxLeaseSeconds)
	}
	if c.SweepInterval <= 0 {
		problem("sweep_interval", "must be > 0")
	}
	if c.RefreshInterval <= 0 {
		problem("refresh_interval", "must be > 0")
	}
	if c.DescribeTimeout <= 0 {
		problem("describe_timeout", "must be > 0")
	}
	if c.DefaultPageSize < 1 || c.DefaultPageSize > maxPageSize {
		problem("default_page_size", "must be between 1 and %d", maxPageSize)
	}
	seen := map[string]bool{}
	for i, p := range c.Providers {
		key := fmt.Sprintf("providers[%d]", i)
		if err := validateProviderName(p.Name); err != nil {
			problem(key+".name", "%v", err)
		} else if seen[p.Name] {
			problem(key+".name", "%q is configured twice", p.Name)
		}
		seen[p.Name] = true
		if err := validateAddress(p.Address); err != nil {
			problem(key+".address", "%v", err)
		}
	}
	return errors.Join(errs...)
}
