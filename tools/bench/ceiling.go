package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/mcpmesh/mcpmesh/tools/proc"
)

// ceilingBody is what the ceiling answers to every POST: the shape of an echo result.
var ceilingBody = []byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"Echo: x"}]}}`)

// ceilingHandler answers every POST with ceilingBody: the cheapest handler plain
// net/http allows, the denominator of every ratio bench reports.
func ceilingHandler() http.Handler {
	contentType := []string{"application/json"}
	length := []string{fmt.Sprint(len(ceilingBody))}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Content-Type"] = contentType
		h["Content-Length"] = length
		_, _ = w.Write(ceilingBody)
	})
}

// CeilingMain runs the ceiling server (`mcpmesh-bench ceiling`): it listens on
// 127.0.0.1:0 (or -listen), prints "ceiling listening on http://ADDR" followed by a
// banner that proc.Start understands, and serves until ctx ends.
func CeilingMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return serveChild(ctx, "ceiling", ceilingHandler(), args, stdout, stderr)
}

// serveChild is the main of a server the bench starts as a child (the ceiling, a
// peer): it listens on 127.0.0.1:0 (or -listen), serves h for every path, prints
// "NAME listening on http://ADDR" and the banner proc.Start reads, and serves until
// ctx ends.
func serveChild(ctx context.Context, name string, h http.Handler, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mcpmesh-bench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %v", name, fs.Args())
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("%s: listen: %w", name, err)
	}
	base := "http://" + lis.Addr().String()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	fmt.Fprintf(stdout, "%s listening on %s\n  MCP endpoint   %s/mcp\n%s.\n", name, base, base, proc.BannerEnd)

	select {
	case err := <-served:
		return fmt.Errorf("%s: serve: %w", name, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: serve: %w", name, err)
	}
	return nil
}
