package main

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The binary explains itself: help lists every command, -h of a command shows its own
// flags on stdout and exits 0, and mistakes exit 2 with the reason on stderr.
func TestCommandTree(t *testing.T) {
	every := []string{"serve", "stdio", "migrate", "ping", "config", "version", "help"}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
		notStdout  []string
	}{
		{name: "help lists every command", args: []string{"help"}, wantStdout: every},
		{name: "-h is help", args: []string{"-h"}, wantStdout: every},
		{name: "--help is help", args: []string{"--help"}, wantStdout: every},
		{name: "migrate has its own flags", args: []string{"migrate", "-h"},
			wantStdout: []string{"Usage: mcpmesh migrate", "-database.url", "-database.password_file", "-target"},
			notStdout:  []string{"-gateway.listen", "-peers."}},
		{name: "help migrate", args: []string{"help", "migrate"}, wantStdout: []string{"Usage: mcpmesh migrate", "-database.url"}},
		{name: "ping flags", args: []string{"ping", "-h"}, wantStdout: []string{"Usage: mcpmesh ping", "-addr", "-degraded-ok"}, notStdout: []string{"-gateway.listen"}},
		{name: "serve flags", args: []string{"serve", "-h"}, wantStdout: []string{"Usage: mcpmesh serve", "-gateway.listen", "-grpc.listen", "-database.url"}},
		{name: "config print flags", args: []string{"config", "-h"}, wantStdout: []string{"Usage: mcpmesh config print", "-config"}},
		{name: "help config", args: []string{"help", "config"}, wantStdout: []string{"Usage: mcpmesh config print"}},
		{name: "version", args: []string{"version"}, wantStdout: []string{"mcpmesh "}},
		{name: "version -h", args: []string{"version", "-h"}, wantStdout: []string{"Usage: mcpmesh version"}},
		{name: "unknown command", args: []string{"sevre"}, wantCode: 2, wantStderr: []string{`unknown command "sevre"`, "migrate"}},
		{name: "unknown flag", args: []string{"migrate", "-gateway.listen=:1"}, wantCode: 2,
			wantStderr: []string{"flag provided but not defined: -gateway.listen", "Usage: mcpmesh migrate"}},
		{name: "stray argument", args: []string{"ping", "now"}, wantCode: 2, wantStderr: []string{`unexpected arguments ["now"]`}},
		{name: "config without print", args: []string{"config"}, wantCode: 2, wantStderr: []string{"mcpmesh config print"}},
		{name: "help of nothing", args: []string{"help", "nothing"}, wantCode: 2, wantStderr: []string{`unknown command "nothing"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tt.args, nil, &stdout, &stderr)
			if code := exitCode(err); code != tt.wantCode {
				t.Fatalf("exit code %d (err %v), want %d\nstdout:\n%s\nstderr:\n%s", code, err, tt.wantCode, stdout.String(), stderr.String())
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			for _, not := range tt.notStdout {
				if strings.Contains(stdout.String(), not) {
					t.Errorf("stdout has %q:\n%s", not, stdout.String())
				}
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
			if strings.Contains(stdout.String()+stderr.String(), "bench") {
				t.Errorf("help mentions bench, which is not a user command:\n%s%s", stdout.String(), stderr.String())
			}
		})
	}
}

// exitCode is the code main would exit with for err.
func exitCode(err error) int {
	var exit exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.code
	default:
		return 1
	}
}

// ping -addr host:port works against a gateway's HTTP port (it asks /readyz) as well
// as against the gRPC port (covered end to end in e2e/ping_test.go).
func TestPingHTTPPort(t *testing.T) {
	var ready atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		if !ready.Load() {
			http.Error(w, "not ready: session (at 127.0.0.1:1): connection refused", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	hostPort := strings.TrimPrefix(srv.URL, "http://")
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	_ = closed.Close()

	tests := []struct {
		name     string
		addr     string
		ready    bool
		wantCode int
		want     string
	}{
		{"HTTP port, ready", hostPort, true, 0, "ready"},
		{"HTTP URL, ready", srv.URL, true, 0, "ready"},
		{"HTTP port, not ready", hostPort, false, 1, "503 Service Unavailable: not ready: session"},
		{"closed port", closedAddr, true, 1, "connection refused (nothing listens there"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready.Store(tt.ready)
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), []string{"ping", "-addr", tt.addr}, nil, &stdout, &stderr)
			if code := exitCode(err); code != tt.wantCode {
				t.Fatalf("exit %d, want %d: %s%s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.want) {
				t.Errorf("output %q lacks %q", stdout.String(), tt.want)
			}
		})
	}
}
