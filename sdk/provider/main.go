package provider

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// Main is a provider program's whole main function: it logs as text to stderr, builds
// the provider with build, and runs it (see Run) until SIGINT or SIGTERM; it exits 1
// when building or serving fails.
func Main(build func(logger *slog.Logger) (*Server, error)) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	srv, err := build(logger)
	if err == nil {
		err = srv.Run(ctx)
	}
	stop()
	if err != nil {
		logger.Error("provider failed", "error", err)
		os.Exit(1)
	}
}
