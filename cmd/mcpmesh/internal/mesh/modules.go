package mesh

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mcpmesh/mcpmesh/services/kit/lifecycle"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
)

// Internal modules: parts of a process that are not targets of their own.
const (
	moduleAdmin           = "admin"                 // the admin HTTP listener (/metrics, /loglevel)
	moduleGRPCServer      = "grpc-server"           // the gRPC server; its stop is the drain
	moduleGRPCServing     = "grpc-serving"          // accepting gRPC connections; its stop is NOT_SERVING and the drain delay
	moduleDependencyWatch = "dependency-watch"      // grpc.health.v1 statuses that follow what services depend on
	moduleRegistration    = "provider-registration" // the everything provider's lease with the registry
	moduleAPIKeys         = "api-keys"              // this replica's copy of the database's API keys
)

// module is one row of the process's module table: a part that starts after its
// dependencies and stops before them.
type module struct {
	name string
	// deps start before this module and stop after it. A dependency the process
	// does not run (a target served by a peer, an internal module not needed) only
	// orders nothing: a target never pulls in another target.
	deps []string
	// runs reports whether the process of cfg runs the module.
	runs func(cfg meshconfig.Config) bool
	// init builds the module's service (services are built, and register their gRPC
	// services, in dependency order, before anything starts).
	init func(m *Mesh) (*lifecycle.Service, error)
}

// target is the runs function of a target module.
func target(name string) func(meshconfig.Config) bool {
	return func(cfg meshconfig.Config) bool { return cfg.Runs(name) }
}

// grpcServices are the targets that serve gRPC.
var grpcServices = []string{
	meshconfig.TargetRegistry, meshconfig.TargetProviderEverything, meshconfig.TargetSession,
	meshconfig.TargetTransport, meshconfig.TargetHealth,
}

// modules is the table of every module, in an order that already respects the
// dependencies (resolve checks it). Reversed, it is the shutdown order:
//
//  1. gateway: readiness off, gateway.drain_delay, GET streams ended, HTTP drained;
//     then api-keys (with a database): the keys' last uses written;
//  2. federation, provider-registration: the providers deregistered (the
//     federation's upstream connections closed, its stdio upstreams ended);
//  3. dependency-watch: statuses no longer follow dependencies;
//  4. grpc-serving: every gRPC service NOT_SERVING, then the drain delay for load
//     balancers;
//  5. health, transport, session, provider-everything, registry: each service
//     stopped, which ends its long-lived streams (catalogue and resource watches,
//     listen streams) so that the drain does not wait for them;
//  6. grpc-server: GracefulStop, bounded by a hard-stop timer;
//  7. admin: last, so the process's final state can still be scraped.
//
// Connections, the database pool and telemetry close after every module.
func moduleTable() []module {
	return []module{
		{name: moduleAdmin, runs: func(cfg meshconfig.Config) bool { return cfg.Admin.Listen != "" }, init: (*Mesh).initAdmin},
		{name: moduleGRPCServer, runs: meshconfig.Config.RunsGRPC, init: (*Mesh).initGRPCServer},
		{name: meshconfig.TargetRegistry, deps: []string{moduleGRPCServer}, runs: target(meshconfig.TargetRegistry), init: (*Mesh).initRegistry},
		{name: meshconfig.TargetProviderEverything, deps: []string{moduleGRPCServer}, runs: target(meshconfig.TargetProviderEverything), init: (*Mesh).initProvider},
		{name: meshconfig.TargetSession, deps: []string{moduleGRPCServer, meshconfig.TargetRegistry}, runs: target(meshconfig.TargetSession), init: (*Mesh).initSession},
		{name: meshconfig.TargetTransport, deps: []string{moduleGRPCServer, meshconfig.TargetSession}, runs: target(meshconfig.TargetTransport), init: (*Mesh).initTransport},
		{name: meshconfig.TargetHealth, deps: []string{moduleGRPCServer, meshconfig.TargetRegistry, meshconfig.TargetSession, meshconfig.TargetTransport}, runs: target(meshconfig.TargetHealth), init: (*Mesh).initHealth},
		// Connections are accepted once every gRPC service of the process runs.
		{name: moduleGRPCServing, deps: append([]string{moduleGRPCServer}, grpcServices...), runs: meshconfig.Config.RunsGRPC, init: (*Mesh).initGRPCServing},
		{name: moduleDependencyWatch, deps: []string{moduleGRPCServing}, runs: meshconfig.Config.RunsGRPC, init: (*Mesh).initDependencyWatch},
		// The provider registers once it is reachable, and deregisters before the
		// gRPC services report NOT_SERVING.
		{name: moduleRegistration, deps: []string{moduleGRPCServing, meshconfig.TargetProviderEverything, meshconfig.TargetRegistry}, runs: target(meshconfig.TargetProviderEverything), init: (*Mesh).initRegistration},
		// The federation serves its upstreams' providers on the gRPC server (registered
		// at init, like every service) but connects and registers them only once the
		// server accepts calls, and deregisters them before it stops accepting.
		{name: meshconfig.TargetFederation, deps: []string{moduleGRPCServing, meshconfig.TargetRegistry}, runs: target(meshconfig.TargetFederation), init: (*Mesh).initFederation},
		// Last to start, first to stop: the HTTP edge drains before anything behind it
		// goes (the dependencies on the internal modules only order the shutdown).
		// The gateway reads the keys while it serves; they stop after it has drained, so the
		// last uses of the drained requests are written.
		{name: moduleAPIKeys, runs: meshconfig.Config.APIKeysInDatabase, init: (*Mesh).initAPIKeys},
		{name: meshconfig.TargetGateway, deps: []string{moduleAPIKeys, meshconfig.TargetTransport, meshconfig.TargetSession, meshconfig.TargetRegistry, meshconfig.TargetHealth, moduleGRPCServing, moduleDependencyWatch, moduleRegistration, meshconfig.TargetFederation}, runs: target(meshconfig.TargetGateway), init: (*Mesh).initGateway},
	}
}

// resolve returns the modules the process of cfg runs, dependencies first. Among
// modules that do not depend on each other the table's order holds. It reports
// dependencies on unknown modules and cycles.
func resolve(table []module, cfg meshconfig.Config) ([]module, error) {
	byName := make(map[string]int, len(table))
	for i, mod := range table {
		if _, dup := byName[mod.name]; dup {
			return nil, fmt.Errorf("module %s: listed twice", mod.name)
		}
		byName[mod.name] = i
	}
	var errs []error
	for _, mod := range table {
		for _, d := range mod.deps {
			if _, ok := byName[d]; !ok {
				errs = append(errs, fmt.Errorf("module %s: unknown dependency %q", mod.name, d))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	running := map[string]bool{}
	for _, mod := range table {
		running[mod.name] = mod.runs(cfg)
	}
	// Depth-first, dependencies first, visiting in table order.
	const (
		unvisited = iota
		visiting
		done
	)
	state := make(map[string]int, len(table))
	var order []module
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("modules depend on each other: %v", append(path, name))
		}
		state[name] = visiting
		mod := table[byName[name]]
		for _, d := range mod.deps {
			if err := visit(d, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = done
		if running[name] {
			order = append(order, mod)
		}
		return nil
	}
	for _, mod := range table {
		if err := visit(mod.name, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// moduleNames lists the names of mods, for logs and tests.
func moduleNames(mods []module) []string {
	names := make([]string, len(mods))
	for i, mod := range mods {
		names[i] = mod.name
	}
	return slices.Clip(names)
}
