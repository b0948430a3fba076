package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/mesh"
	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/kit/config"
	"github.com/mcpmesh/mcpmesh/services/kit/logging"
)

// configFlags defines the flags shared by serve and config print. Flags are named
// after configuration keys, so each one overrides the key of the same name.
func configFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "YAML configuration file")
	d := meshconfig.Default()
	fs.String("target", d.Target, "targets to run: all, or a comma-separated list of "+fmt.Sprint(meshconfig.Services))
	fs.String("grpc.listen", d.GRPC.Listen, "gRPC listen address of this process")
	fs.String("gateway.listen", d.Gateway.Listen, "HTTP listen address of the gateway")
	fs.String("log.level", d.Log.Level, "log level: debug, info, warn, error")
	fs.String("log.format", d.Log.Format, "log format: json or text")
	fs.String("peers.transport", "", "gRPC address of the transport service, when not in this process")
	fs.String("peers.session", "", "gRPC address of the session service, when not in this process")
	fs.String("peers.registry", "", "gRPC address of the registry service, when not in this process")
	fs.String("peers.health", "", "gRPC address of the health service, when not in this process")
	fs.String("provider.advertise", "", "address the registry uses to reach this provider (default: the gRPC listener)")
	fs.String("admin.listen", d.Admin.Listen, "HTTP address serving /metrics for processes without a gateway (empty: none)")
	return fs, file
}

// loadConfig parses flags and loads the layered configuration.
func loadConfig(name string, args, environ []string, stderr io.Writer) (config.Loaded[meshconfig.Config], error) {
	fs, file := configFlags(name, stderr)
	if err := fs.Parse(args); err != nil {
		return config.Loaded[meshconfig.Config]{}, exitError{code: 2}
	}
	if fs.NArg() > 0 {
		return config.Loaded[meshconfig.Config]{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return config.Load(meshconfig.Default(), config.Sources{File: *file, Environ: environ, Flags: fs})
}

func runServe(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	loaded, err := loadConfig("mcpmesh", args, environ, stderr)
	if err != nil {
		return err
	}
	cfg := loaded.Value
	logger, level, err := logging.New(stderr, cfg.Log)
	if err != nil {
		return err
	}
	m, err := mesh.New(cfg, logger, mesh.WithVersion(version()), mesh.WithLogLevel(level))
	if err != nil {
		return err
	}
	grpcAddr, httpAddr := m.Addresses()
	logger.Info("mcpmesh serving", "version", version(), "targets", cfg.Targets(), "grpc", grpcAddr, "http", httpAddr, "admin", m.AdminAddress())
	if httpAddr != "" {
		base := "http://" + httpAddr
		fmt.Fprintf(stdout, "mcpmesh %s serving %v\n  MCP endpoint   %s/mcp\n  REST API       %s/v1/tools  %s/v1/providers  %s/v1/health\n  OpenAPI        %s/openapi.json\n  probes         %s/healthz  %s/readyz\n  metrics        %s/metrics\n",
			version(), cfg.Targets(), base, base, base, base, base, base, base, base)
	}
	if grpcAddr != "" {
		fmt.Fprintf(stdout, "  gRPC           %s\n", grpcAddr)
	}
	if adminAddr := m.AdminAddress(); adminAddr != "" {
		fmt.Fprintf(stdout, "  admin          http://%s/metrics\n", adminAddr)
	}
	_, _ = fmt.Fprintln(stdout, bannerEnd+" (SIGTERM drains gracefully).")
	return m.Run(ctx)
}

func runConfig(args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "print" {
		return fmt.Errorf("usage: mcpmesh config print [flags]")
	}
	loaded, err := loadConfig("mcpmesh config print", args[1:], environ, stderr)
	if err != nil {
		return err
	}
	return loaded.Print(stdout)
}

// bannerEnd starts the last line of the start-up banner. The process helpers of the
// tests and the bench (tools/proc.BannerEnd) wait for it, and read the addresses
// printed before it.
const bannerEnd = "Press Ctrl+C to stop"
