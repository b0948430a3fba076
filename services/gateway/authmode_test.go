package gateway_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"github.com/mcpmesh/mcpmesh/services/gateway"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// With no auth configured the gateway serves loopback only; anything else needs an
// explicit auth.mode, none included, and the error says so in one line.
func TestAuthModeGuardsNonLoopback(t *testing.T) {
	tests := []struct {
		name, listen, mode string
		want               string // a substring of the error; empty for none
	}{
		{"loopback, not configured", "127.0.0.1:0", "", ""},
		{"localhost, not configured", "localhost:8080", "", ""},
		{"ipv6 loopback, not configured", "[::1]:8080", "", ""},
		{"all interfaces, not configured", ":8080", "", "auth.mode: gateway.listen :8080 is not a loopback address"},
		{"public address, not configured", "0.0.0.0:8080", "", "set auth.mode to oauth, api_key or oauth+api_key, or to none"},
		{"all interfaces, none explicit", "0.0.0.0:8080", "none", ""},
		{"unknown mode", "127.0.0.1:0", "basic", `auth.mode: unknown mode "basic"`},
		{"oauth without issuer", "127.0.0.1:0", "oauth", "auth.oauth.issuer: required"},
		{"api keys without pepper", "127.0.0.1:0", "api_key", "auth.api_keys.pepper_file: required"},
		{"api keys without a file or a database", "127.0.0.1:0", "api_key", "auth.api_keys.file: required in mode api_key without a database"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := gateway.DefaultConfig()
			cfg.Listen, cfg.Auth.Mode = tc.listen, tc.mode
			err := cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			if strings.Count(err.Error(), "\n") > 0 && tc.mode == "" {
				t.Fatalf("want one line, got %q", err)
			}
		})
	}
}

// With a database the keys are kept there: a key file as well is refused (which store
// counts would be a guess), and none is needed.
func TestAPIKeysInDatabaseConfig(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.Auth.Mode, cfg.Auth.APIKeys.PepperFile, cfg.Auth.APIKeysInDatabase = "api_key", "/run/secrets/pepper", true
	if err := cfg.Validate(); err != nil {
		t.Fatalf("keys in the database, no file: %v", err)
	}
	cfg.Auth.APIKeys.File = "/var/lib/mcpmesh/apikeys.json"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "auth.api_keys.file: must be empty with database.url set") {
		t.Fatalf("keys in the database and a file: %v", err)
	}
	cfg.Auth.APIKeys.File, cfg.Auth.APIKeys.MaxStaleness = "", 0
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "auth.api_keys.max_staleness") {
		t.Fatalf("no staleness bound: %v", err)
	}
	// The gateway refuses to start without the follower the mesh hands it.
	cfg.Auth.APIKeys.MaxStaleness = time.Second
	if _, err := gateway.New(cfg, gateway.Deps{Transport: transportv1.NewTransportServiceClient(nil)}); err == nil || !strings.Contains(err.Error(), "Deps.APIKeys") {
		t.Fatalf("New without Deps.APIKeys: %v", err)
	}
}

// Without authentication every request still acts for a principal: the anonymous one.
func TestAnonymousPrincipalReachesTheTransport(t *testing.T) {
	for _, mode := range []string{"", "none"} {
		t.Run("mode="+mode, func(t *testing.T) {
			h := newHarness(t, harnessOptions{inProcess: true, configure: func(c *gateway.Config) { c.Auth.Mode = mode }})
			resp, body := h.do(h.request(http.MethodPost, "/mcp", rpc("json"), mcpHeaders(map[string]string{
				"Authorization": "Bearer whatever", // ignored without authentication
			})))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := h.transport.principal(); got != principal.Anonymous {
				t.Fatalf("the transport saw principal %+v, want principal.Anonymous", got)
			}
		})
	}
}
