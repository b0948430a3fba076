// Command mcpmesh runs any subset of the mcpmesh services (-target), or all of them in
// one process, and carries the operator commands: config print, ping, version,
// and stdio (a bridge for MCP clients that only launch local stdio servers).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/stdio"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var exit exitError
		if errors.As(err, &exit) {
			os.Exit(exit.code)
		}
		fmt.Fprintln(os.Stderr, "mcpmesh:", err)
		os.Exit(1)
	}
}

// exitError ends the process with a code, having already said why.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// run dispatches to a subcommand; the default is to serve.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "config":
			return runConfig(args[1:], environ, stdout, stderr)
		case "migrate":
			return runMigrate(ctx, args[1:], environ, stdout, stderr)
		case "ping":
			return runPing(ctx, args[1:], environ, stdout, stderr)
		case "version":
			_, err := fmt.Fprintln(stdout, "mcpmesh", version())
			return err
		case "stdio": // bridges a stdio-only MCP client to a remote mesh
			return stdio.Main(ctx, args[1:], os.Stdin, stdout, stderr)
		case "serve":
			args = args[1:]
		}
	}
	return runServe(ctx, args, environ, stdout, stderr)
}
