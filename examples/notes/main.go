// Command notes is a notebook provider for mcpmesh. It registers with the
// mesh's registry at MCPMESH_REGISTRY (for make run's mesh, 127.0.0.1:9090) and serves
// until interrupted; clients read notes://index and notes://{id}
// and call add_note, delete_note and the prompt summarize.
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
		logger.Error("notes provider failed", "error", err)
		os.Exit(1)
	}
}
