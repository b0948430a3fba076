package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

// runToEnd runs the binary with args and extra environment until it exits (bounded),
// and returns the exit code, stdout and the last line of stderr: the one line a person
// reads after the logs. The test's own MCPMESH_* variables (MCPMESH_CI,
// MCPMESH_SPEC_DIR) are not passed on: the binary would warn about them as stray
// configuration, and that warning would be the last line instead of the one checked.
func runToEnd(t *testing.T, env []string, args ...string) (code int, stdout, lastLine string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "MCPMESH_") }), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("run %v: %v\n%s", args, err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	return code, out.String(), lines[len(lines)-1]
}

// A newcomer's first hour: the binary refuses what it cannot use, with one line that
// says what to do, and keeps serving (not ready, naming the database) through what
// passes by itself.
func TestFirstHour(t *testing.T) {
	anyPorts := []string{"-grpc.listen=127.0.0.1:0", "-gateway.listen=127.0.0.1:0"}

	t.Run("empty database: refuse, then migrate, then serve", func(t *testing.T) {
		url := pgtest.NewDatabase(t)
		code, _, line := runToEnd(t, nil, append([]string{"-database.url=" + url}, anyPorts...)...)
		if code != 1 || !strings.HasPrefix(line, "mcpmesh: the registry tables are missing: run `mcpmesh migrate`") ||
			!strings.Contains(line, "database.migrate_on_start") {
			t.Fatalf("exit %d, last line %q; want 1 and the line naming mcpmesh migrate", code, line)
		}
		code, out, line := runToEnd(t, nil, "migrate", "-database.url="+url)
		if code != 0 || !strings.Contains(out, "migrated the registry, session and federation tables of postgres://") {
			t.Fatalf("migrate: exit %d, stdout %q, last line %q", code, out, line)
		}
		if strings.Contains(out, "pgtest@") || strings.Contains(out, ":pgtest") {
			t.Errorf("migrate printed the password: %q", out)
		}
		p := start(t, "migrated", append([]string{"-database.url=" + url}, anyPorts...)...)
		waitReady(t, p.HTTP)
	})

	t.Run("database that does not exist", func(t *testing.T) {
		url := strings.Replace(pgtest.NewDatabase(t), "/t_", "/missing_t_", 1)
		code, _, line := runToEnd(t, nil, append([]string{"-database.url=" + url}, anyPorts...)...)
		if code != 1 || !strings.Contains(line, "does not exist on the server: create it (createdb missing_t_") {
			t.Fatalf("exit %d, last line %q; want 1 and the missing database named", code, line)
		}
	})

	t.Run("stopped database: serve not ready, ping and migrate name it", func(t *testing.T) {
		db := pgtest.NewServer(t)
		url := db.URL()
		if code, out, line := runToEnd(t, nil, "migrate", "-database.url="+url); code != 0 {
			t.Fatalf("migrate: exit %d %q %q", code, out, line)
		}
		if err := db.Stop(); err != nil {
			t.Fatal(err)
		}
		code, _, line := runToEnd(t, nil, "migrate", "-database.url="+url)
		if code != 1 || !strings.HasPrefix(line, "mcpmesh: migrate: connection refused at 127.0.0.1:") {
			t.Fatalf("migrate against a stopped database: exit %d, last line %q", code, line)
		}
		p := startWithEnv(t, "stopped-db", []string{"MCPMESH_HEALTH_CHECK_INTERVAL=100ms"},
			append([]string{"-database.url=" + url}, anyPorts...)...)
		status, body := get(t, p.HTTP+"/readyz")
		if status != http.StatusServiceUnavailable || !strings.HasPrefix(body, "not ready: database: connection refused at 127.0.0.1:") {
			t.Errorf("/readyz %d %q, want 503 naming the database", status, body)
		}
		out := pingUntil(t, 1, "-addr", p.GRPC)
		if !strings.Contains(out, "mesh is not_serving") || !strings.Contains(out, "database postgres: not_serving: connection refused at 127.0.0.1:") {
			t.Errorf("ping output %q, want the database named with its error", out)
		}
		// The gateway's HTTP port works for ping too, and says the same.
		if code, out := ping(t, "-addr", strings.TrimPrefix(p.HTTP, "http://")); code != 1 || !strings.Contains(out, "database: connection refused") {
			t.Errorf("ping on the HTTP port: exit %d, output %q", code, out)
		}
	})

	t.Run("misspelt configuration", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "mesh.yaml")
		if err := os.WriteFile(file, []byte("sesion:\n  tool_call_timeout: 60s\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, line := runToEnd(t, nil, append([]string{"-config=" + file}, anyPorts...)...)
		if code != 1 || line != "config file "+file+": unknown key sesion.tool_call_timeout (did you mean session.tool_call_timeout?)" {
			t.Fatalf("exit %d, last line %q", code, line)
		}
		if err := os.WriteFile(file, []byte("session:\n  tool_call_timeout: 60\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, line = runToEnd(t, nil, append([]string{"-config=" + file}, anyPorts...)...)
		if code != 1 || !strings.Contains(line, "session.tool_call_timeout: 60 has no unit") || !strings.Contains(line, "tool_call_timeout: 60s") {
			t.Fatalf("exit %d, last line %q", code, line)
		}
		code, _, line = runToEnd(t, []string{"MCPMESH_SESION_TOOL_CALL_TIMEOUT=60s"}, "config", "print")
		if code != 0 || !strings.Contains(line, "MCPMESH_SESION_TOOL_CALL_TIMEOUT matches no configuration key") ||
			!strings.Contains(line, "MCPMESH_SESSION_TOOL_CALL_TIMEOUT") {
			t.Fatalf("stray variable: exit %d, last line %q", code, line)
		}
	})

	t.Run("help lists every command", func(t *testing.T) {
		code, out, _ := runToEnd(t, nil, "help")
		for _, c := range []string{"serve", "stdio", "migrate", "ping", "config", "version"} {
			if code != 0 || !strings.Contains(out, "\n  "+c+" ") {
				t.Errorf("help: exit %d, command %s not listed:\n%s", code, c, out)
			}
		}
	})
}

// get fetches url and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// When the session service dies, /readyz blames the session service (not the
// transport that follows it) and ping names it, each with the error that reached it.
func TestSessionDownIsNamed(t *testing.T) {
	m := startSix(t)
	session := m.processes["session"]
	sessionAddr := session.GRPC
	session.Kill()
	<-session.Done()

	waitReadyz(t, m.base, http.StatusServiceUnavailable)
	status, body := get(t, m.base+"/readyz")
	if want := "not ready: session (at " + sessionAddr + "): connection refused"; status != http.StatusServiceUnavailable || strings.TrimSpace(body) != want {
		t.Errorf("/readyz %d %q, want 503 %q", status, body, want)
	}

	// (The 503 an MCP client gets, with its error id in the transport's log, is
	// transport's TestSessionFailureCarriesErrorID: here the transport first waits for
	// the session peer within the request's deadline, as it does across restarts.)

	out := pingUntil(t, 1, "-addr", m.processes["health"].GRPC)
	// The health service names the session service first, at its address (the words
	// of its failure depend on how the dead peer's connection fails: refused, or no
	// answer within the round).
	if !regexp.MustCompile(`service session: not_serving: (connection refused|timeout after \S+) \(at ` + regexp.QuoteMeta(sessionAddr) + `\)`).MatchString(out) {
		t.Errorf("ping output %q, want the session service named with its error and address", out)
	}
}
