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
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
	"github.com/mcpmesh/mcpmesh/tools/mcptest"
	"github.com/mcpmesh/mcpmesh/tools/proc"
)

// binary is the mcpmesh binary built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mcpmesh-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "mcpmesh")
	// Stamped as `make build` stamps a release (TestBuildVersionEverywhere checks it
	// comes back everywhere).
	build := exec.Command("go", "build", "-ldflags", "-X main.buildVersion="+e2eVersion+" -X main.commit="+e2eCommit, "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build mcpmesh:", err)
		return 1
	}
	// pgtest starts a throwaway PostgreSQL for the tests that need one and stops it
	// afterwards; it also checks for leaked goroutines. Idle keep-alive connections of
	// HTTP clients are not leaks.
	http.DefaultClient.CloseIdleConnections()
	return pgtest.Run(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

// mesh is a running mesh under test: its processes and the gateway's base URL.
type mesh struct {
	base      string
	processes map[string]*proc.Process
}

// start runs one mcpmesh process and stops it when the test ends, printing its logs
// when the test failed.
func start(t *testing.T, name string, args ...string) *proc.Process {
	t.Helper()
	return startWithEnv(t, name, nil, args...)
}

// startWithEnv is start with extra environment variables (KEY=value).
func startWithEnv(t *testing.T, name string, env []string, args ...string) *proc.Process {
	t.Helper()
	return startBinary(t, binary, name, env, args...)
}

// startBinary is startWithEnv with another mcpmesh binary (the previous release's).
func startBinary(t *testing.T, bin, name string, env []string, args ...string) *proc.Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args = append([]string{"-log.level=debug"}, args...)
	p, err := proc.Start(ctx, name, bin, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(20 * time.Second); err != nil {
			select {
			case <-p.Done(): // already gone (killed on purpose by the test)
			default:
				t.Errorf("%s: %v", name, err)
			}
		}
		if t.Failed() {
			t.Logf("---- %s logs ----\n%s", name, p.Logs())
		}
	})
	return p
}

// startAll starts the whole mesh in one process.
func startAll(t *testing.T) *mesh {
	p := start(t, "all", "-target=all", "-grpc.listen=127.0.0.1:0", "-gateway.listen=127.0.0.1:0")
	m := &mesh{base: p.HTTP, processes: map[string]*proc.Process{"all": p}}
	waitReady(t, m.base)
	return m
}

// startSix starts every service and the everything provider as separate processes,
// each on a free port, dependencies first.
func startSix(t *testing.T) *mesh {
	const anyPort = "-grpc.listen=127.0.0.1:0"
	reg := start(t, "registry", "-target=registry", anyPort)
	prov := start(t, "provider", "-target=provider-everything", anyPort, "-peers.registry="+reg.GRPC)
	sess := start(t, "session", "-target=session", anyPort, "-peers.registry="+reg.GRPC)
	tr := start(t, "transport", "-target=transport", anyPort, "-peers.session="+sess.GRPC)
	hl := start(t, "health", "-target=health", anyPort, "-peers.registry="+reg.GRPC,
		"-peers.transport="+tr.GRPC, "-peers.session="+sess.GRPC)
	gw := start(t, "gateway", "-target=gateway", "-gateway.listen=127.0.0.1:0",
		"-peers.transport="+tr.GRPC, "-peers.registry="+reg.GRPC, "-peers.session="+sess.GRPC, "-peers.health="+hl.GRPC)
	m := &mesh{base: gw.HTTP, processes: map[string]*proc.Process{
		"registry": reg, "provider": prov, "session": sess, "transport": tr, "health": hl, "gateway": gw,
	}}
	waitReady(t, m.base)
	return m
}

// waitReady polls /readyz, then waits until the everything provider's tools are
// routable (registration and the session's catalogue watch are asynchronous).
func waitReady(t *testing.T, base string) {
	t.Helper()
	eventually.NoError(t, 20*time.Second, func() error {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		switch {
		case resp.StatusCode != http.StatusOK:
			return fmt.Errorf("/readyz answered %d", resp.StatusCode)
		case !toolListed(base, "echo"):
			return errors.New("echo is not listed yet")
		}
		return nil
	}, "the mesh at %s is ready", base)
}

// toolListed reports whether a stateless tools/list (uncached, unlike a client's)
// shows a tool named part, or a tool qualified by a provider named part ("part.x").
func toolListed(base, part string) bool {
	names, err := listedTools(base)
	if err != nil {
		return false
	}
	for _, name := range names {
		if name == part || strings.HasPrefix(name, part+".") {
			return true
		}
	}
	return false
}

// listedTools is every tool name tools/list gives at base, following nextCursor.
func listedTools(base string) ([]string, error) {
	var names []string
	cursor := ""
	for page := 0; page < 100; page++ {
		params := `{}`
		if cursor != "" {
			b, err := json.Marshal(map[string]string{"cursor": cursor})
			if err != nil {
				return nil, err
			}
			params = string(b)
		}
		resp, err := postStateless(base, "tools/list", "", params)
		if err != nil {
			return nil, err
		}
		var out struct {
			Result struct {
				Tools      []struct{ Name string } `json:"tools"`
				NextCursor string                  `json:"nextCursor"`
			} `json:"result"`
		}
		if err := decodeJSON(resp, &out); err != nil {
			return nil, err
		}
		for _, tool := range out.Result.Tools {
			names = append(names, tool.Name)
		}
		if out.Result.NextCursor == "" {
			return names, nil
		}
		cursor = out.Result.NextCursor
	}
	return nil, fmt.Errorf("tools/list at %s did not end after 100 pages", base)
}

// recorder returns a schema recorder that is verified when the test ends.
func recorder(t *testing.T) *mcptest.Recorder {
	r := mcptest.NewRecorder(mcptest.NewSchemas(mcptest.SpecDir(t)))
	t.Cleanup(func() { r.Verify(t) })
	return r
}
