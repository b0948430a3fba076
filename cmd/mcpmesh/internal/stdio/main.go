package stdio

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/logging"
	"github.com/mcpmesh/mcpmesh/services/kit/paramheader"
)

// options are the command-line settings of the bridge.
type options struct {
	endpoint string
	headers  http.Header
	timeout  time.Duration
	logLevel string
}

// headerFlags collects repeated -header "Key: Value" flags.
type headerFlags struct{ h http.Header }

func (f *headerFlags) String() string { return "" }

func (f *headerFlags) Set(v string) error {
	key, value, ok := strings.Cut(v, ":")
	key = strings.TrimSpace(key)
	if !ok || key == "" || !paramheader.ValidName(key) {
		return fmt.Errorf("want \"Key: Value\", got %q", v)
	}
	f.h.Add(key, strings.TrimSpace(value))
	return nil
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("mcpmesh stdio", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mcpmesh stdio -url http://host:port/mcp [-header \"Authorization: Bearer ...\"]...")
		fmt.Fprintln(stderr, "Bridges an MCP client speaking stdio (newline-delimited JSON-RPC on stdin/stdout) to a mesh.")
		fs.PrintDefaults()
	}
	headers := &headerFlags{h: http.Header{}}
	endpoint := fs.String("url", "", "the mesh's MCP endpoint, e.g. http://127.0.0.1:8080/mcp (required)")
	fs.Var(headers, "header", "extra HTTP header \"Key: Value\" on every request to the mesh, e.g. Authorization (repeatable)")
	timeout := fs.Duration("timeout", 0, "time limit per request, including a streamed answer (0 = none)")
	level := fs.String("log.level", "info", "log level on stderr: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	var problems []error
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if err := checkEndpoint(*endpoint); err != nil {
		problems = append(problems, err)
	}
	if *timeout < 0 {
		problems = append(problems, errors.New("-timeout: must not be negative"))
	}
	if _, err := logging.ParseLevel(*level); err != nil {
		problems = append(problems, err)
	}
	if err := errors.Join(problems...); err != nil {
		return options{}, fmt.Errorf("stdio: %w", err)
	}
	return options{endpoint: *endpoint, headers: headers.h, timeout: *timeout, logLevel: *level}, nil
}

func checkEndpoint(endpoint string) error {
	if endpoint == "" {
		return errors.New("-url is required (the mesh's MCP endpoint, e.g. http://127.0.0.1:8080/mcp)")
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("-url %q: %w", endpoint, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-url %q: want an http or https URL with a host", endpoint)
	}
	return nil
}

// Main runs the bridge until stdin ends, ctx is cancelled or the mesh ends the session.
// A clean end returns nil; bad flags return an error (-h returns nil).
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logger, _, err := logging.New(stderr, logging.Config{Level: opts.logLevel, Format: "text"})
	if err != nil {
		return fmt.Errorf("stdio: %w", err)
	}
	if stdout == os.Stdout {
		// A client that goes away closes our stdout; without this the next write would
		// kill the process with SIGPIPE instead of returning EPIPE for a clean exit.
		signal.Ignore(syscall.SIGPIPE)
	}
	b := newBridge(opts, stdout, logger)
	return b.run(ctx, stdin)
}
