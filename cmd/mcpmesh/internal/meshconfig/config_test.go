package meshconfig

import (
	"slices"
	"strings"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/federation"
	"github.com/mcpmesh/mcpmesh/services/session"
)

func TestTargetsExpandInDependencyOrder(t *testing.T) {
	tests := []struct {
		target string
		want   []string
	}{
		{"all", Services},
		{"gateway,registry", []string{TargetRegistry, TargetGateway}},
		{" session , session ", []string{TargetSession}},
	}
	for _, tt := range tests {
		c := Default()
		c.Target = tt.target
		if got := c.Targets(); !slices.Equal(got, tt.want) {
			t.Errorf("Targets(%q) = %v, want %v", tt.target, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr []string // substrings; empty means valid
	}{
		{"default is valid", func(*Config) {}, nil},
		{"gateway alone needs its peers", func(c *Config) { c.Target = "gateway" },
			[]string{"peers.transport", "peers.registry", "peers.session", "peers.health"}},
		{"gateway with peers", func(c *Config) {
			c.Target = "gateway"
			c.Peers = Peers{Transport: "t:1", Registry: "r:1", Session: "s:1", Health: "h:1"}
			c.GRPC.Plaintext = true
		}, nil},
		{"plaintext to remote peers is refused", func(c *Config) {
			c.Target = "transport"
			c.Peers.Session = "session.mesh.svc:9090"
		}, []string{"peers.session: session.mesh.svc:9090 is not a loopback address", "grpc.plaintext: true"}},
		{"plaintext on every interface is refused", func(c *Config) { c.GRPC.Listen = "0.0.0.0:9090" },
			[]string{"grpc.listen: 0.0.0.0:9090 is not a loopback address"}},
		{"plaintext on every interface when a mesh encrypts", func(c *Config) {
			c.GRPC.Listen, c.GRPC.Plaintext = ":9090", true
		}, nil},
		{"TLS on every interface", func(c *Config) {
			c.GRPC.Listen = "0.0.0.0:9090"
			c.GRPC.TLS.CertFile, c.GRPC.TLS.KeyFile, c.GRPC.TLS.CAFile = "c.pem", "k.pem", "ca.pem"
			c.Target = "transport"
			c.Peers.Session = "session.mesh.svc:9090"
		}, nil},
		{"mutual TLS needs a CA", func(c *Config) { c.GRPC.TLS.CertFile, c.GRPC.TLS.KeyFile = "c.pem", "k.pem" },
			[]string{"grpc.tls.ca_file: required"}},
		{"admin mutual TLS needs a CA", func(c *Config) {
			c.Admin.Listen, c.Admin.TLS.CertFile, c.Admin.TLS.KeyFile = "127.0.0.1:9464", "c.pem", "k.pem"
		}, []string{"admin.tls.ca_file: required"}},
		{"admin allow-list without a certificate", func(c *Config) {
			c.Admin.Listen, c.Admin.TLS.AllowedPeers = "127.0.0.1:9464", []string{"spiffe://x/*"}
		}, []string{"admin.tls.cert_file: required"}},
		{"admin TLS without an admin listener", func(c *Config) {
			c.Admin.TLS.CertFile, c.Admin.TLS.KeyFile, c.Admin.TLS.CAFile = "c.pem", "k.pem", "ca.pem"
		}, []string{"admin.listen is empty"}},
		{"admin mutual TLS", func(c *Config) {
			c.Admin.Listen = "127.0.0.1:9464"
			c.Admin.TLS.CertFile, c.Admin.TLS.KeyFile, c.Admin.TLS.CAFile = "c.pem", "k.pem", "ca.pem"
		}, nil},
		{"API keys in the database need no file", func(c *Config) {
			c.Database.URL = "postgres://mcpmesh@127.0.0.1:5432/mcpmesh"
			c.Auth.Mode, c.Auth.APIKeys.PepperFile = "api_key", "pepper"
		}, nil},
		{"API keys in the database and a file", func(c *Config) {
			c.Database.URL = "postgres://mcpmesh@127.0.0.1:5432/mcpmesh"
			c.Auth.Mode, c.Auth.APIKeys.PepperFile, c.Auth.APIKeys.File = "api_key", "pepper", "keys.json"
		}, []string{"auth.api_keys.file: must be empty with database.url set"}},
		{"unknown service in service_peers", func(c *Config) { c.GRPC.TLS.ServicePeers = map[string][]string{"frontend": {"x"}} },
			[]string{"grpc.tls.service_peers.frontend: unknown target"}},
		{"transport needs session", func(c *Config) { c.Target = "transport" }, []string{"peers.session"}},
		{"registry alone needs nothing", func(c *Config) { c.Target = "registry" }, nil},
		{"unknown target", func(c *Config) { c.Target = "registry,frontend" }, []string{`"frontend"`}},
		{"empty target", func(c *Config) { c.Target = " , " }, []string{"target:"}},
		{"bad shutdown", func(c *Config) { c.GRPC.ShutdownTimeout = 0 }, []string{"grpc.shutdown_timeout"}},
		{"a federated provider named like the built-in one", func(c *Config) {
			c.Federation.GRPC = []federation.GRPCService{{Name: "everything", Address: "127.0.0.1:9000", Plaintext: true, Services: []string{"grpc.health.v1.Health"}}}
		}, []string{`federation: provider name "everything" is everything.name`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

// TestVirtualServerConfigErrors: virtual_servers is checked for the gateway (names,
// their metadata paths) and the session service (selections, rules) at load, every
// problem at once and each once, whichever of the two the process runs.
func TestVirtualServerConfigErrors(t *testing.T) {
	bad := []session.VirtualServer{
		{Name: "Finance", Tools: []string{"*"}},
		{Name: "ops", Tools: []string{"*"}},
		{Name: "ops", Prompts: []string{"*"}},
		{Name: "nothing"},
		{Name: "rules", Tools: []string{"*"}, Policy: session.PolicyConfig{Default: "maybe"}},
	}
	for _, target := range []string{"all", "gateway", "session"} {
		t.Run(target, func(t *testing.T) {
			c := Default()
			c.Target = target
			c.Peers = Peers{Transport: "127.0.0.1:1", Registry: "127.0.0.1:1", Session: "127.0.0.1:1", Health: "127.0.0.1:1"}
			c.VirtualServers = bad
			err := c.Validate()
			if err == nil {
				t.Fatal("want an error")
			}
			want := []string{`virtual_servers[0] `, `name "Finance" may hold only`, `virtual_servers[2]`, `"ops" is the name of an earlier virtual server`}
			if target != "gateway" {
				want = append(want, `virtual_servers[3] (nothing): selects no tools, resources or prompts`, `virtual_servers[4] (rules).policy.default: "maybe"`)
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %s:\n%v", w, err)
				}
			}
			if n := strings.Count(err.Error(), `"ops" is the name of an earlier virtual server`); n != 1 {
				t.Errorf("the repeated name is reported %d times:\n%v", n, err)
			}
		})
	}
	c := Default()
	c.VirtualServers = []session.VirtualServer{{Name: "reports", Tools: []string{"*"}}}
	c.Auth.Mode, c.Auth.OAuth.Issuer, c.Auth.OAuth.Resource = "oauth", "https://idp.example.com", "https://mesh.example.com/mcp/reports"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `"reports" would serve its metadata at /.well-known/oauth-protected-resource/mcp/reports`) {
		t.Errorf("a name that collides with the mesh's metadata: %v", err)
	}
	c.VirtualServers[0].Name = "finance"
	if err := c.Validate(); err != nil {
		t.Errorf("a good virtual server: %v", err)
	}
}
