package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/proc"
)

// Layout names accepted by -layouts.
const (
	layoutCeiling = "ceiling"
	layoutAll     = "all"
	layoutSix     = "six"
)

var knownLayouts = []string{layoutCeiling, layoutAll, layoutSix}

// Timeouts for process management: start-up (banner), readiness (the provider's tools
// routable) and graceful stop before a kill.
const (
	startTimeout = 30 * time.Second
	readyTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
)

// server is a running layout: its processes (dependencies first) and MCP endpoint.
type server struct {
	layout    string
	endpoint  string
	base      string
	stateful  bool
	processes []*proc.Process
}

// pids returns the process ids whose CPU is charged to the server.
func (s *server) pids() []int {
	pids := make([]int, len(s.processes))
	for i, p := range s.processes {
		pids[i] = p.Pid()
	}
	return pids
}

// stop ends every process, dependents first: SIGTERM, then a kill after stopTimeout.
func (s *server) stop() error {
	var errs []error
	for i := len(s.processes) - 1; i >= 0; i-- {
		if err := s.processes[i].Stop(stopTimeout); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", s.processes[i].Name, err))
		}
	}
	s.processes = nil
	return errors.Join(errs...)
}

// exited returns an error naming every process that has already ended, with the tail
// of its log, so a crash under load is reported as such.
func (s *server) exited() error {
	var errs []error
	for _, p := range s.processes {
		select {
		case <-p.Done():
			errs = append(errs, fmt.Errorf("%s exited during the run; last log lines:\n%s", p.Name, tail(p.Logs(), 20)))
		default:
		}
	}
	return errors.Join(errs...)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// starter starts layouts from one mcpmesh binary.
type starter struct {
	binary        string
	sixGOMAXPROCS int
	// allEnv is added to the environment of the single-process layout.
	allEnv []string
}

// start runs a layout and waits until it serves the echo tool. On error nothing it
// started is left running.
func (st starter) start(ctx context.Context, layout string) (*server, error) {
	s := &server{layout: layout, stateful: layout != layoutCeiling}
	var err error
	switch layout {
	case layoutCeiling:
		_, err = s.add(ctx, st.binary, "ceiling", nil, "bench-ceiling")
	case layoutAll:
		_, err = s.add(ctx, st.binary, "all", st.allEnv, "-target=all", "-grpc.listen=127.0.0.1:0", "-gateway.listen=127.0.0.1:0", "-log.level=warn")
	case layoutSix:
		err = st.startSix(ctx, s)
	default:
		err = fmt.Errorf("unknown layout %q", layout)
	}
	if err == nil {
		last := s.processes[len(s.processes)-1]
		s.base = last.HTTP
		s.endpoint = last.HTTP + "/mcp"
		if s.stateful {
			err = waitReady(ctx, s.base)
		}
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("layout %s: %w", layout, err), s.stop())
	}
	return s, nil
}

// add starts one process of the layout.
func (s *server) add(ctx context.Context, binary, name string, env []string, args ...string) (*proc.Process, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	p, err := proc.Start(ctx, name, binary, env, args...)
	if err != nil {
		return nil, err
	}
	s.processes = append(s.processes, p)
	return p, nil
}

// startSix starts every service and the everything provider as separate processes,
// dependencies first, with the flags of the e2e harness and GOMAXPROCS set per process.
func (st starter) startSix(ctx context.Context, s *server) error {
	const anyPort = "-grpc.listen=127.0.0.1:0"
	const quiet = "-log.level=warn"
	env := []string{fmt.Sprintf("GOMAXPROCS=%d", st.sixGOMAXPROCS)}
	if st.sixGOMAXPROCS <= 0 {
		env = nil
	}
	reg, err := s.add(ctx, st.binary, "registry", env, "-target=registry", anyPort, quiet)
	if err != nil {
		return err
	}
	if _, err := s.add(ctx, st.binary, "provider", env, "-target=provider-everything", anyPort, quiet, "-peers.registry="+reg.GRPC); err != nil {
		return err
	}
	sess, err := s.add(ctx, st.binary, "session", env, "-target=session", anyPort, quiet, "-peers.registry="+reg.GRPC)
	if err != nil {
		return err
	}
	tr, err := s.add(ctx, st.binary, "transport", env, "-target=transport", anyPort, quiet, "-peers.session="+sess.GRPC)
	if err != nil {
		return err
	}
	hl, err := s.add(ctx, st.binary, "health", env, "-target=health", anyPort, quiet, "-peers.registry="+reg.GRPC,
		"-peers.transport="+tr.GRPC, "-peers.session="+sess.GRPC)
	if err != nil {
		return err
	}
	_, err = s.add(ctx, st.binary, "gateway", env, "-target=gateway", "-gateway.listen=127.0.0.1:0", quiet,
		"-peers.transport="+tr.GRPC, "-peers.registry="+reg.GRPC, "-peers.session="+sess.GRPC, "-peers.health="+hl.GRPC)
	return err
}

// waitReady polls /readyz until it answers 200 and a stateless tools/list shows the
// echo tool (provider registration and the session's catalogue watch are asynchronous).
func waitReady(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	var last error
	for {
		last = probeReady(ctx, hc, base)
		if last == nil {
			return nil
		}
		sleepUntil(ctx, time.Now().Add(50*time.Millisecond))
		if ctx.Err() != nil {
			return fmt.Errorf("not ready within %s: %w", readyTimeout, last)
		}
	}
}

func probeReady(ctx context.Context, hc *http.Client, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz: HTTP %d", resp.StatusCode)
	}
	return echoListed(ctx, hc, base)
}

// statelessToolsList is a 2026-07-28 tools/list request with the required _meta.
const statelessToolsList = `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{` +
	`"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
	`"io.modelcontextprotocol/clientInfo":{"name":"mcpmesh-bench","version":"1"},` +
	`"io.modelcontextprotocol/clientCapabilities":{}}}}`

// echoListed asks tools/list and checks that the echo tool is there.
func echoListed(ctx context.Context, hc *http.Client, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/mcp", strings.NewReader(statelessToolsList))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", "tools/list")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	_ = resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("tools/list: HTTP %d: %s", resp.StatusCode, snippet(body))
	}
	var out struct {
		Result struct {
			Tools []struct{ Name string } `json:"tools"`
		} `json:"result"`
	}
	if err := json.Unmarshal(lastMessage(body), &out); err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	for _, t := range out.Result.Tools {
		if t.Name == "echo" {
			return nil
		}
	}
	return errors.New("tools/list: no echo tool yet")
}

// lastMessage returns the body itself, or for an SSE body the last non-empty data line
// (the response that ends the stream).
func lastMessage(body []byte) []byte {
	s := strings.TrimSpace(string(body))
	if strings.HasPrefix(s, "{") {
		return body
	}
	var last string
	for line := range strings.SplitSeq(s, "\n") {
		if data, ok := strings.CutPrefix(line, "data:"); ok && strings.TrimSpace(data) != "" {
			last = strings.TrimSpace(data)
		}
	}
	return []byte(last)
}
