package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

// fakeMCPMesh is a stand-in for the mcpmesh binary: `migrate` records the database
// URL (and fails when FAKE_MIGRATE_FAIL is set); any other command records its
// arguments and the environment the layouts set, prints a start-up banner (gateways
// and -target=all take their MCP endpoint from FAKE_GATEWAY_<n>, the n-th one started)
// and waits to be stopped.
const fakeMCPMesh = `#!/bin/sh
if [ "$1" = migrate ]; then
	[ -n "$FAKE_MIGRATE_FAIL" ] && { echo "migrate: database unreachable" >&2; exit 1; }
	echo "migrate db=$MCPMESH_DATABASE_URL" >> "$FAKE_LOG"
	exit 0
fi
if [ "$1" = apikey ]; then
	echo "$* mode=$MCPMESH_AUTH_MODE keys=$MCPMESH_AUTH_API_KEYS_FILE pepper=$MCPMESH_AUTH_API_KEYS_PEPPER_FILE" >> "$FAKE_LOG"
	echo mcpm_fake-key
	exit 0
fi
trap 'exit 0' TERM
echo "start $* db=$MCPMESH_DATABASE_URL key=$MCPMESH_SESSION_REQUEST_STATE_KEY gomaxprocs=$GOMAXPROCS auth=$MCPMESH_AUTH_MODE keys=$MCPMESH_AUTH_API_KEYS_FILE pepper=$MCPMESH_AUTH_API_KEYS_PEPPER_FILE" >> "$FAKE_LOG"
n=$(grep -c '^start' "$FAKE_LOG")
echo "gRPC 127.0.0.1:$((20000 + n))"
case "$*" in
*-target=gateway*|*-target=all*)
	g=$(grep -c -e '-target=gateway' -e '-target=all' "$FAKE_LOG")
	eval "echo MCP endpoint \$FAKE_GATEWAY_$g/mcp" ;;
esac
echo "Press Ctrl+C to stop"
# Short foreground sleeps: the TERM trap runs within a second whenever the signal
# comes, and no child outlives the script holding its stdout open.
i=0
while [ $i -lt 120 ]; do sleep 1 >/dev/null 2>&1; i=$((i + 1)); done
`

// fakeGateway answers what waitReady asks (/readyz, a tools/list that lists echo) and
// counts the POSTs that reach it. With authorization set, a POST without that
// Authorization header gets 401.
type fakeGateway struct {
	posts         atomic.Int64
	authorization string
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	switch {
	case r.URL.Path == "/readyz":
		fmt.Fprint(w, "ok")
	case g.authorization != "" && r.Header.Get("Authorization") != g.authorization:
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	case r.Method == http.MethodPost && r.URL.Path == "/mcp":
		g.posts.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo"}]}}`)
	default:
		http.NotFound(w, r)
	}
}

// fakeBinary writes fakeMCPMesh and points the fake at a log and at gateways fake
// gateways; it returns the binary's path, a reader of the log lines and the gateways.
func fakeBinary(t *testing.T, gateways int) (string, func() []string, []*fakeGateway) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "mcpmesh")
	if err := os.WriteFile(bin, []byte(fakeMCPMesh), 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "log")
	t.Setenv("FAKE_LOG", logPath)
	t.Setenv("GOMAXPROCS", "") // the layouts set it per process; the fake records it
	fakes := make([]*fakeGateway, gateways)
	for i := range fakes {
		fakes[i] = &fakeGateway{}
		srv := httptest.NewServer(fakes[i])
		t.Cleanup(srv.Close)
		t.Setenv(fmt.Sprintf("FAKE_GATEWAY_%d", i+1), srv.URL)
	}
	lines := func() []string {
		f, err := os.Open(logPath)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = f.Close() }()
		var out []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			out = append(out, sc.Text())
		}
		return out
	}
	return bin, lines, fakes
}

// field returns the value of "key=value" in a log line.
func field(line, key string) string {
	for f := range strings.FieldsSeq(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

func TestReplicasLayoutWiring(t *testing.T) {
	bin, logLines, gateways := fakeBinary(t, 2)
	const dbURL = "postgres://bench:secret@127.0.0.1:5999/bench"
	st := starter{binary: bin, sixGOMAXPROCS: 1, db: newDatabase(dbURL), conns: 4, progress: io.Discard}
	srv, err := st.start(testContext(t), layoutReplicasPG)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.stop() })

	var names []string
	for _, p := range srv.processes {
		names = append(names, p.Name)
	}
	wantNames := []string{"registry-1", "registry-2", "provider", "session-1", "session-2", "transport-1", "transport-2", "health", "gateway-1", "gateway-2"}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("processes %v, want %v", names, wantNames)
	}
	if srv.databasePID != 0 {
		t.Errorf("databasePID = %d for a -database-url server, want 0 (its CPU is not ours to measure)", srv.databasePID)
	}
	lines := logLines()
	if len(lines) != 1+len(wantNames) || lines[0] != "migrate db="+dbURL {
		t.Fatalf("log %q: want migrate first, then %d starts", lines, len(wantNames))
	}
	starts := lines[1:]
	// The fake's gRPC address is 127.0.0.1:2000n for the n-th process started.
	grpcOf := func(name string) string { return fmt.Sprintf("127.0.0.1:%d", 20001+slices.Index(wantNames, name)) }
	var keys []string
	for i, line := range starts {
		name := wantNames[i]
		if got := field(line, "gomaxprocs"); got != "1" {
			t.Errorf("%s: GOMAXPROCS %q, want 1", name, got)
		}
		stored := strings.HasPrefix(name, "registry") || strings.HasPrefix(name, "session")
		if got := field(line, "db"); (got == dbURL) != stored || (!stored && got != "") {
			t.Errorf("%s: database URL %q; only registry and session replicas get it", name, got)
		}
		if strings.HasPrefix(name, "session") {
			keys = append(keys, field(line, "key"))
		}
	}
	if len(keys) != 2 || keys[0] != keys[1] || len(keys[0]) < 32 {
		t.Errorf("session replicas' requestState keys %q: want one shared key of at least 32 bytes", keys)
	}
	for i := 1; i <= 2; i++ {
		line := starts[slices.Index(wantNames, fmt.Sprintf("gateway-%d", i))]
		for _, peer := range []string{"transport", "registry", "session"} {
			want := fmt.Sprintf("-peers.%s=%s", peer, grpcOf(fmt.Sprintf("%s-%d", peer, i)))
			if !strings.Contains(line, want) {
				t.Errorf("gateway-%d: %q lacks %s", i, line, want)
			}
		}
		transport := starts[slices.Index(wantNames, fmt.Sprintf("transport-%d", i))]
		if want := "-peers.session=" + grpcOf(fmt.Sprintf("session-%d", i)); !strings.Contains(transport, want) {
			t.Errorf("transport-%d: %q lacks %s", i, transport, want)
		}
	}

	// The endpoint is the balancer, which spreads requests over both gateways.
	before := []int64{gateways[0].posts.Load(), gateways[1].posts.Load()}
	hc := &http.Client{}
	defer hc.CloseIdleConnections()
	for range 4 {
		resp, err := hc.Post(srv.endpoint, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	for i, g := range gateways {
		if got := g.posts.Load() - before[i]; got != 2 {
			t.Errorf("gateway %d got %d of 4 requests through %s, want 2", i+1, got, srv.endpoint)
		}
	}
	if err := srv.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

func TestAllPGLayoutMigratesAndPassesTheDatabase(t *testing.T) {
	bin, logLines, _ := fakeBinary(t, 1)
	const dbURL = "postgres://bench@127.0.0.1:5999/bench"
	st := starter{binary: bin, db: newDatabase(dbURL), allEnv: []string{"GOGC=10"}, progress: io.Discard}
	srv, err := st.start(testContext(t), layoutAllPG)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	lines := logLines()
	if len(lines) != 2 || lines[0] != "migrate db="+dbURL || !strings.Contains(lines[1], "-target=all") || field(lines[1], "db") != dbURL {
		t.Fatalf("log %q: want a migrate, then -target=all with the database URL", lines)
	}
	if !slices.Equal(st.allEnv, []string{"GOGC=10"}) {
		t.Fatalf("starting all-pg changed the starter's allEnv to %q", st.allEnv)
	}
}

// all-auth makes a key with `mcpmesh apikey create` under a fresh pepper, starts
// -target=all with auth.mode api_key over the same files, waits for readiness with the
// key, hands the key to the load, and removes the files when it stops.
func TestAllAuthLayoutMakesAKeyAndUsesIt(t *testing.T) {
	bin, logLines, gateways := fakeBinary(t, 1)
	gateways[0].authorization = "Bearer mcpm_fake-key"
	st := starter{binary: bin, progress: io.Discard}
	srv, err := st.start(testContext(t), layoutAllAuth)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.stop() })
	lines := logLines()
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "apikey create ") || !strings.Contains(lines[1], "-target=all") {
		t.Fatalf("log %q: want apikey create, then -target=all", lines)
	}
	for _, key := range []string{"keys", "pepper"} {
		if field(lines[0], key) == "" || field(lines[0], key) != field(lines[1], key) {
			t.Errorf("%s: apikey create used %q, the mesh %q; want the same file", key, field(lines[0], key), field(lines[1], key))
		}
	}
	if field(lines[0], "mode") != "api_key" || field(lines[1], "auth") != "api_key" {
		t.Errorf("auth modes %q, %q; want api_key", field(lines[0], "mode"), field(lines[1], "auth"))
	}
	pepper, err := os.ReadFile(field(lines[0], "pepper"))
	if err != nil || len(strings.TrimSpace(string(pepper))) < 32 {
		t.Errorf("pepper file: %v, %d bytes; want at least 32", err, len(pepper))
	}
	if srv.authorization != "Bearer mcpm_fake-key" || gateways[0].posts.Load() == 0 {
		t.Fatalf("authorization %q after %d readiness POSTs; want the created key", srv.authorization, gateways[0].posts.Load())
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(field(lines[0], "pepper"))); !os.IsNotExist(err) {
		t.Errorf("the layout's files outlive it: %v", err)
	}
}

func TestPGLayoutFailsWhenMigrateFails(t *testing.T) {
	bin, logLines, _ := fakeBinary(t, 1)
	t.Setenv("FAKE_MIGRATE_FAIL", "1")
	st := starter{binary: bin, db: newDatabase("postgres://nowhere/db"), progress: io.Discard}
	_, err := st.start(testContext(t), layoutAllPG)
	if err == nil || !strings.Contains(err.Error(), "mcpmesh migrate") || !strings.Contains(err.Error(), "database unreachable") {
		t.Fatalf("start after a failed migrate: %v; want the migrate error with its output", err)
	}
	if _, statErr := os.Stat(os.Getenv("FAKE_LOG")); statErr == nil {
		t.Fatalf("a process started after migrate failed: %q", logLines())
	}
}

// fakeCluster records how it is used.
type fakeCluster struct{ closed int }

func (c *fakeCluster) URL() string  { return "postgres://own@127.0.0.1:1/postgres" }
func (c *fakeCluster) PID() int     { return 4242 }
func (c *fakeCluster) Close() error { c.closed++; return nil }

func TestDatabase(t *testing.T) {
	t.Run("given URL: no cluster", func(t *testing.T) {
		d := newDatabase("postgres://given/db")
		d.startCluster = func() (cluster, error) {
			t.Fatal("started a cluster although -database-url was given")
			return nil, nil
		}
		url, err := d.ensure(io.Discard)
		if err != nil || url != "postgres://given/db" || d.pid() != 0 || d.close() != nil {
			t.Fatalf("ensure = %q, %v; pid %d", url, err, d.pid())
		}
	})
	t.Run("own cluster: started once, measured, closed", func(t *testing.T) {
		c := &fakeCluster{}
		starts := 0
		d := newDatabase("")
		d.startCluster = func() (cluster, error) { starts++; return c, nil }
		for range 2 {
			if url, err := d.ensure(io.Discard); err != nil || url != c.URL() {
				t.Fatalf("ensure = %q, %v", url, err)
			}
		}
		if starts != 1 || d.pid() != 4242 {
			t.Fatalf("%d starts, pid %d; want 1 start and the postmaster's pid", starts, d.pid())
		}
		if err := d.close(); err != nil || c.closed != 1 || d.close() != nil || c.closed != 1 {
			t.Fatalf("close: %v, closed %d times; want once", err, c.closed)
		}
	})
	t.Run("no PostgreSQL binaries: a clear error", func(t *testing.T) {
		d := newDatabase("")
		d.startCluster = func() (cluster, error) {
			return nil, fmt.Errorf("%w: no initdb and postgres in /usr/lib/postgresql/*/bin or on PATH; install it (apt-get install -y postgresql)", pgtest.ErrUnavailable)
		}
		_, err := d.ensure(io.Discard)
		for _, want := range []string{"PostgreSQL-backed layouts need a database", "no initdb", "apt-get install", "-database-url="} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v does not say %q", err, want)
			}
		}
		if !errors.Is(err, pgtest.ErrUnavailable) {
			t.Errorf("error %v does not wrap pgtest.ErrUnavailable", err)
		}
	})
}

func TestDatabaseOwnClusterForReal(t *testing.T) {
	d := newDatabase("")
	url, err := d.ensure(io.Discard)
	if errors.Is(err, pgtest.ErrUnavailable) && os.Getenv(pgtest.EnvCI) == "" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	pid := d.pid()
	if !strings.HasPrefix(url, "postgres://") || pid <= 0 {
		t.Fatalf("url %q, pid %d", url, pid)
	}
	if _, err := treeCPU(pid); err != nil {
		t.Errorf("database CPU: %v", err)
	}
	if err := d.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); !os.IsNotExist(err) {
		t.Errorf("postmaster %d still running after close", pid)
	}
}

func TestBalancerRoundRobinAndStreams(t *testing.T) {
	var got [2]atomic.Int64
	backends := make([]string, 2)
	for i := range backends {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got[i].Add(1)
			if r.Header.Get("Mcp-Session-Id") != "s1" {
				http.Error(w, "session header lost", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: from %d\n\n", i)
			w.(http.Flusher).Flush()
		}))
		t.Cleanup(srv.Close)
		backends[i] = srv.URL
	}
	lb, err := startBalancer(backends, 4)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{}
	var bodies []string
	for range 4 {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, lb.URL+"/mcp", strings.NewReader("{}"))
		req.Header.Set("Mcp-Session-Id", "s1")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
		}
		bodies = append(bodies, strings.TrimSpace(string(b)))
	}
	hc.CloseIdleConnections()
	if want := []string{"data: from 0", "data: from 1", "data: from 0", "data: from 1"}; !slices.Equal(bodies, want) {
		t.Errorf("answers %q, want %q (strict alternation)", bodies, want)
	}
	if lb.hits[0].Load() != 2 || lb.hits[1].Load() != 2 || got[0].Load() != 2 || got[1].Load() != 2 {
		t.Errorf("hits %d/%d, backends saw %d/%d; want 2 each", lb.hits[0].Load(), lb.hits[1].Load(), got[0].Load(), got[1].Load())
	}
	if err := lb.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Post(lb.URL, "application/json", strings.NewReader("{}")); err == nil {
		t.Error("the balancer still answers after close")
	}
}
