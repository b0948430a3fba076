package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
	"github.com/mcpmesh/mcpmesh/tools/proc"
)

// Settings of the disaster-recovery drill (make dr-drill sets them larger).
const (
	envDrillSessions = "MCPMESH_DR_SESSIONS" // sessions to create (default 300)
	drillFillWorkers = 32                    // concurrent clients filling the database
	drillDatabase    = "mcpmesh"
	backupInterval   = 5 * time.Minute
)

// drillProviders register with a 10-minute lease and are SIGKILLed before the dump, so
// their registry rows can only come back from the backup.
var drillProviders = []string{"everything", "drill-a", "drill-b"}

// drillSubscribers is how many drill sessions subscribe to the changing resource.
const drillSubscribers = 20

// drillTouch changes test://watched-resource of the drill provider that serves it
// (drill-a: the provider whose name sorts first serves a URI several offer).
const drillTouch = "drill-a.touch-resource"

// drillTool is the everything provider's echo, qualified because every drill provider
// offers an echo tool.
const drillTool = "everything.echo"

// TestDisasterRecoveryDrill is the procedure of docs/operations/backup-and-restore.md,
// run end to end: a mesh on its own PostgreSQL is filled through the API (sessions,
// provider registrations), stopped, dumped with pg_dump -Fc; the database is dropped,
// created again and restored with pg_restore; the mesh starts on it and every session
// and provider must be there. It logs the measured dump and restore times and what a
// backup every 5 minutes could lose at the measured rate of new sessions.
func TestDisasterRecoveryDrill(t *testing.T) {
	sessions := 300
	if v := os.Getenv(envDrillSessions); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", envDrillSessions, v)
		}
		sessions = n
	}
	db := pgtest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sql(ctx, t, db.URL(), "CREATE DATABASE "+drillDatabase)
	url := db.DatabaseURL(drillDatabase)
	env := []string{"MCPMESH_DATABASE_URL=" + url}

	// 1. Migrate and start the mesh (every service in one process, state in
	// PostgreSQL) and the providers (separate processes).
	migrateDatabase(t, env)
	mesh := startDrillMesh(t, env, "mesh")
	providers := map[string]*proc.Process{}
	for _, name := range drillProviders {
		providers[name] = startDrillProvider(t, mesh.GRPC, name)
	}
	waitReadyz(t, mesh.HTTP, http.StatusOK)
	waitProviders(t, mesh.HTTP, drillProviders)
	waitTool(t, mesh.HTTP, drillTool)

	// 2. Fill it through the API: each session is initialized, confirmed and calls a tool.
	c := loadClient(drillFillWorkers)
	defer c.CloseIdleConnections()
	fillStart := time.Now()
	ids, err := fill(ctx, c, mesh.HTTP, sessions)
	if err != nil {
		t.Fatal(err)
	}
	fillTime := time.Since(fillStart)
	perMinute := float64(sessions) / fillTime.Minutes()
	// Some sessions subscribe to the changing resource, which then changes: their
	// GET streams have events in the event store, which must survive too.
	subscribed := ids[:min(drillSubscribers, len(ids))]
	subscribeAndTouch(ctx, t, c, mesh.HTTP, url, subscribed)
	rowsBefore := tableCounts(ctx, t, url)

	// 3. Stop writing: the providers die without deregistering, the mesh stops cleanly.
	for _, name := range drillProviders {
		providers[name].Kill()
	}
	if err := mesh.Stop(20 * time.Second); err != nil {
		t.Fatalf("stop the mesh: %v", err)
	}

	// 4. Back up, drop, restore.
	dump := filepath.Join(t.TempDir(), "mcpmesh.dump")
	dumpStart := time.Now()
	run(ctx, t, db.Tool("pg_dump"), "--format=custom", "--file="+dump, "--dbname="+url)
	dumpTime := time.Since(dumpStart)
	info, err := os.Stat(dump)
	if err != nil {
		t.Fatal(err)
	}
	sql(ctx, t, db.URL(), "DROP DATABASE "+drillDatabase+" WITH (FORCE)")
	restoreStart := time.Now()
	sql(ctx, t, db.URL(), "CREATE DATABASE "+drillDatabase)
	run(ctx, t, db.Tool("pg_restore"), "--exit-on-error", "--no-owner", "--dbname="+url, dump)
	restoreTime := time.Since(restoreStart)
	if rowsAfter := tableCounts(ctx, t, url); !mapsEqual(rowsBefore, rowsAfter) {
		t.Errorf("rows per table before the dump %v, after the restore %v", rowsBefore, rowsAfter)
	}

	// 5. Start the mesh on the restored database: migrate is a no-op, every provider
	// registered before the backup is listed, every session answers.
	restartStart := time.Now()
	migrateDatabase(t, env)
	restored := startDrillMesh(t, env, "mesh-restored")
	waitReadyz(t, restored.HTTP, http.StatusOK)
	restartTime := time.Since(restartStart)
	if listed := providerNames(t, restored.HTTP); !containsAll(listed, drillProviders) {
		t.Errorf("providers after the restore %v, want %v", listed, drillProviders)
	}
	missing := 0
	for _, id := range ids {
		resp, err := http.Get(restored.HTTP + "/v1/sessions/" + id)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d sessions missing after the restore (GET /v1/sessions/{id})", missing, len(ids))
	}
	// Every subscribed session's GET stream replays its event from the restored store.
	for _, id := range subscribed {
		replayed := firstReplayedEvent(t, c, restored.HTTP, id)
		if !strings.Contains(replayed, "notifications/resources/updated") {
			t.Errorf("session %s replayed %q after the restore, want its resources/updated event", id, replayed)
		}
	}
	// The provider comes back (re-registering at its new address); the old sessions call
	// its tool with their old ids.
	// Until it has, the restored row routes to its address at backup time.
	back := startDrillProvider(t, restored.GRPC, "everything")
	waitCallable(ctx, t, c, restored.HTTP, ids[0], back.GRPC)
	failed := 0
	for i, id := range ids {
		s := &loadSession{id: id, version: "2025-11-25"}
		if err := echoTool(ctx, c, restored.HTTP, s, 10+i, drillTool); err != nil {
			failed++
			if failed <= 3 {
				t.Errorf("session %s after the restore: %v", id, err)
			}
		}
	}

	lossPerInterval := perMinute * backupInterval.Minutes()
	t.Logf(`disaster-recovery drill report
  filled:   %d sessions in %s with %d concurrent clients = %.0f sessions/minute
  rows:     %v
  pg_dump:  %s (%d KiB, custom format)
  restore:  %s (CREATE DATABASE + pg_restore)
  restart:  %s (migrate no-op + mesh ready on the restored database)
  checked:  %d/%d sessions found by GET /v1/sessions/{id}, %d/%d answered tools/call with their old id, providers %v listed,
            %d subscribed sessions replayed their events (GET with Last-Event-ID)
  estimate: a backup every %s loses up to %.0f sessions created since the last backup at this rate
            (sessions/minute × %.0f minutes; a worst case at the drill's sustained rate, not a measurement of real traffic)`,
		sessions, fillTime.Round(time.Millisecond), drillFillWorkers, perMinute,
		rowsBefore,
		dumpTime.Round(time.Millisecond), info.Size()/1024,
		restoreTime.Round(time.Millisecond),
		restartTime.Round(time.Millisecond),
		len(ids)-missing, len(ids), len(ids)-failed, len(ids), drillProviders, len(subscribed),
		backupInterval, lossPerInterval, backupInterval.Minutes())
}

func migrateDatabase(t *testing.T, env []string) {
	t.Helper()
	migrate := exec.Command(binary, "migrate")
	migrate.Env = append(migrate.Environ(), env...)
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("mcpmesh migrate: %v\n%s", err, out)
	}
}

func startDrillMesh(t *testing.T, env []string, name string) *proc.Process {
	t.Helper()
	return startWithEnv(t, name, env, "-target=registry,session,transport,health,gateway",
		"-grpc.listen=127.0.0.1:0", "-gateway.listen=127.0.0.1:0")
}

func startDrillProvider(t *testing.T, registry, name string) *proc.Process {
	t.Helper()
	return startWithEnv(t, "provider-"+name, []string{"MCPMESH_EVERYTHING_NAME=" + name, "MCPMESH_PROVIDER_LEASE=10m"},
		"-target=provider-everything", "-grpc.listen=127.0.0.1:0", "-peers.registry="+registry)
}

// fill opens n sessions with drillFillWorkers concurrent clients; each calls echo once.
func fill(ctx context.Context, c *http.Client, base string, n int) ([]string, error) {
	ids := make([]string, n)
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range drillFillWorkers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				s, err := openLoadSession(ctx, c, base)
				if err == nil {
					err = echoTool(ctx, c, base, s, 0, drillTool)
				}
				if err != nil {
					mu.Lock()
					firstErr = cmpOr(firstErr, fmt.Errorf("session %d: %w", i, err))
					mu.Unlock()
					return
				}
				ids[i] = s.id
			}
		})
	}
	wg.Wait()
	return ids, firstErr
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// waitTool waits (bounded) until a stateless tools/list shows tool: the session
// service learns the catalogue asynchronously.
func waitTool(t *testing.T, base, tool string) {
	t.Helper()
	eventually.True(t, 20*time.Second, func() bool { return toolListed(base, tool) }, "tool %q is listed at %s", tool, base)
}

// waitCallable waits (bounded) until the registry lists the everything provider at addr
// and session id's call of drillTool succeeds: the session service learns the new route
// asynchronously.
func waitCallable(ctx context.Context, t *testing.T, c *http.Client, base, id, addr string) {
	t.Helper()
	s := &loadSession{id: id, version: "2025-11-25"}
	eventually.NoError(t, 20*time.Second, func() error {
		if !slices.Contains(providerAddresses(t, base), addr) {
			return errors.New("the registry does not list it yet")
		}
		return echoTool(ctx, c, base, s, 1, drillTool)
	}, "the everything provider at %s is callable", addr)
}

// waitProviders waits (bounded) until GET /v1/providers lists every name.
func waitProviders(t *testing.T, base string, names []string) {
	t.Helper()
	eventually.True(t, 20*time.Second, func() bool { return containsAll(providerNames(t, base), names) },
		"GET /v1/providers lists %v", names)
}

func providerNames(t *testing.T, base string) []string {
	t.Helper()
	return listProviders(t, base, func(name, _ string) string { return name })
}

func providerAddresses(t *testing.T, base string) []string {
	t.Helper()
	return listProviders(t, base, func(_, address string) string { return address })
}

// listProviders returns field(name, address) of every provider of GET /v1/providers,
// sorted.
func listProviders(t *testing.T, base string, field func(name, address string) string) []string {
	t.Helper()
	resp, err := http.Get(base + "/v1/providers")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Providers []struct {
			Name    string `json:"name"`
			Address string `json:"address"`
		} `json:"providers"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/providers: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(out.Providers))
	for _, p := range out.Providers {
		names = append(names, field(p.Name, p.Address))
	}
	slices.Sort(names)
	return names
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// tableCounts counts the rows of every table in the public schema.
func tableCounts(ctx context.Context, t *testing.T, url string) map[string]int64 {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, table := range tables {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[table] = n
	}
	return counts
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// sql runs one statement on its own connection.
func sql(ctx context.Context, t *testing.T, url, statement string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, statement); err != nil {
		t.Fatalf("%s: %v", statement, err)
	}
}

// run runs a PostgreSQL client program and fails the test with its output on error.
func run(ctx context.Context, t *testing.T, program string, args ...string) {
	t.Helper()
	if out, err := exec.CommandContext(ctx, program, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(program), err, out)
	}
}

// subscribeAndTouch subscribes the sessions to test://watched-resource, changes it, and
// waits until the event store holds an event for each of them.
func subscribeAndTouch(ctx context.Context, t *testing.T, c *http.Client, base, dbURL string, ids []string) {
	t.Helper()
	headers := func(id string) map[string]string {
		return map[string]string{"Mcp-Session-Id": id, "MCP-Protocol-Version": "2025-11-25"}
	}
	for _, id := range ids {
		resp := do(t, c, http.MethodPost, base+"/mcp", `{"jsonrpc":"2.0","id":"sub","method":"resources/subscribe","params":{"uri":"`+watchedURI+`"}}`, headers(id))
		var out rpcResponse
		if err := decodeJSON(resp, &out); err != nil || out.Error != nil {
			t.Fatalf("subscribe %s: %+v %v", id, out, err)
		}
	}
	resp := do(t, c, http.MethodPost, base+"/mcp", `{"jsonrpc":"2.0","id":"touch","method":"tools/call","params":{"name":"`+drillTouch+`","arguments":{}}}`, headers(ids[0]))
	var out rpcResponse
	if err := decodeJSON(resp, &out); err != nil || out.Error != nil {
		t.Fatalf("%s: %+v %v", drillTouch, out, err)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	eventually.NoError(t, 20*time.Second, func() error {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(DISTINCT session_id) FROM session_events").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n < len(ids) {
			return fmt.Errorf("events recorded for %d of %d subscribed sessions", n, len(ids))
		}
		return nil
	}, "every subscribed session has events")
}

// firstReplayedEvent opens the session's GET stream from the beginning of its events
// (Last-Event-ID s0) and returns the data of the first event with data.
func firstReplayedEvent(t *testing.T, c *http.Client, base, id string) string {
	t.Helper()
	resp := do(t, c, http.MethodGet, base+"/mcp", "", map[string]string{
		"Mcp-Session-Id": id, "MCP-Protocol-Version": "2025-11-25", "Accept": "text/event-stream",
		"Content-Type": "", "Last-Event-ID": "s0",
	})
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		t.Fatalf("GET stream of %s: status %d", id, resp.StatusCode)
	}
	stream := readSSE(resp)
	defer resp.Body.Close()
	return stream.next(t, 10*time.Second).data
}
