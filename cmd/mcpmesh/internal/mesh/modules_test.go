package mesh

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/lifecycle"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
)

// The modules each target resolves to, in start order (the stop order is the
// reverse).
func TestModuleOrderPerTarget(t *testing.T) {
	all := []string{"grpc-server", "registry", "provider-everything", "session", "transport", "health", "grpc-serving", "dependency-watch", "provider-registration", "federation", "gateway"}
	tests := []struct {
		target string
		admin  bool
		want   []string
	}{
		{"all", false, all},
		{"all", true, append([]string{"admin"}, all...)},
		{"registry", true, []string{"admin", "grpc-server", "registry", "grpc-serving", "dependency-watch"}},
		{"provider-everything", false, []string{"grpc-server", "provider-everything", "grpc-serving", "dependency-watch", "provider-registration"}},
		{"federation", false, []string{"grpc-server", "grpc-serving", "dependency-watch", "federation"}},
		{"session", false, []string{"grpc-server", "session", "grpc-serving", "dependency-watch"}},
		{"transport", false, []string{"grpc-server", "transport", "grpc-serving", "dependency-watch"}},
		{"health", false, []string{"grpc-server", "health", "grpc-serving", "dependency-watch"}},
		{"gateway", false, []string{"gateway"}},
		// A target never pulls in another: a peer serves it.
		{"gateway,transport", false, []string{"grpc-server", "transport", "grpc-serving", "dependency-watch", "gateway"}},
		// The order follows the dependencies, not the order of the flag.
		{"transport,session,registry", false, []string{"grpc-server", "registry", "session", "transport", "grpc-serving", "dependency-watch"}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			cfg := meshconfig.Default()
			cfg.Target = tt.target
			if tt.admin {
				cfg.Admin.Listen = "127.0.0.1:0"
			}
			mods, err := resolve(moduleTable(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := moduleNames(mods); !slices.Equal(got, tt.want) {
				t.Errorf("modules\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// Every dependency in the table is listed before the module: the table reads in
// start order.
// A gateway that reads its API keys from the database runs the follower of the keys as
// a module of its own, started before the gateway and stopped after its drain.
func TestAPIKeysModuleOnlyWithADatabase(t *testing.T) {
	for _, tt := range []struct {
		mode, url string
		want      []string
	}{
		{"api_key", "postgres://mesh@db.example/mesh", []string{"api-keys", "gateway"}},
		{"oauth+api_key", "postgres://mesh@db.example/mesh", []string{"api-keys", "gateway"}},
		{"api_key", "", []string{"gateway"}},
		{"oauth", "postgres://mesh@db.example/mesh", []string{"gateway"}},
	} {
		cfg := meshconfig.Default()
		cfg.Target = "gateway"
		cfg.Auth.Mode, cfg.Database.URL = tt.mode, tt.url
		mods, err := resolve(moduleTable(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := moduleNames(mods); !slices.Equal(got, tt.want) {
			t.Errorf("auth.mode %s, database %q: modules %v, want %v", tt.mode, tt.url, got, tt.want)
		}
	}
}

func TestModuleTableIsInStartOrder(t *testing.T) {
	seen := map[string]bool{}
	for _, mod := range moduleTable() {
		for _, d := range mod.deps {
			if !seen[d] {
				t.Errorf("module %s is listed before its dependency %s", mod.name, d)
			}
		}
		seen[mod.name] = true
	}
}

func TestResolveRejectsBadTables(t *testing.T) {
	always := func(meshconfig.Config) bool { return true }
	tests := []struct {
		name    string
		table   []module
		wantErr string
	}{
		{"unknown dependency", []module{{name: "a", deps: []string{"nope"}, runs: always}}, `unknown dependency "nope"`},
		{"cycle", []module{{name: "a", deps: []string{"b"}, runs: always}, {name: "b", deps: []string{"a"}, runs: always}}, "depend on each other"},
		{"duplicate", []module{{name: "a", runs: always}, {name: "a", runs: always}}, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := resolve(tt.table, meshconfig.Default()); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("resolve = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

// withModule adds a module to the table, after (and depending on) the given one.
func withModule(after string, mod module) Option {
	return func(o *options) {
		o.table = func(table []module) []module {
			mod.deps = append(mod.deps, after)
			i := slices.IndexFunc(table, func(m module) bool { return m.name == after })
			return slices.Insert(table, i+1, mod)
		}
	}
}

// recordStops records the order in which modules begin to stop.
func recordStops(order *[]string, mu *sync.Mutex) Option {
	return func(o *options) {
		o.onStop = func(name string) {
			mu.Lock()
			defer mu.Unlock()
			*order = append(*order, name)
		}
	}
}

// canBind reports whether addr can be listened on again.
func canBind(t *testing.T, addr string) {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("port of %s not released: %v", addr, err)
		return
	}
	_ = lis.Close()
}

func allWithAdmin(t *testing.T) meshconfig.Config {
	t.Helper()
	cfg := allInOne(t)
	cfg.Admin.Listen = "127.0.0.1:0"
	return cfg
}

// A module that fails to start stops every module started before it, in reverse
// order, and releases the listeners: their ports can be bound again at once.
func TestStartFailureRollsBack(t *testing.T) {
	var (
		stops []string
		mu    sync.Mutex
	)
	errBroken := errors.New("broken on purpose")
	m, err := New(allWithAdmin(t), slog.New(slog.DiscardHandler), recordStops(&stops, &mu),
		withModule("session", module{
			name: "broken",
			runs: func(meshconfig.Config) bool { return true },
			init: func(*Mesh) (*lifecycle.Service, error) {
				return lifecycle.NewService("broken", lifecycle.Funcs{Starting: func(context.Context) error { return errBroken }}), nil
			},
		}))
	if err != nil {
		t.Fatal(err)
	}
	grpcAddr, httpAddr := m.Addresses()
	adminAddr := m.AdminAddress()
	err = m.Run(context.Background())
	if !errors.Is(err, errBroken) || !strings.Contains(err.Error(), "start broken") {
		t.Fatalf("Run = %v, want the start error of the broken module", err)
	}
	want := []string{"broken", "session", "provider-everything", "registry", "grpc-server", "admin"}
	if !slices.Equal(stops, want) {
		t.Errorf("stopped %v, want %v", stops, want)
	}
	for _, mod := range m.modules {
		wantState := lifecycle.New // never started
		switch {
		case mod.name == "broken":
			wantState = lifecycle.Failed
		case slices.Contains(want, mod.name):
			wantState = lifecycle.Terminated
		}
		if st := mod.svc.State(); st != wantState {
			t.Errorf("module %s is %s after the rollback, want %s", mod.name, st, wantState)
		}
	}
	for _, addr := range []string{grpcAddr, httpAddr, adminAddr} {
		canBind(t, addr)
	}
}

// A module that fails after every module started brings the process down: Run
// returns its cause after stopping everything, and one error line says which
// module failed and why.
func TestFailureAfterStartStopsTheProcess(t *testing.T) {
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelError}))
	fail := make(chan struct{})
	errLost := errors.New("lost its backend")
	m, err := New(allInOne(t), logger, withModule("transport", module{
		name: "fragile",
		runs: func(meshconfig.Config) bool { return true },
		init: func(*Mesh) (*lifecycle.Service, error) {
			return lifecycle.NewService("fragile", lifecycle.Funcs{Running: func(ctx context.Context) error {
				select {
				case <-fail:
					return errLost
				case <-ctx.Done():
					return nil
				}
			}}), nil
		},
	}))
	if err != nil {
		t.Fatal(err)
	}
	grpcAddr, httpAddr := m.Addresses()
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background()) }() // never cancelled: only the failure ends it
	waitReady(t, "http://"+httpAddr)
	close(fail)
	select {
	case err := <-done:
		if !errors.Is(err, errLost) || !strings.Contains(err.Error(), "fragile") {
			t.Fatalf("Run = %v, want the fragile module's failure", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the process kept running after a module failed")
	}
	for _, mod := range m.modules {
		if st := mod.svc.State(); st != lifecycle.Terminated && mod.name != "fragile" {
			t.Errorf("module %s is %s", mod.name, st)
		}
	}
	logMu.Lock()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	logMu.Unlock()
	if len(lines) != 1 || !strings.Contains(lines[0], "module=fragile") || !strings.Contains(lines[0], "lost its backend") {
		t.Errorf("want one error line naming the module and the cause, got %q", lines)
	}
	canBind(t, grpcAddr)
	canBind(t, httpAddr)
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
