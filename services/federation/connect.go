package federation

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// transport returns the SDK transport that reaches u, and what closes what it holds
// once the session is closed. onLine taps the inbound byte stream (tap.go), and
// forCall adds a tap of the response to an HTTP request whose body it recognises
// (attribute.go). ctx bounds the OAuth token requests of an HTTP upstream. last is
// nil for the federation's own connection; for a caller's connection to a
// token_exchange upstream (callersession.go) it is the caller's last token.
func (u Upstream) transport(ctx context.Context, logger *slog.Logger, onLine func([]byte), forCall func(body []byte) func([]byte), last func() string) (mcp.Transport, io.Closer, error) {
	if len(u.Command) > 0 {
		return startProcess(ctx, u.Command, u.Env, logger, onLine)
	}
	// Each connection has its own HTTP transport, whose idle connections close with it.
	base := http.DefaultTransport.(*http.Transport).Clone()
	closer := closerFunc(func() error { base.CloseIdleConnections(); return nil })
	client, err := u.Auth.httpClient(ctx, base, last)
	if err != nil {
		return nil, nil, err
	}
	client.Transport = tapTransport{next: client.Transport, onLine: onLine, forCall: forCall}
	if u.Transport == TransportSSE {
		return &mcp.SSEClientTransport{Endpoint: u.URL, HTTPClient: client}, closer, nil
	}
	return &mcp.StreamableClientTransport{Endpoint: u.URL, HTTPClient: client}, closer, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// httpClient is the HTTP client that carries a's credentials. Secret files are read
// at each connection, so a rotated secret is used from the next reconnect on. last
// is set for a caller's connection only (token_exchange).
func (a Auth) httpClient(ctx context.Context, base http.RoundTripper, last func() string) (*http.Client, error) {
	switch {
	case a.BearerFile != "":
		token, err := readSecret(a.BearerFile)
		if err != nil {
			return nil, fmt.Errorf("auth.bearer_file: %w", err)
		}
		return &http.Client{Transport: bearer{token: token, next: base}}, nil
	case a.OAuth.configured():
		secret, err := readSecret(a.OAuth.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("auth.oauth.client_secret_file: %w", err)
		}
		cc := clientcredentials.Config{
			ClientID: a.OAuth.ClientID, ClientSecret: secret, TokenURL: a.OAuth.TokenURL,
			Scopes: a.OAuth.Scopes, EndpointParams: map[string][]string{},
		}
		if a.OAuth.Audience != "" {
			cc.EndpointParams.Set("audience", a.OAuth.Audience)
		}
		if a.OAuth.Resource != "" {
			cc.EndpointParams.Set("resource", a.OAuth.Resource)
		}
		// The token source caches the token and fetches a new one when it expires; the
		// token requests go through base too.
		ctx = context.WithValue(context.WithoutCancel(ctx), oauth2.HTTPClient, &http.Client{Transport: base})
		return cc.Client(ctx), nil
	case a.TokenExchange.configured():
		return a.TokenExchange.httpClient(ctx, base, last)
	default:
		return &http.Client{Transport: base}, nil
	}
}

func readSecret(file string) (string, error) {
	b, err := os.ReadFile(file) //nolint:gosec // the operator's configured secret file
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", file)
	}
	return s, nil
}

// bearer adds a static bearer token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(req)
}

// lineLogger is a stdio upstream's stderr: each line becomes a log line. Close ends
// the reader goroutine once the process's stderr is closed.
type lineLogger struct {
	w    *io.PipeWriter
	done chan struct{}
}

func newLineLogger(logger *slog.Logger) *lineLogger {
	r, w := io.Pipe()
	l := &lineLogger{w: w, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 4096), 64*1024)
		for sc.Scan() {
			logger.Info(sc.Text())
		}
		// A line longer than the buffer ends the scan; drain the rest unread so the
		// process never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, r)
	}()
	return l
}

func (l *lineLogger) Write(p []byte) (int, error) { return l.w.Write(p) }

// Close ends the log after the last line written.
func (l *lineLogger) Close() error {
	err := l.w.Close()
	<-l.done
	return err
}
