// Command units is a provider of unit conversions for mcpmesh. It registers with the
// mesh's registry at MCPMESH_REGISTRY (for make run's mesh, 127.0.0.1:9090) and serves
// until interrupted; clients call convert_length and convert_temperature (the mesh
// prefixes them with "units." only when another provider offers the same name).
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := newProvider(logger)
	if err == nil {
		err = srv.Run(ctx)
	}
	if err != nil {
		logger.Error("units provider failed", "error", err)
		os.Exit(1)
	}
}
