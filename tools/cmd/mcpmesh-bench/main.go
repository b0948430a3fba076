// Command mcpmesh-bench measures a running mcpmesh against a bare net/http ceiling
// (`make bench`; docs/performance.md). It is test tooling and lives outside the server
// binary: -binary names the mcpmesh to measure.
//
//	mcpmesh-bench [flags]          run the layouts and print a Markdown report
//	mcpmesh-bench ceiling [flags]  the ceiling server the bench starts as a child
//	mcpmesh-bench mcp-go [flags]   the echo tool on mark3labs/mcp-go (a child, for comparison)
//	mcpmesh-bench go-sdk [flags]   the echo tool on the official go-sdk (a child, for comparison)
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mcpmesh/mcpmesh/tools/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mcpmesh-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "ceiling" {
		return bench.CeilingMain(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && bench.IsPeer(args[0]) {
		return bench.PeerMain(ctx, args[0], args[1:], stdout, stderr)
	}
	return bench.Main(ctx, args, stdout, stderr)
}
