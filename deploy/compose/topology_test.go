package compose_test

import (
	"bytes"
	"context"
	"maps"
	"net"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

// hostPort matches the addresses compose.yaml uses: a service name or 0.0.0.0, and a port.
var hostPort = regexp.MustCompile(`\b([a-z][a-z0-9-]*|0\.0\.0\.0):(\d{4,5})\b`)

// TestComposeTopologyRuns starts each mcpmesh topology of compose.yaml as local
// processes: the default one (the whole mesh in one process, the mcpmesh service) and
// the split profile (six services). Each service runs with its own command and
// environment, with every service name and listen address mapped to a loopback port
// and the database URL to a throwaway PostgreSQL database. The migrate one-shot runs
// first, each service starts after the ones it depends on and is waited for with its
// own health check command, and then a tools/call goes through the topology's gateway
// with the official MCP Go SDK.
func TestComposeTopologyRuns(t *testing.T) {
	p := load(t)
	for _, tc := range []struct {
		name, gateway string
		in            func(types.ServiceConfig) bool
	}{
		{"default all-in-one", "mcpmesh", func(s types.ServiceConfig) bool { return len(s.Profiles) == 0 }},
		{"split profile", "gateway", func(s types.ServiceConfig) bool { return slices.Contains(s.Profiles, "split") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			services := map[string]meshService{}
			for _, s := range meshServices(t, p) {
				if s.name == "migrate" || tc.in(s.svc) {
					services[s.name] = s
				}
			}
			if _, ok := services[tc.gateway]; !ok {
				t.Fatalf("compose.yaml has no service %s in this topology", tc.gateway)
			}
			runTopology(t, services, tc.gateway)
		})
	}
}

// runTopology starts services (migrate first) as local processes and makes a
// tools/call through the gateway of the service named gateway.
func runTopology(t *testing.T, services map[string]meshService, gateway string) {
	ports := map[string]string{} // "service:port" -> loopback port
	mapAddr := func(service, s string) string {
		return hostPort.ReplaceAllStringFunc(s, func(m string) string {
			sub := hostPort.FindStringSubmatch(m)
			host := sub[1]
			if host == "0.0.0.0" {
				host = service
			}
			if _, ok := services[host]; !ok {
				return m // not a service of this topology (postgres is replaced below)
			}
			key := host + ":" + sub[2]
			if ports[key] == "" {
				ports[key] = freePort(t)
			}
			return "127.0.0.1:" + ports[key]
		})
	}
	dbURL := pgtest.NewDatabase(t)
	rewrite := func(s meshService) (args, env []string) {
		for _, a := range s.command {
			args = append(args, mapAddr(s.name, a))
		}
		for _, kv := range s.env {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "MCPMESH_DATABASE_URL":
				v = dbURL
			case "MCPMESH_DATABASE_PASSWORD_FILE":
				continue // the throwaway cluster trusts local connections
			default:
				v = mapAddr(s.name, v)
			}
			env = append(env, k+"="+v)
		}
		return args, env
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	args, env := rewrite(services["migrate"])
	migrate := exec.CommandContext(ctx, meshBinary, args...)
	migrate.Env = env
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("migrate %v: %v\n%s", args, err, out)
	}

	started := map[string]bool{"migrate": true}
	for len(started) < len(services) {
		progressed := false
		for _, name := range slices.Sorted(maps.Keys(services)) {
			s := services[name]
			if started[name] || !dependenciesStarted(s.svc, started) {
				continue
			}
			args, env := rewrite(s)
			cmd := exec.CommandContext(ctx, meshBinary, args...)
			cmd.Env = env
			var logs bytes.Buffer
			cmd.Stdout, cmd.Stderr = &logs, &logs
			cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
			cmd.WaitDelay = 30 * time.Second
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				cancel()
				_ = cmd.Wait()
				if t.Failed() {
					t.Logf("%s logs:\n%s", name, logs.String())
				}
			})
			// The service's own health check, with its own environment.
			check := s.svc.HealthCheck.Test[2:] // after "CMD" and the binary path
			deadline := time.Now().Add(30 * time.Second)
			for {
				hc := exec.CommandContext(ctx, meshBinary, check...)
				hc.Env = env
				out, err := hc.CombinedOutput()
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: health check %v never passed: %v: %s", name, check, err, out)
				}
				time.Sleep(200 * time.Millisecond)
			}
			started[name] = true
			progressed = true
		}
		if !progressed {
			t.Fatalf("depends_on has a cycle or names a service outside the profile: started %v", started)
		}
	}

	endpoint := "http://127.0.0.1:" + ports[gateway+":8080"] + "/mcp"
	client := mcp.NewClient(&mcp.Implementation{Name: "compose-test", Version: "1.0.0"}, nil)
	callCtx, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	session, err := client.Connect(callCtx, &mcp.StreamableClientTransport{Endpoint: endpoint}, nil)
	if err != nil {
		t.Fatalf("connect to %s: %v", endpoint, err)
	}
	defer session.Close()
	var res *mcp.CallToolResult
	for {
		// The provider registers asynchronously; its tools appear within a lease round.
		res, err = session.CallTool(callCtx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "through compose"}})
		if err == nil && !res.IsError {
			break
		}
		if callCtx.Err() != nil {
			t.Fatalf("tools/call echo: %v %+v", err, res)
		}
		time.Sleep(200 * time.Millisecond)
	}
	text, _ := res.Content[0].(*mcp.TextContent)
	if text == nil || !strings.Contains(text.Text, "through compose") {
		t.Fatalf("echo answered %+v", res.Content)
	}
}

func dependenciesStarted(svc types.ServiceConfig, started map[string]bool) bool {
	for dep := range svc.DependsOn {
		if dep != "postgres" && !started[dep] {
			return false
		}
	}
	return true
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
