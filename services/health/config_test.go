package health_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/health"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*health.Config)
		// want lists substrings that must each appear; empty means valid.
		want []string
	}{
		{name: "defaults", modify: func(*health.Config) {}},
		{
			name: "services of every kind",
			modify: func(c *health.Config) {
				c.Services = map[string]string{"transport": "127.0.0.1:9001", "session": "inproc", "gateway": "http://127.0.0.1:8080"}
			},
		},
		{
			name:   "timeout longer than interval is allowed",
			modify: func(c *health.Config) { c.CheckInterval, c.CheckTimeout = time.Second, 3*time.Second },
		},
		{
			name:   "zero interval",
			modify: func(c *health.Config) { c.CheckInterval = 0 },
			want:   []string{"health.check_interval: must be > 0"},
		},
		{
			name: "everything wrong at once",
			modify: func(c *health.Config) {
				c.CheckInterval = -time.Second
				c.CheckTimeout = 0
				c.Services = map[string]string{
					"":          "127.0.0.1:1",
					"session":   "",
					"transport": "127.0.0.1 :1",
					"gateway":   "http://",
				}
			},
			want: []string{
				"health.check_interval: must be > 0",
				"health.check_timeout: must be > 0",
				"health.services: service name must not be empty",
				"health.services.session: target must not be empty",
				"health.services.transport: target \"127.0.0.1 :1\" must not contain spaces",
				"health.services.gateway: \"http://\" is not a valid http URL",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := health.DefaultConfig()
			tt.modify(&cfg)
			err := cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want %d problems", len(tt.want))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate error %q lacks %q", err, w)
				}
			}
			if got := len(strings.Split(err.Error(), "\n")); got != len(tt.want) {
				t.Errorf("Validate reported %d problems, want %d: %v", got, len(tt.want), err)
			}
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	c := health.DefaultConfig()
	if c.CheckInterval != 5*time.Second || c.CheckTimeout != 2*time.Second || !c.ProvidersFromRegistry {
		t.Fatalf("DefaultConfig = %+v", c)
	}
}
