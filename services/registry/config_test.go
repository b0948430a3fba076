package registry

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
)

func TestDefaultConfigIsValid(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.LeaseSeconds != 30 || cfg.MaxLeaseSeconds != 300 || cfg.SweepInterval != time.Second ||
		cfg.DescribeTimeout != 5*time.Second || cfg.DefaultPageSize != 100 {
		t.Fatalf("defaults changed: %+v", cfg)
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		keys   []string
	}{
		{"lease below minimum", func(c *Config) { c.LeaseSeconds = 1 }, []string{"registry.lease_seconds"}},
		{"lease above max", func(c *Config) { c.LeaseSeconds = 301 }, []string{"registry.lease_seconds"}},
		{"max lease too small", func(c *Config) { c.MaxLeaseSeconds = 2 }, []string{"registry.max_lease_seconds", "registry.lease_seconds"}},
		{"durations", func(c *Config) { c.SweepInterval, c.DescribeTimeout = 0, -1 },
			[]string{"registry.sweep_interval", "registry.describe_timeout"}},
		{"page size", func(c *Config) { c.DefaultPageSize = 1001 }, []string{"registry.default_page_size"}},
		{"static providers", func(c *Config) {
			c.Providers = []StaticProvider{{Name: "ok", Address: "inproc"}, {Name: "ok", Address: "host:1"}, {Name: "Bad", Address: ""}}
		}, []string{"registry.providers[1].name", "registry.providers[2].name", "registry.providers[2].address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.mutate(&cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatal("want an error")
			}
			for _, k := range tt.keys {
				if !strings.Contains(err.Error(), k+":") {
					t.Errorf("error %q does not name %s", err, k)
				}
			}
		})
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	bad := DefaultConfig()
	bad.DescribeTimeout = 0
	if _, err := New(bad, Deps{Conns: nilConns{}}); err == nil || !strings.Contains(err.Error(), "describe_timeout") {
		t.Fatalf("New with bad config: %v", err)
	}
	if _, err := New(DefaultConfig(), Deps{}); err == nil || !strings.Contains(err.Error(), "Conns") {
		t.Fatalf("New without Conns: %v", err)
	}
}

func TestValidateAddress(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"inproc", true},
		{"inproc:everything", true},
		{"localhost:8080", true},
		{"10.0.0.1:443", true},
		{"[::1]:9000", true},
		{"provider.default.svc.cluster.local:50051", true},
		{"", false},
		{"inproc:", false},
		{"localhost", false},
		{":8080", false},
		{"host:0", false},
		{"host:http", false},
		{"host: 80", false},
		{"a b:80", false},
	}
	for _, tt := range tests {
		if err := validateAddress(tt.addr); (err == nil) != tt.ok {
			t.Errorf("validateAddress(%q) = %v, want ok=%v", tt.addr, err, tt.ok)
		}
	}
}

type nilConns struct{}

func (nilConns) Conn(string) (grpc.ClientConnInterface, error) { return nil, nil }
