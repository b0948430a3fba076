// Package meshconfig is the configuration of one mcpmesh process: which targets it
// runs, where its servers listen, where its peers are, and each service's own typed
// settings. It is loaded in layers by kit/config.
package meshconfig

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mcpmesh/mcpmesh/services/everything"
	"github.com/mcpmesh/mcpmesh/services/federation"
	"github.com/mcpmesh/mcpmesh/services/gateway"
	"github.com/mcpmesh/mcpmesh/services/health"
	"github.com/mcpmesh/mcpmesh/services/kit/logging"
	"github.com/mcpmesh/mcpmesh/services/kit/meshtls"
	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/registry"
	"github.com/mcpmesh/mcpmesh/services/session"
	"github.com/mcpmesh/mcpmesh/services/transport"
)

// Targets a process can run. "all" is every service plus the everything provider.
const (
	TargetAll                = "all"
	TargetGateway            = "gateway"
	TargetTransport          = "transport"
	TargetSession            = "session"
	TargetRegistry           = "registry"
	TargetHealth             = "health"
	TargetProviderEverything = "provider-everything"
	TargetFederation         = "federation"
)

// Services lists the targets that "all" expands to, in start order (dependencies first).
var Services = []string{TargetRegistry, TargetProviderEverything, TargetFederation, TargetSession, TargetTransport, TargetHealth, TargetGateway}

// Config is the whole configuration of a process.
type Config struct {
	// Target is a comma-separated list of targets, or "all".
	Target string         `koanf:"target"`
	Log    logging.Config `koanf:"log"`
	GRPC   GRPC           `koanf:"grpc"`
	// Peers are the gRPC addresses of services this process does not run itself.
	Peers      Peers             `koanf:"peers"`
	Gateway    gateway.Config    `koanf:"gateway"`
	Transport  transport.Config  `koanf:"transport"`
	Session    session.Config    `koanf:"session"`
	Registry   registry.Config   `koanf:"registry"`
	Health     health.Config     `koanf:"health"`
	Provider   Provider          `koanf:"provider"`
	Everything everything.Config `koanf:"everything"`
	// Federation is the upstream MCP servers presented as providers.
	Federation federation.Config `koanf:"federation"`
	// Database holds session and registry state when set; empty means in memory.
	Database  pgdb.Config `koanf:"database"`
	Telemetry Telemetry   `koanf:"telemetry"`
	Admin     Admin       `koanf:"admin"`
	// Auth is how callers authenticate and what they may do (docs/security.md).
	Auth Auth `koanf:"auth"`
	// VirtualServers are named selections of the catalogue, each served at
	// /mcp/<name> with rules of its own (docs/virtual-servers.md): the session service
	// enforces them, the gateway routes their names.
	VirtualServers []session.VirtualServer `koanf:"virtual_servers"`
}

// GRPC configures the process's gRPC server, shared by every gRPC target it runs.
type GRPC struct {
	Listen string `koanf:"listen"`
	// DefaultDeadline bounds unary calls that arrive without a deadline.
	DefaultDeadline time.Duration `koanf:"default_deadline"`
	// DrainDelay is how long the server reports NOT_SERVING before it drains, so load
	// balancers stop sending new calls first.
	DrainDelay time.Duration `koanf:"drain_delay"`
	// ShutdownTimeout bounds the graceful drain; calls still running then are cut.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// TLS is the process's certificate and trust for its gRPC server and its clients
	// (peers and providers), and who may call its services.
	TLS meshtls.Config `koanf:"tls"`
	// Plaintext allows gRPC without TLS on a listener or to peers that are not on
	// loopback: for a service mesh (Istio, Linkerd) that encrypts and authenticates
	// the traffic between pods itself. Without it such a process refuses to start.
	Plaintext bool `koanf:"plaintext"`
}

// Peers are the addresses of services run by other processes.
type Peers struct {
	Transport string `koanf:"transport"`
	Session   string `koanf:"session"`
	Registry  string `koanf:"registry"`
	Health    string `koanf:"health"`
}

// Provider configures how a provider target (provider-everything, federation)
// announces itself to the registry.
type Provider struct {
	// Advertise is the address the registry and sessions use to reach the provider;
	// empty means the gRPC listener's own address.
	Advertise string `koanf:"advertise"`
	// Lease is the registration lease the provider asks for.
	Lease time.Duration `koanf:"lease"`
}

// Default is the configuration of `mcpmesh` with no file, environment or flags: the
// whole mesh in one process on loopback.
func Default() Config {
	return Config{
		Target: TargetAll,
		Log:    logging.DefaultConfig(),
		GRPC: GRPC{
			Listen:          "127.0.0.1:9090",
			DefaultDeadline: 30 * time.Second,
			DrainDelay:      0,
			ShutdownTimeout: 15 * time.Second,
			TLS:             meshtls.DefaultConfig(),
		},
		Gateway:    gateway.DefaultConfig(),
		Transport:  transport.DefaultConfig(),
		Session:    session.DefaultConfig(),
		Registry:   registry.DefaultConfig(),
		Health:     health.DefaultConfig(),
		Provider:   Provider{Lease: 30 * time.Second},
		Everything: everything.DefaultConfig(),
		Federation: federation.DefaultConfig(),
		Database:   pgdb.DefaultConfig(),
		Telemetry:  defaultTelemetry(),
		Admin:      Admin{TLS: AdminTLS{ClientAuth: meshtls.ClientAuthRequire, AllowedPeers: []string{}}},
		Auth:       defaultAuth(),
	}
}

// GatewayConfig is the gateway's section with the top-level auth: section it depends on.
func (c Config) GatewayConfig() gateway.Config {
	g := c.Gateway
	g.Auth = c.Auth.Gateway()
	g.Auth.APIKeysInDatabase = c.Database.Enabled()
	for _, vs := range c.VirtualServers {
		g.VirtualServers = append(g.VirtualServers, vs.Name)
	}
	return g
}

// Authorization is the session service's part of the sections auth and
// virtual_servers.
func (c Config) Authorization() session.Authorization {
	a := c.Auth.Authorization()
	a.VirtualServers = c.VirtualServers
	return a
}

// Targets returns the expanded, ordered list of targets.
func (c Config) Targets() []string {
	var out []string
	for _, t := range strings.Split(c.Target, ",") {
		t = strings.TrimSpace(t)
		if t == TargetAll {
			return slices.Clone(Services)
		}
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	// Keep the dependency order whatever order the flag gave.
	slices.SortFunc(out, func(a, b string) int { return slices.Index(Services, a) - slices.Index(Services, b) })
	return out
}

// Runs reports whether the process runs target.
func (c Config) Runs(target string) bool { return slices.Contains(c.Targets(), target) }

// Validate reports every problem of the configuration together.
func (c Config) Validate() error {
	var errs []error
	targets := c.Targets()
	if len(targets) == 0 {
		errs = append(errs, errors.New("target: name at least one of all, "+strings.Join(Services, ", ")))
	}
	for _, t := range strings.Split(c.Target, ",") {
		if t = strings.TrimSpace(t); t != "" && t != TargetAll && !slices.Contains(Services, t) {
			errs = append(errs, fmt.Errorf("target: unknown target %q (want all or %s)", t, strings.Join(Services, ", ")))
		}
	}
	if err := c.Log.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Telemetry.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Admin.validate(); err != nil {
		errs = append(errs, err)
	}
	if c.GRPC.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("grpc.shutdown_timeout: must be > 0"))
	}
	if c.GRPC.DrainDelay < 0 {
		errs = append(errs, errors.New("grpc.drain_delay: must not be negative"))
	}
	errs = append(errs, c.validateTransportSecurity()...)
	// Each service needs its peers either in this process or at a configured address.
	needs := map[string][]string{
		TargetGateway:            {TargetTransport, TargetRegistry, TargetSession, TargetHealth},
		TargetTransport:          {TargetSession},
		TargetSession:            {TargetRegistry},
		TargetHealth:             {TargetRegistry},
		TargetProviderEverything: {TargetRegistry},
		TargetFederation:         {TargetRegistry},
	}
	for _, t := range targets {
		for _, peer := range needs[t] {
			if !c.Runs(peer) && c.PeerAddress(peer) == "" {
				errs = append(errs, fmt.Errorf("peers.%s: required, because target %s needs %s and this process does not run it", peer, t, peer))
			}
		}
	}
	checks := []struct {
		target string
		err    func() error
	}{
		{TargetSession, c.Authorization().Validate},
		{TargetGateway, c.GatewayConfig().Validate},
		{TargetTransport, c.Transport.Validate},
		{TargetSession, c.Session.Validate},
		{TargetRegistry, c.Registry.Validate},
		{TargetHealth, c.Health.Validate},
		{TargetProviderEverything, c.Everything.Validate},
		{TargetFederation, c.Federation.Validate},
	}
	for _, ch := range checks {
		if c.Runs(ch.target) {
			if err := ch.err(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if c.Database.Enabled() {
		if err := c.Database.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Runs(TargetProviderEverything) && c.Runs(TargetFederation) {
		// One process serves them all on its ProviderService, by name: a federated
		// provider named like the built-in one would replace it there.
		for _, name := range c.Federation.ProviderNames() {
			if name == c.Everything.Name {
				errs = append(errs, fmt.Errorf("federation: provider name %q is everything.name, the built-in provider's in this process; rename one", name))
			}
		}
	}
	if (c.Runs(TargetProviderEverything) || c.Runs(TargetFederation)) && c.Provider.Lease < 5*time.Second {
		errs = append(errs, errors.New("provider.lease: must be at least 5s"))
	}
	return errors.Join(distinct(errs)...)
}

// distinct drops repeated problems: a process that runs the gateway and the session
// service checks the names of virtual_servers in both.
func distinct(errs []error) []error {
	var out []error
	seen := map[string]bool{}
	var add func(error)
	add = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				add(e)
			}
			return
		}
		if !seen[err.Error()] {
			seen[err.Error()] = true
			out = append(out, err)
		}
	}
	for _, err := range errs {
		add(err)
	}
	return out
}

// PeerAddress is the configured address of a peer service.
func (c Config) PeerAddress(target string) string {
	switch target {
	case TargetTransport:
		return c.Peers.Transport
	case TargetSession:
		return c.Peers.Session
	case TargetRegistry:
		return c.Peers.Registry
	case TargetHealth:
		return c.Peers.Health
	}
	return ""
}

// RunsGRPC reports whether any target of the process serves gRPC (all but the gateway).
func (c Config) RunsGRPC() bool {
	for _, t := range c.Targets() {
		if t != TargetGateway {
			return true
		}
	}
	return false
}

// UsesDatabase reports whether a target of the process uses PostgreSQL when
// database.url is set: the session and registry services keep their state there, the
// health service reports it as the DATABASE component, and a gateway that accepts API
// keys reads them from it, and the federation keeps the upstreams of its admin API
// there.
func (c Config) UsesDatabase() bool {
	return c.Database.Enabled() && (c.Runs(TargetSession) || c.Runs(TargetRegistry) || c.Runs(TargetHealth) || c.Runs(TargetFederation) || c.APIKeysInDatabase())
}

// APIKeysInDatabase reports whether the process runs a gateway that reads its API keys
// from the database (the api_keys table of the session service's migrations).
func (c Config) APIKeysInDatabase() bool {
	return c.Database.Enabled() && c.Runs(TargetGateway) && c.Auth.Gateway().UsesAPIKeys()
}
