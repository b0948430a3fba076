package stdio

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mcpmesh/mcpmesh/services/kit/logging"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitLimit bounds every wait of a test, so a broken bridge fails instead of hanging.
const waitLimit = 10 * time.Second

// harness runs a bridge with pipes for stdin and stdout.
type harness struct {
	t      *testing.T
	stdin  *io.PipeWriter
	lines  chan string
	done   chan error
	cancel context.CancelFunc
	stderr *syncBuffer
	closed bool
	bridge *bridge
}

// startBridge runs a bridge against url with short drain and backoff times.
func startBridge(t *testing.T, url string, args ...string) *harness {
	t.Helper()
	opts, err := parseFlags(append([]string{"-url", url, "-log.level", "debug"}, args...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, lines: make(chan string, 1000), done: make(chan error, 1), stderr: &syncBuffer{}}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	h.stdin = inW
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	logger, _, err := logging.New(h.stderr, logging.Config{Level: "debug", Format: "text"})
	if err != nil {
		t.Fatal(err)
	}
	b := newBridge(opts, outW, logger)
	b.drainTimeout = 300 * time.Millisecond
	b.listenBackoff = 5 * time.Millisecond
	h.bridge = b
	go func() {
		h.done <- b.run(ctx, inR)
		_ = outW.Close()
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	t.Cleanup(func() {
		cancel()
		_ = inW.Close()
		_ = inR.Close()
		if !h.closed {
			select {
			case <-h.done:
			case <-time.After(waitLimit):
				t.Error("bridge did not stop")
			}
		}
		for range h.lines { // let the stdout reader finish
		}
		if t.Failed() {
			t.Logf("bridge stderr:\n%s", h.stderr.String())
		}
	})
	return h
}

// send writes one line to the bridge's stdin.
func (h *harness) send(line string) {
	h.t.Helper()
	if _, err := io.WriteString(h.stdin, line+"\n"); err != nil {
		h.t.Fatalf("write stdin: %v", err)
	}
}

// next returns the next line from the bridge's stdout.
func (h *harness) next() string {
	h.t.Helper()
	select {
	case line, ok := <-h.lines:
		if !ok {
			h.t.Fatal("stdout closed while a line was expected")
		}
		return line
	case <-time.After(waitLimit):
		h.t.Fatal("no line on stdout")
	}
	return ""
}

// closeStdin ends stdin and waits for the bridge to exit; it returns the lines still
// written and run's result.
func (h *harness) closeStdin() ([]string, error) {
	h.t.Helper()
	_ = h.stdin.Close()
	return h.wait()
}

// wait waits for the bridge to exit on its own.
func (h *harness) wait() ([]string, error) {
	h.t.Helper()
	var err error
	select {
	case err = <-h.done:
		h.closed = true
	case <-time.After(waitLimit):
		h.t.Fatal("bridge did not exit")
	}
	var rest []string
	for line := range h.lines {
		rest = append(rest, line)
	}
	return rest, err
}

// syncBuffer is a strings.Builder safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// seen is one HTTP request the fake mesh received.
type seen struct {
	method string
	header http.Header
	body   string
}

// fakeMesh is an httptest server that records requests and answers with handle.
type fakeMesh struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
	got  chan seen
}

func newFakeMesh(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body string)) *fakeMesh {
	t.Helper()
	f := &fakeMesh{got: make(chan seen, 1000)}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s := seen{method: r.Method, header: r.Header.Clone(), body: string(b)}
		f.mu.Lock()
		f.reqs = append(f.reqs, s)
		f.mu.Unlock()
		f.got <- s
		handle(w, r, string(b))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeMesh) url() string { return f.URL + "/mcp" }

// requests returns the requests received so far.
func (f *fakeMesh) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

// awaitRequest returns the next request the mesh receives that matches.
func (f *fakeMesh) awaitRequest(t *testing.T, match func(seen) bool) seen {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		select {
		case s := <-f.got:
			if match(s) {
				return s
			}
		case <-deadline:
			t.Fatal("the mesh did not receive the expected request")
			return seen{}
		}
	}
}

// rpcID returns the id of a JSON-RPC message body as compact JSON.
func rpcID(body string) string {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	_ = json.Unmarshal([]byte(body), &m)
	return string(m.ID)
}

func methodOf(body string) string {
	var m struct {
		Method string `json:"method"`
	}
	_ = json.Unmarshal([]byte(body), &m)
	return m.Method
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// writeEvents answers with an event stream of raw SSE text, flushing after each part.
func writeEvents(w http.ResponseWriter, parts ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for _, p := range parts {
		_, _ = io.WriteString(w, p)
		w.(http.Flusher).Flush()
	}
}

// result is a JSON-RPC success answer to body's request.
func result(body, res string) string {
	return `{"jsonrpc":"2.0","id":` + rpcID(body) + `,"result":` + res + `}`
}

// rpcLine is a decoded stdout line.
type rpcLine struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func decodeLine(t *testing.T, line string) rpcLine {
	t.Helper()
	var l rpcLine
	if err := json.Unmarshal([]byte(line), &l); err != nil {
		t.Fatalf("stdout line is not JSON: %q: %v", line, err)
	}
	return l
}
