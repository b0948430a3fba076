// Command mcpmesh runs any subset of the mcpmesh services (-target), or all of them in
// one process, and carries the operator commands: stdio (a bridge for MCP clients that
// only launch local stdio servers), migrate, ping, config print and version.
// `mcpmesh help` lists them.
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

// run dispatches to a command. With no command, or flags first, it serves, so
// `mcpmesh -target=gateway` keeps working.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, environ, stdout, stderr)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isVersionFlag(args[0]) {
		args = append([]string{"version"}, args[1:]...)
	}
	if len(args) == 0 || (isFlag(args[0]) && !isHelpFlag(args[0])) {
		return runServe(ctx, args, environ, stdout, stderr)
	}
	name, rest := args[0], args[1:]
	if isHelpFlag(name) {
		name = "help"
	}
	cmd, ok := findCommand(name)
	if !ok {
		fmt.Fprintf(stderr, "mcpmesh: unknown command %q\n\n", name)
		printUsage(stderr)
		return exitError{code: 2}
	}
	return cmd.run(ctx, rest, environ, stdout, stderr)
}

// commands are the user-facing commands, in the order help lists them (a function, as
// help refers back to the list).
func commands() []command {
	return []command{
		{"serve", "[flags]", "run the mesh's targets (the default when no command is given)", runServe},
		{"stdio", "-url URL [flags]", "bridge an MCP client that only speaks stdio to a running mesh", runStdio},
		{"migrate", "[flags]", "create or update the PostgreSQL tables of the targets, then exit", runMigrate},
		{"apikey", "create|list|revoke [flags]", "create, list or revoke API keys (printed once, stored hashed)", runAPIKey},
		{"ping", "[flags]", "ask a running mesh whether it is healthy (exit 0 when it is)", runPing},
		{"config", "print [flags]", "print the effective configuration, secrets masked", runConfig},
		{"version", "", "print the version", runVersion},
		{"help", "[command]", "show help for mcpmesh or one command", runHelp},
	}
}

func runStdio(ctx context.Context, args, _ []string, stdout, stderr io.Writer) error {
	return stdio.Main(ctx, args, os.Stdin, stdout, stderr)
}

func runVersion(_ context.Context, args, _ []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("mcpmesh version", "Prints the version of this binary.")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	return printVersion(stdout)
}
