package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/mesh"
	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/kit/config"
	"github.com/mcpmesh/mcpmesh/services/kit/logging"
)

// serveAbout is what serve -h (and config print -h) says before the flags.
const serveAbout = `Runs the targets of this process (-target; "all" is the whole mesh in one process)
until SIGTERM or Ctrl-C, then drains. Every flag is a configuration key: a YAML file
(-config) and MCPMESH_* environment variables set the same keys (flags win), and
docs/configuration.md lists every key. Examples:
  mcpmesh -gateway.listen=127.0.0.1:8081 -grpc.listen=127.0.0.1:9091
  MCPMESH_DATABASE_URL=postgres://... mcpmesh -target=session,registry`

// configFlags defines the flags shared by serve and config print. Flags are named
// after configuration keys, so each one overrides the key of the same name.
func configFlags(synopsis, about string) (*flag.FlagSet, *string) {
	fs := newFlagSet(synopsis, about)
	file := fs.String("config", "", "YAML configuration file")
	d := meshconfig.Default()
	fs.String("target", d.Target, "targets to run: all, or a comma-separated list of "+strings.Join(meshconfig.Services, ", "))
	fs.String("grpc.listen", d.GRPC.Listen, "gRPC listen address of this process")
	fs.String("gateway.listen", d.Gateway.Listen, "HTTP listen address of the gateway")
	fs.String("log.level", d.Log.Level, "log level: debug, info, warn, error")
	fs.String("log.format", d.Log.Format, "log format: "+logging.FormatChoices)
	fs.String("database.url", "", "PostgreSQL URL for session and registry state (empty: in memory)")
	fs.String("peers.transport", "", "gRPC address of the transport service, when not in this process")
	fs.String("peers.session", "", "gRPC address of the session service, when not in this process")
	fs.String("peers.registry", "", "gRPC address of the registry service, when not in this process")
	fs.String("peers.health", "", "gRPC address of the health service, when not in this process")
	fs.String("provider.advertise", "", "address the registry uses to reach this provider (default: the gRPC listener)")
	fs.String("admin.listen", d.Admin.Listen, "HTTP address serving /metrics for processes without a gateway (empty: none)")
	return fs, file
}

// loadConfig parses flags and loads the layered configuration; warnings (stray
// MCPMESH_* variables) go to stderr.
func loadConfig(fs *flag.FlagSet, file *string, args, environ []string, stdout, stderr io.Writer) (config.Loaded[meshconfig.Config], error) {
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return config.Loaded[meshconfig.Config]{}, err
	}
	loaded, err := config.Load(meshconfig.Default(), config.Sources{File: *file, Environ: environ, Flags: fs})
	for _, w := range loaded.Warnings {
		fmt.Fprintln(stderr, "mcpmesh: warning:", w)
	}
	return loaded, err
}

func runServe(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs, file := configFlags("mcpmesh serve [flags]", serveAbout)
	loaded, err := loadConfig(fs, file, args, environ, stdout, stderr)
	if err != nil {
		return err
	}
	cfg := loaded.Value
	logger, level, err := logging.New(stderr, cfg.Log)
	if err != nil {
		return err
	}
	info := build()
	m, err := mesh.New(cfg, logger, mesh.WithBuild(info), mesh.WithLogLevel(level))
	if err != nil {
		return err
	}
	gcPercent, gcFromEnv := applyGCDefault(environ)
	grpcAddr, httpAddr := m.Addresses()
	logger.Info("mcpmesh serving", "version", info.Version, "commit", info.Commit, "targets", cfg.Targets(), "grpc", grpcAddr, "http", httpAddr, "admin", m.AdminAddress(),
		"gogc", gcPercent, "gogc_from_env", gcFromEnv)
	if httpAddr != "" {
		base := "http://" + httpAddr
		fmt.Fprintf(stdout, "mcpmesh %s serving %v\n  MCP endpoint   %s/mcp\n  REST API       %s/v1/tools  %s/v1/providers  %s/v1/health\n  OpenAPI        %s/openapi.json\n  probes         %s/healthz  %s/readyz\n  metrics        %s/metrics\n",
			info.Version, cfg.Targets(), base, base, base, base, base, base, base, base)
	}
	if grpcAddr != "" {
		fmt.Fprintf(stdout, "  gRPC           %s\n", grpcAddr)
	}
	if adminAddr := m.AdminAddress(); adminAddr != "" {
		fmt.Fprintf(stdout, "  admin          http://%s/metrics\n", adminAddr)
	}
	if u := m.UpstreamAdminURL(); u != "" {
		fmt.Fprintf(stdout, "  upstreams      %s\n", u)
	}
	// auth.policy takes effect without a restart: on a change of the file or SIGHUP the
	// configuration is loaded again from the same sources and its rules replace the
	// ones in force; so do the selections and rules of virtual_servers, as long as
	// their names stay the same (other keys need a restart).
	reload := func() {
		again, err := config.Load(meshconfig.Default(), config.Sources{File: *file, Environ: environ, Flags: fs})
		if err == nil {
			err = m.ReloadPolicy(again.Value.Auth.Policy)
		}
		if err != nil {
			logger.Error("auth.policy not reloaded; the previous rules stay in force", "error", err)
			return
		}
		logger.Info("auth.policy reloaded", "rules", len(again.Value.Auth.Policy.Rules))
		if err := m.ReloadVirtualServers(again.Value.VirtualServers); err != nil {
			logger.Error("virtual_servers not reloaded; the previous ones stay in force", "error", err)
			return
		}
		logger.Info("virtual_servers reloaded", "virtual_servers", len(again.Value.VirtualServers))
	}
	if err := watchReload(ctx, *file, logger, reload); err != nil {
		return fmt.Errorf("watch %s for auth.policy changes: %w", *file, err)
	}
	_, _ = fmt.Fprintln(stdout, bannerEnd+" (SIGTERM drains gracefully).")
	return m.Run(ctx)
}

func runConfig(_ context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "print" {
		if len(args) > 0 && isHelpFlag(args[0]) {
			args = []string{"print", "-h"}
		} else {
			fmt.Fprintln(stderr, "usage: mcpmesh config print [flags]  (see mcpmesh config print -h)")
			return exitError{code: 2}
		}
	}
	fs, file := configFlags("mcpmesh config print [flags]",
		"Prints the configuration serve would use with the same file, environment and flags:\n"+
			"every key with its decoded value (durations with units, lists as lists), secrets masked.")
	loaded, err := loadConfig(fs, file, args[1:], environ, stdout, stderr)
	if err != nil {
		return err
	}
	return loaded.Print(stdout)
}

// bannerEnd starts the last line of the start-up banner. The process helpers of the
// tests and the bench (tools/proc.BannerEnd) wait for it, and read the addresses
// printed before it.
const bannerEnd = "Press Ctrl+C to stop"
