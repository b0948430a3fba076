package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mcpmesh/mcpmesh/tools/proc"
)

// Layout names accepted by -layouts.
const (
	layoutCeiling    = "ceiling"
	layoutAll        = "all"
	layoutSix        = "six"
	layoutAllPG      = "all-pg"
	layoutReplicasPG = "replicas-pg"
	// layoutAllStateless is layoutAll under the stateless 2026-07-28 load.
	layoutAllStateless = "all-stateless"
	// layoutAllAuth is layoutAll with auth.mode api_key, every request carrying a key:
	// the cost of authentication.
	layoutAllAuth = "all-auth"
	layoutMCPGo   = peerMCPGo
	layoutGoSDK   = peerGoSDK
	// layoutFederated is the mesh in one process without its built-in provider, in
	// front of the go-sdk peer as a federated upstream: each call crosses the
	// federation hop to an MCP server of its own.
	layoutFederated = "federated"
)

// knownLayouts are every layout, in the order of the report; defaultLayouts are those
// that need no PostgreSQL.
var (
	knownLayouts   = []string{layoutCeiling, layoutMCPGo, layoutGoSDK, layoutAll, layoutAllAuth, layoutAllStateless, layoutFederated, layoutAllPG, layoutSix, layoutReplicasPG}
	defaultLayouts = []string{layoutCeiling, layoutMCPGo, layoutGoSDK, layoutAll, layoutAllAuth, layoutAllStateless, layoutFederated, layoutSix}
)

// usesDatabase reports whether a layout keeps its state in PostgreSQL.
func usesDatabase(layout string) bool { return layout == layoutAllPG || layout == layoutReplicasPG }

// replicas is how many replicas of registry, session, transport and gateway the
// replicas-pg layout runs.
const replicas = 2

// Timeouts for process management: start-up (banner), readiness (the provider's tools
// routable) and graceful stop before a kill.
const (
	startTimeout = 30 * time.Second
	readyTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
)

// server is a running layout: its processes (dependencies first) and MCP endpoint.
type server struct {
	layout   string
	endpoint string
	base     string
	stateful bool
	// stateless: the load calls the 2026-07-28 way, without sessions.
	stateless bool
	// pin runs every process on serverCPU (-pin).
	pin       bool
	processes []*proc.Process
	// lb is the load balancer in front of the gateways of replicas-pg (nil otherwise).
	lb *balancer
	// databasePID is the postmaster whose CPU is charged to the database (0: none, or
	// a server the bench did not start).
	databasePID int
	// authorization is the Authorization header every request carries ("" for none).
	authorization string
	// dir holds the layout's files (all-auth's key store, federated's configuration), removed by stop ("": none).
	dir string
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
	if s.lb != nil {
		errs = append(errs, s.lb.close())
		s.lb = nil
	}
	for i := len(s.processes) - 1; i >= 0; i-- {
		if err := s.processes[i].Stop(stopTimeout); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", s.processes[i].Name, err))
		}
	}
	s.processes = nil
	if s.dir != "" {
		errs = append(errs, os.RemoveAll(s.dir))
		s.dir = ""
	}
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
	binary string
	// ceiling is the executable whose `ceiling` command serves the ceiling layout (the
	// bench itself).
	ceiling       string
	sixGOMAXPROCS int
	// allEnv is added to the environment of the single-process layout.
	allEnv []string
	// db serves the PostgreSQL-backed layouts (nil: they cannot run).
	db *database
	// conns is how many connections the load balancer keeps to each gateway.
	conns int
	// progress receives what the bench prints while it works.
	progress io.Writer
	// pin runs the servers on serverCPU (-pin).
	pin bool
}

// start runs a layout and waits until it serves the echo tool. On error nothing it
// started is left running.
func (st starter) start(ctx context.Context, layout string) (*server, error) {
	s := &server{layout: layout, stateful: layout != layoutCeiling && layout != layoutAllStateless, stateless: layout == layoutAllStateless, pin: st.pin}
	var dbURL string
	var err error
	if usesDatabase(layout) {
		dbURL, err = st.prepareDatabase(ctx)
		if err != nil {
			return nil, fmt.Errorf("layout %s: %w", layout, err)
		}
		s.databasePID = st.db.pid()
	}
	switch layout {
	case layoutCeiling:
		_, err = s.add(ctx, st.ceiling, "ceiling", nil, "ceiling")
	case layoutMCPGo, layoutGoSDK:
		// A peer server: the bench itself again, serving echo with that SDK.
		_, err = s.add(ctx, st.ceiling, layout, nil, layout)
	case layoutAll, layoutAllStateless:
		_, err = s.add(ctx, st.binary, "all", st.allEnv, "-target=all", "-grpc.listen=127.0.0.1:0", "-gateway.listen=127.0.0.1:0", "-log.level=warn")
	case layoutAllAuth:
		err = st.startAllAuth(ctx, s)
	case layoutAllPG:
		env := append(slices.Clip(st.allEnv), "MCPMESH_DATABASE_URL="+dbURL)
		_, err = s.add(ctx, st.binary, "all", env, "-target=all", "-grpc.listen=127.0.0.1:0", "-gateway.listen=127.0.0.1:0", "-log.level=warn")
	case layoutFederated:
		err = st.startFederated(ctx, s)
	case layoutSix:
		err = st.startSix(ctx, s)
	case layoutReplicasPG:
		err = st.startReplicas(ctx, s, dbURL)
	default:
		err = fmt.Errorf("unknown layout %q", layout)
	}
	if err == nil && s.lb == nil {
		last := s.processes[len(s.processes)-1]
		s.base = last.HTTP
		s.endpoint = last.HTTP + "/mcp"
		if (s.stateful || s.stateless) && !IsPeer(layout) {
			err = waitReady(ctx, s.base, s.authorization) // a peer serves once it has printed its banner
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
	if s.pin {
		binary, args = pinned(binary, args)
	}
	p, err := proc.Start(ctx, name, binary, env, args...)
	if err != nil {
		return nil, err
	}
	s.processes = append(s.processes, p)
	return p, nil
}

// prepareDatabase returns the URL of the database of a PostgreSQL-backed layout,
// starting the throwaway cluster on first use, and migrates it.
func (st starter) prepareDatabase(ctx context.Context) (string, error) {
	if st.db == nil {
		return "", errors.New("no database configured")
	}
	url, err := st.db.ensure(st.progress)
	if err != nil {
		return "", err
	}
	if err := migrate(ctx, st.binary, url); err != nil {
		return "", err
	}
	return url, nil
}

// processEnv is the environment of each process of the multi-process layouts.
func (st starter) processEnv() []string {
	if st.sixGOMAXPROCS <= 0 {
		return nil
	}
	return []string{fmt.Sprintf("GOMAXPROCS=%d", st.sixGOMAXPROCS)}
}

// startReplicas starts the layout of the multi-replica end-to-end test: two replicas
// each of registry, session, transport and gateway over one database, plus the
// everything provider and health, as separate processes, and a round-robin load
// balancer over the gateways. Replica i of the gateway talks to replica i of transport,
// session and registry; registry and session keep their state in the database, and
// the session replicas share the key that signs requestState.
func (st starter) startReplicas(ctx context.Context, s *server, dbURL string) error {
	const anyPort = "-grpc.listen=127.0.0.1:0"
	const quiet = "-log.level=warn"
	env := st.processEnv()
	stored := append(slices.Clip(env), "MCPMESH_DATABASE_URL="+dbURL, "MCPMESH_SESSION_REQUEST_STATE_KEY="+requestStateKey())
	regs := make([]*proc.Process, replicas)
	for i := range regs {
		var err error
		if regs[i], err = s.add(ctx, st.binary, fmt.Sprintf("registry-%d", i+1), stored, "-target=registry", anyPort, quiet); err != nil {
			return err
		}
	}
	if _, err := s.add(ctx, st.binary, "provider", env, "-target=provider-everything", anyPort, quiet, "-peers.registry="+regs[0].GRPC); err != nil {
		return err
	}
	sessions := make([]*proc.Process, replicas)
	for i := range sessions {
		var err error
		if sessions[i], err = s.add(ctx, st.binary, fmt.Sprintf("session-%d", i+1), stored, "-target=session", anyPort, quiet,
			"-peers.registry="+regs[i].GRPC); err != nil {
			return err
		}
	}
	transports := make([]*proc.Process, replicas)
	for i := range transports {
		var err error
		if transports[i], err = s.add(ctx, st.binary, fmt.Sprintf("transport-%d", i+1), env, "-target=transport", anyPort, quiet,
			"-peers.session="+sessions[i].GRPC); err != nil {
			return err
		}
	}
	hl, err := s.add(ctx, st.binary, "health", env, "-target=health", anyPort, quiet, "-peers.registry="+regs[0].GRPC,
		"-peers.transport="+transports[0].GRPC, "-peers.session="+sessions[0].GRPC)
	if err != nil {
		return err
	}
	gateways := make([]string, replicas)
	for i := range gateways {
		g, err := s.add(ctx, st.binary, fmt.Sprintf("gateway-%d", i+1), env, "-target=gateway", "-gateway.listen=127.0.0.1:0", quiet,
			"-peers.transport="+transports[i].GRPC, "-peers.registry="+regs[i].GRPC, "-peers.session="+sessions[i].GRPC, "-peers.health="+hl.GRPC)
		if err != nil {
			return err
		}
		gateways[i] = g.HTTP
	}
	for _, g := range gateways {
		// Also waits until each replica's registry routes the provider's tools.
		if err := waitReady(ctx, g, s.authorization); err != nil {
			return fmt.Errorf("gateway %s: %w", g, err)
		}
	}
	lb, err := startBalancer(gateways, st.conns)
	if err != nil {
		return err
	}
	s.lb = lb
	s.base = lb.URL
	s.endpoint = lb.URL + "/mcp"
	return nil
}

// startAllAuth starts layoutAll with auth.mode api_key and a key for the load.
func (st starter) startAllAuth(ctx context.Context, s *server) error {
	dir, err := os.MkdirTemp("", "mcpmesh-bench-auth-")
	if err != nil {
		return err
	}
	s.dir = dir
	env, key, err := apiKeyAuth(ctx, st.binary, dir)
	if err != nil {
		return err
	}
	s.authorization = "Bearer " + key
	_, err = s.add(ctx, st.binary, "all", append(slices.Clip(st.allEnv), env...), "-target=all", "-grpc.listen=127.0.0.1:0", "-gateway.listen=127.0.0.1:0", "-log.level=warn")
	return err
}

// startFederated starts the go-sdk peer as the upstream, then the mesh in one process
// with every target but the everything provider, its federation pointed at the peer
// (no prefix, so the load calls echo by its own name).
func (st starter) startFederated(ctx context.Context, s *server) error {
	upstream, err := s.add(ctx, st.ceiling, "upstream", nil, peerGoSDK)
	if err != nil {
		return err
	}
	if s.dir, err = os.MkdirTemp("", "mcpmesh-bench-federated-"); err != nil {
		return err
	}
	config := filepath.Join(s.dir, "mesh.yaml")
	yaml := fmt.Sprintf("federation:\n  upstreams:\n    - name: upstream\n      url: %s/mcp\n", upstream.HTTP)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		return err
	}
	_, err = s.add(ctx, st.binary, "federated", st.allEnv, "-config="+config,
		"-target=registry,federation,session,transport,health,gateway",
		"-grpc.listen=127.0.0.1:0", "-gateway.listen=127.0.0.1:0", "-log.level=warn")
	return err
}

// startSix starts every service and the everything provider as separate processes,
// dependencies first, with the flags of the e2e harness and GOMAXPROCS set per process.
func (st starter) startSix(ctx context.Context, s *server) error {
	const anyPort = "-grpc.listen=127.0.0.1:0"
	const quiet = "-log.level=warn"
	env := st.processEnv()
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
// authorization, when set, is sent with the tools/list.
func waitReady(ctx context.Context, base, authorization string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	var last error
	for {
		last = probeReady(ctx, hc, base, authorization)
		if last == nil {
			return nil
		}
		sleepUntil(ctx, time.Now().Add(50*time.Millisecond))
		if ctx.Err() != nil {
			return fmt.Errorf("not ready within %s: %w", readyTimeout, last)
		}
	}
}

func probeReady(ctx context.Context, hc *http.Client, base, authorization string) error {
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
	return echoListed(ctx, hc, base, authorization)
}

// statelessToolsList is a 2026-07-28 tools/list request with the required _meta.
const statelessToolsList = `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{` +
	`"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
	`"io.modelcontextprotocol/clientInfo":{"name":"mcpmesh-bench","version":"1"},` +
	`"io.modelcontextprotocol/clientCapabilities":{}}}}`

// echoListed asks tools/list (with authorization, when set) and checks that the echo
// tool is there.
func echoListed(ctx context.Context, hc *http.Client, base, authorization string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/mcp", strings.NewReader(statelessToolsList))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", "tools/list")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
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
