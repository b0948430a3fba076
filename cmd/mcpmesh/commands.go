package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand of the binary.
type command struct {
	name    string
	args    string // the argument synopsis after the name
	summary string
	run     func(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error
}

// findCommand returns the command called name.
func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func isFlag(arg string) bool { return strings.HasPrefix(arg, "-") }

func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "-help", "--help":
		return true
	}
	return false
}

// printUsage lists every command.
func printUsage(w io.Writer) {
	fmt.Fprint(w, "mcpmesh runs the MCP mesh: all of its services in one process, or any subset of them.\n\n")
	fmt.Fprint(w, "Usage:\n  mcpmesh [flags]              serve (same as mcpmesh serve [flags])\n  mcpmesh <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'mcpmesh <command> -h' (or 'mcpmesh help <command>') for a command's flags.\n"+
		"Configuration keys can also be set in a YAML file (-config) or as MCPMESH_* environment\n"+
		"variables; docs/configuration.md lists them all.\n")
}

// runHelp prints the command list, or one command's help; both exit 0.
func runHelp(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printUsage(stdout)
		return nil
	}
	if len(args) > 1 {
		fmt.Fprintf(stderr, "mcpmesh help: want at most one command, got %q\n", args)
		return exitError{code: 2}
	}
	cmd, ok := findCommand(args[0])
	if !ok {
		fmt.Fprintf(stderr, "mcpmesh help: unknown command %q\n\n", args[0])
		printUsage(stderr)
		return exitError{code: 2}
	}
	if cmd.name == "help" {
		printUsage(stdout)
		return nil
	}
	helpArgs := []string{"-h"}
	if cmd.name == "config" {
		helpArgs = []string{"print", "-h"}
	}
	return cmd.run(ctx, helpArgs, environ, stdout, stderr)
}

// newFlagSet returns the flag set of a command: its usage shows synopsis (after
// "Usage: "), what the command does, and the flags.
func newFlagSet(synopsis, about string) *flag.FlagSet {
	name, _, _ := strings.Cut(synopsis, " [")
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\n%s\n", synopsis, about)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprint(w, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// errHelpShown ends a command whose help was asked for; run reports success.
var errHelpShown = exitError{code: 0}

// parseFlags parses args. -h prints the usage on stdout and returns errHelpShown (exit
// 0); a bad flag prints the problem and the usage on stderr and exits 2.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return errHelpShown
	case err != nil:
		fs.SetOutput(stderr)
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		fs.Usage()
		return exitError{code: 2}
	}
	fs.SetOutput(stderr)
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %q (see -h)\n", fs.Name(), fs.Args())
		return exitError{code: 2}
	}
	return nil
}
