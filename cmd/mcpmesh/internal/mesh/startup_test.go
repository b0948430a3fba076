package mesh

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
)

// closedAddress is a loopback address nothing listens on.
func closedAddress(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	return addr
}

// A process with a database refuses to start when waiting cannot help (no tables,
// no such database, TLS the server lacks), naming the fix in one line, and starts
// (not ready) when the database merely does not answer yet.
func TestStartUpChecksTheDatabase(t *testing.T) {
	server := pgtest.NewDatabase(t)
	migrated := pgtest.NewDatabase(t)
	with := func(base string, change func(*url.URL)) string {
		u, err := url.Parse(base)
		if err != nil {
			t.Skipf("needs a URL-form DSN: %v", err)
		}
		change(u)
		return u.String()
	}
	{
		cfg := meshconfig.Default()
		cfg.Database.URL = migrated
		pool, err := pgdb.Open(context.Background(), cfg.Database)
		if err != nil {
			t.Fatal(err)
		}
		if err := Migrate(context.Background(), cfg, pool, nil); err != nil {
			t.Fatal(err)
		}
		pool.Close()
	}
	tests := []struct {
		name          string
		url           string
		migrate       bool
		target        string
		wantErr       []string // nil: starts
		wantNotReady  string   // with a nil wantErr: what readiness says ("" ready)
		wantSentinel  error
		wantConnError pgdb.Problem
	}{
		{name: "empty database", url: server, wantErr: []string{"the registry tables are missing", "mcpmesh migrate", "database.migrate_on_start"}, wantSentinel: pgdb.ErrSchemaBehind},
		{name: "empty database, session only", url: server, target: "session", wantErr: []string{"the session tables are missing"}, wantSentinel: pgdb.ErrSchemaBehind},
		{name: "empty database with migrate_on_start", url: pgtest.NewDatabase(t), migrate: true},
		{name: "migrated database", url: migrated},
		{name: "no such database", url: with(server, func(u *url.URL) { u.Path = "/nope" }), wantErr: []string{`database "nope" does not exist`}, wantConnError: pgdb.ProblemDatabaseMissing},
		{name: "TLS demanded", url: with(server, func(u *url.URL) { u.RawQuery = "sslmode=require" }), wantErr: []string{"does not offer TLS"}, wantConnError: pgdb.ProblemTLSRefused},
		{name: "wrong password", url: with(server, func(u *url.URL) { u.User = url.UserPassword(u.User.Username(), "nope") }), wantErr: []string{"password authentication failed"}, wantConnError: pgdb.ProblemCredentials},
		{name: "database not answering: starts, not ready", url: "postgres://mesh:pw@" + closedAddress(t) + "/mesh?sslmode=disable", wantNotReady: "connection refused at 127.0.0.1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := meshconfig.Default()
			cfg.GRPC.Listen = "127.0.0.1:0"
			cfg.Database.URL = tt.url
			cfg.Database.ConnectTimeout = 3 * time.Second
			cfg.Database.MigrateOnStart = tt.migrate
			if tt.target != "" {
				cfg.Target = tt.target
				cfg.Peers.Registry = closedAddress(t) // never reached: start-up stops first
			}
			if tt.wantErr != nil {
				m, err := New(cfg, slog.New(slog.DiscardHandler))
				if err == nil {
					m.Close()
					t.Fatal("New succeeded, want a refusal")
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q lacks %q", err, want)
					}
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				var connErr *pgdb.ConnectionError
				switch {
				case tt.wantSentinel != nil && !errors.Is(err, tt.wantSentinel):
					t.Errorf("error %v is not %v", err, tt.wantSentinel)
				case tt.wantConnError != 0 && (!errors.As(err, &connErr) || connErr.Problem != tt.wantConnError):
					t.Errorf("error %v: want problem %v", err, tt.wantConnError)
				}
				return
			}
			cfg.Gateway.Listen = "127.0.0.1:0"
			m := serveMesh(t, cfg)
			_, httpAddr := m.Addresses()
			status, body := readyz(t, "http://"+httpAddr, tt.wantNotReady == "")
			if tt.wantNotReady == "" {
				if status != http.StatusOK {
					t.Fatalf("/readyz %d %q, want 200", status, body)
				}
				return
			}
			if status != http.StatusServiceUnavailable || !strings.Contains(body, "database: "+tt.wantNotReady) {
				t.Errorf("/readyz %d %q, want 503 naming the database: %s", status, body, tt.wantNotReady)
			}
		})
	}
}

// readyz asks /readyz; with waitForOK it polls (bounded) until 200, as the catalogue
// loads asynchronously.
func readyz(t *testing.T, base string, waitForOK bool) (int, string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if !waitForOK || resp.StatusCode == http.StatusOK || time.Now().After(deadline) {
			return resp.StatusCode, string(body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// /readyz of a gateway blames the first part of the request chain that is down, with
// the error that reached it, not the transport that depends on it.
func TestReadinessBlamesThePartThatIsDown(t *testing.T) {
	dead := closedAddress(t)
	// A live session service (with its registry) and a transport in front of it.
	backend := meshconfig.Default()
	backend.Target = "registry,session,transport"
	backend.GRPC.Listen = "127.0.0.1:0"
	live, _ := serveMesh(t, backend).Addresses()
	// A transport whose session is gone.
	orphan := meshconfig.Default()
	orphan.Target = "transport"
	orphan.GRPC.Listen = "127.0.0.1:0"
	orphan.Peers.Session = dead
	orphanAddr, _ := serveMesh(t, orphan).Addresses()

	tests := []struct {
		name               string
		transport, session string
		want               string
	}{
		{"all up", live, live, ""},
		{"session down", orphanAddr, dead, "not ready: session (at " + dead + "): connection refused"},
		{"transport down", dead, live, "not ready: transport (at " + dead + "): connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := meshconfig.Default()
			cfg.Target = meshconfig.TargetGateway
			cfg.Gateway.Listen = "127.0.0.1:0"
			cfg.Peers = meshconfig.Peers{Transport: tt.transport, Session: tt.session, Registry: live, Health: live}
			_, httpAddr := serveMesh(t, cfg).Addresses()
			status, body := readyz(t, "http://"+httpAddr, tt.want == "")
			if tt.want == "" {
				if status != http.StatusOK {
					t.Fatalf("/readyz %d %q, want 200", status, body)
				}
				return
			}
			if status != http.StatusServiceUnavailable || strings.TrimSpace(body) != tt.want {
				t.Errorf("/readyz %d %q, want 503 %q", status, body, tt.want)
			}
		})
	}
}

// A port in use is the one line reported, naming the flag that moves it, with no drain
// warning before it (the gRPC server never served).
func TestPortInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = taken.Close() }()
	tests := []struct {
		name     string
		set      func(*meshconfig.Config)
		wantFlag string
	}{
		{"gRPC", func(c *meshconfig.Config) { c.GRPC.Listen = taken.Addr().String() }, "-grpc.listen"},
		{"HTTP", func(c *meshconfig.Config) { c.Gateway.Listen = taken.Addr().String() }, "-gateway.listen"},
		{"admin", func(c *meshconfig.Config) { c.Admin.Listen = taken.Addr().String() }, "-admin.listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := meshconfig.Default()
			cfg.GRPC.Listen, cfg.Gateway.Listen = "127.0.0.1:0", "127.0.0.1:0"
			tt.set(&cfg)
			var logs strings.Builder
			m, err := New(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
			if err == nil {
				m.Close()
				t.Fatal("New succeeded on a port in use")
			}
			want := "address " + taken.Addr().String() + " is in use"
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tt.wantFlag) {
				t.Errorf("error %q, want %q and %s", err, want, tt.wantFlag)
			}
			if strings.Contains(logs.String(), "drain") {
				t.Errorf("logs mention a drain before the error:\n%s", logs.String())
			}
		})
	}
}
