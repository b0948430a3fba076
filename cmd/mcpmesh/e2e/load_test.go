package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// requestTimeout bounds every request of a load, so that no loop outlives its deadline
// by more than this.
const requestTimeout = 5 * time.Second

// outcome is one request of a load session: when it started and ended, and why it
// failed ("" when it succeeded).
type outcome struct {
	start, end time.Time
	failure    string
}

// loadSession is a stateful session driven over raw HTTP, with every outcome kept.
type loadSession struct {
	id, version string
	mu          sync.Mutex
	outcomes    []outcome
}

func (s *loadSession) record(o outcome) {
	s.mu.Lock()
	s.outcomes = append(s.outcomes, o)
	s.mu.Unlock()
}

func (s *loadSession) snapshot() []outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]outcome(nil), s.outcomes...)
}

// everySessionHas reports whether each session recorded an outcome that satisfies ok.
func everySessionHas(sessions []*loadSession, ok func(outcome) bool) bool {
	for _, s := range sessions {
		if !slices.ContainsFunc(s.snapshot(), ok) {
			return false
		}
	}
	return true
}

// loadClient is an HTTP client for many concurrent sessions through one balancer.
func loadClient(sessions int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * sessions, MaxIdleConnsPerHost: 2 * sessions}}
}

// mcpPost sends one JSON-RPC message of a session and returns the status, the session
// id header and the decoded response (nil for 202). A JSON-RPC error comes back as an
// error naming the HTTP status and the message.
func mcpPost(ctx context.Context, c *http.Client, base string, s *loadSession, body string) (int, string, *rpcResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/mcp", strings.NewReader(body))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if s.id != "" {
		req.Header.Set("Mcp-Session-Id", s.id)
		req.Header.Set("MCP-Protocol-Version", s.version)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", nil, fmt.Errorf("no response: %w", err)
	}
	if resp.StatusCode == http.StatusAccepted {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode, "", nil, nil
	}
	var out rpcResponse
	if err := decodeJSON(resp, &out); err != nil {
		return resp.StatusCode, "", nil, fmt.Errorf("HTTP %d: unreadable body: %w", resp.StatusCode, err)
	}
	if out.Error != nil {
		return resp.StatusCode, "", &out, fmt.Errorf("HTTP %d: JSON-RPC error %d %q", resp.StatusCode, out.Error.Code, out.Error.Message)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, "", &out, fmt.Errorf("HTTP %d without a JSON-RPC error", resp.StatusCode)
	}
	return resp.StatusCode, resp.Header.Get("Mcp-Session-Id"), &out, nil
}

// openLoadSession initializes a stateful session (2025-11-25) and confirms it.
func openLoadSession(ctx context.Context, c *http.Client, base string) (*loadSession, error) {
	s := &loadSession{version: "2025-11-25"}
	_, id, _, err := mcpPost(ctx, c, base, s,
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"load","version":"1"}}}`)
	if err != nil {
		return nil, fmt.Errorf("initialize: %w", err)
	}
	if id == "" {
		return nil, errors.New("initialize: no Mcp-Session-Id")
	}
	s.id = id
	status, _, _, err := mcpPost(ctx, c, base, s, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	if err != nil {
		return nil, fmt.Errorf("notifications/initialized: %w", err)
	}
	if status != http.StatusAccepted {
		return nil, fmt.Errorf("notifications/initialized: status %d, want 202", status)
	}
	return s, nil
}

// openLoadSessions opens n sessions concurrently.
func openLoadSessions(ctx context.Context, c *http.Client, base string, n int) ([]*loadSession, error) {
	sessions := make([]*loadSession, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { sessions[i], errs[i] = openLoadSession(ctx, c, base) })
	}
	wg.Wait()
	return sessions, errors.Join(errs...)
}

// echo calls the echo tool once in session s and checks the answer.
func echo(ctx context.Context, c *http.Client, base string, s *loadSession, seq int) error {
	return echoTool(ctx, c, base, s, seq, "echo")
}

// echoTool is echo with the tool's exposed name ("<provider>.echo" when several
// providers offer echo).
func echoTool(ctx context.Context, c *http.Client, base string, s *loadSession, seq int, tool string) error {
	msg := s.id[:min(8, len(s.id))] + "-" + strconv.Itoa(seq)
	body := `{"jsonrpc":"2.0","id":` + strconv.Itoa(seq+2) + `,"method":"tools/call","params":{"name":"` + tool + `","arguments":{"message":"` + msg + `"}}}`
	_, _, out, err := mcpPost(ctx, c, base, s, body)
	if err != nil {
		return err
	}
	if !bytes.Contains(out.Result, []byte(msg)) {
		return fmt.Errorf("echo result %s lacks %q", out.Result, msg)
	}
	var res struct {
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(out.Result, &res); err != nil || res.IsError {
		return fmt.Errorf("echo result %s", out.Result)
	}
	return nil
}

// runLoad has every session call echo in a loop until ctx ends, recording each
// outcome. Requests started before then finish (bounded by requestTimeout).
func runLoad(ctx context.Context, c *http.Client, base string, sessions []*loadSession) {
	var wg sync.WaitGroup
	for _, s := range sessions {
		wg.Go(func() {
			for seq := 0; ctx.Err() == nil; seq++ {
				o := outcome{start: time.Now()}
				if err := echo(context.Background(), c, base, s, seq); err != nil {
					o.failure = err.Error()
				}
				o.end = time.Now()
				s.record(o)
			}
		})
	}
	wg.Wait()
}

// loadReport summarises the outcomes of every session around an event at a given time.
type loadReport struct {
	requests, failures   int
	failedBefore         int // failures of requests that ended before the event
	failedStartedAfter   int // failures of requests started at or after the event (none in flight at it)
	failedAfterGrace     int // failures of requests started at or after event+grace
	lastFailureEnd       time.Time
	sessionsWithoutLater int // sessions with no success started at or after event+grace
	kinds                map[string]int
}

func summarise(sessions []*loadSession, event time.Time, grace time.Duration) loadReport {
	r := loadReport{kinds: map[string]int{}}
	for _, s := range sessions {
		laterSuccess := false
		for _, o := range s.snapshot() {
			r.requests++
			after := !o.start.Before(event.Add(grace))
			if o.failure == "" {
				laterSuccess = laterSuccess || after
				continue
			}
			r.failures++
			r.kinds[failureKind(o.failure)]++
			if o.end.Before(event) {
				r.failedBefore++
			}
			if !o.start.Before(event) {
				r.failedStartedAfter++
			}
			if after {
				r.failedAfterGrace++
			}
			if o.end.After(r.lastFailureEnd) {
				r.lastFailureEnd = o.end
			}
		}
		if !laterSuccess {
			r.sessionsWithoutLater++
		}
	}
	return r
}

// failureKind groups failure messages by their text without the error id.
func failureKind(msg string) string {
	if i := strings.Index(msg, " (id "); i >= 0 {
		msg = msg[:i] + msg[strings.IndexByte(msg[i:], ')')+i+1:]
	}
	return msg
}

func (r loadReport) String() string {
	kinds := make([]string, 0, len(r.kinds))
	for k, n := range r.kinds {
		kinds = append(kinds, fmt.Sprintf("%d× %s", n, k))
	}
	sort.Strings(kinds)
	return fmt.Sprintf("%d requests, %d failed (%d ended before the event, %d started after it, %d started after the grace period); failures: [%s]",
		r.requests, r.failures, r.failedBefore, r.failedStartedAfter, r.failedAfterGrace, strings.Join(kinds, "; "))
}
