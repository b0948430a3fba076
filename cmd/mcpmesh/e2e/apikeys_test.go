package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/apikey"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
	"github.com/mcpmesh/mcpmesh/tools/proc"
)

// apiKeyStaleness is auth.api_keys.max_staleness in TestAPIKeysInPostgresAcrossGateways:
// the bound on how late a revocation takes effect on any replica.
const apiKeyStaleness = 2 * time.Second

// TestAPIKeysInPostgresAcrossGateways runs two gateway replicas on one database (an
// all-in-one process and a gateway-only one in front of it) with the keys in the
// api_keys table: a key created with `mcpmesh apikey create` while both run is
// accepted by both, its revocation with `mcpmesh apikey revoke` is refused by both well
// within auth.api_keys.max_staleness (the notification reaches them at once), bad
// credentials get the same challenges as with the file store, the last use reaches
// `mcpmesh apikey list`, and a replica cut off from the database refuses keys (503)
// once its copy is older than the bound, then accepts them again when it is back.
func TestAPIKeysInPostgresAcrossGateways(t *testing.T) {
	db := pgtest.NewServer(t)
	pepper := filepath.Join(t.TempDir(), "pepper")
	if err := os.WriteFile(pepper, []byte(strings.Repeat("q", 48)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"MCPMESH_DATABASE_URL=" + db.URL(),
		"MCPMESH_AUTH_MODE=api_key",
		"MCPMESH_AUTH_API_KEYS_PEPPER_FILE=" + pepper,
		"MCPMESH_AUTH_API_KEYS_LAST_USED_INTERVAL=200ms",
		"MCPMESH_AUTH_API_KEYS_MAX_STALENESS=" + apiKeyStaleness.String(),
	}
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = append(cmd.Environ(), env...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("mcpmesh %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
		}
		return string(out)
	}
	cli("migrate")
	all := startWithEnv(t, "all", env, "-target=all", "-grpc.listen=127.0.0.1:0", "-gateway.listen=127.0.0.1:0")
	gw := startWithEnv(t, "gateway", env, "-target=gateway", "-gateway.listen=127.0.0.1:0",
		"-peers.transport="+all.GRPC, "-peers.registry="+all.GRPC, "-peers.session="+all.GRPC, "-peers.health="+all.GRPC)
	replicas := []*proc.Process{all, gw}

	key := strings.TrimSpace(cli("apikey", "create", "-name", "ci-bot", "-scopes", "mcp:tools"))
	if !strings.HasPrefix(key, apikey.Prefix) {
		t.Fatalf("apikey create printed %q", key)
	}
	for _, p := range replicas {
		eventually.NoError(t, 20*time.Second, func() error { return listsEcho(p.HTTP, key) }, "%s accepts the key created after it started", p.Name)
	}

	// Bad credentials: the challenges of the file store (services/gateway TestAPIKeys).
	unknown, _ := apikey.NewKey()
	bad := []struct {
		name, authorization string
		status              int
		challenge           string
	}{
		{"unknown key", "Bearer " + unknown, 401, `Bearer realm="mcpmesh", error="invalid_token", error_description="unknown API key"`},
		{"no credentials", "", 401, `Bearer realm="mcpmesh"`},
		{"another scheme", "Basic " + key, 401, `Bearer realm="mcpmesh"`},
		{"malformed token", "Bearer " + key + "!", 400, `Bearer realm="mcpmesh", error="invalid_request"`},
	}
	for _, p := range replicas {
		for _, tc := range bad {
			resp, _ := statelessList(t, p.HTTP, tc.authorization)
			if got := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != tc.status || !strings.HasPrefix(got, tc.challenge) {
				t.Errorf("%s, %s: %d %q, want %d %q…", p.Name, tc.name, resp.StatusCode, got, tc.status, tc.challenge)
			}
		}
	}

	// Revoked on the command line while both serve: both refuse it, each well within
	// the staleness bound.
	revokedAt := time.Now()
	cli("apikey", "revoke", "-name", "ci-bot")
	for _, p := range replicas {
		eventually.True(t, apiKeyStaleness+5*time.Second, func() bool {
			resp, _ := statelessList(t, p.HTTP, "Bearer "+key)
			return resp.StatusCode == http.StatusUnauthorized &&
				strings.HasSuffix(resp.Header.Get("WWW-Authenticate"), `error_description="the API key has been revoked"`)
		}, "%s refuses the revoked key", p.Name)
		took := time.Since(revokedAt)
		t.Logf("%s refuses the revoked key %s after `mcpmesh apikey revoke` started", p.Name, took.Round(time.Millisecond))
		if took > apiKeyStaleness {
			t.Errorf("%s took %s to refuse a revoked key; the bound is %s", p.Name, took, apiKeyStaleness)
		}
	}
	if out := cli("apikey", "list"); !strings.Contains(out, "revoked") || strings.Contains(out, key) {
		t.Errorf("apikey list:\n%s", out)
	}
	// Last uses are written every auth.api_keys.last_used_interval.
	eventually.True(t, 10*time.Second, func() bool { return hasLastUse(cli("apikey", "list"), "ci-bot") }, "apikey list shows the last use of ci-bot")

	// A second key for the outage: refused (503) once the copy is older than the
	// bound while the database is down, accepted again once it is back.
	key2 := strings.TrimSpace(cli("apikey", "create", "-name", "ops-bot", "-scopes", "mcp:tools"))
	eventually.NoError(t, 20*time.Second, func() error { return listsEcho(gw.HTTP, key2) }, "the gateway accepts the second key")
	if err := db.Stop(); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, apiKeyStaleness+10*time.Second, func() bool {
		resp, body := statelessList(t, gw.HTTP, "Bearer "+key2)
		return resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" &&
			strings.Contains(body, `"error":"temporarily_unavailable"`)
	}, "the gateway cut off from the database refuses keys")
	if err := db.Start(); err != nil {
		t.Fatal(err)
	}
	eventually.NoError(t, 30*time.Second, func() error { return listsEcho(gw.HTTP, key2) }, "the gateway accepts keys again with the database back")
}

// statelessList sends a stateless tools/list with authorization (none when empty)
// and returns the response and its body.
func statelessList(t *testing.T, base, authorization string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(statelessBody("tools/list", "{}")))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", stateless)
	req.Header.Set("Mcp-Method", "tools/list")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp, string(body)
}

// listsEcho reports whether key is accepted at base and the echo tool is listed.
func listsEcho(base, key string) error {
	req, err := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(statelessBody("tools/list", "{}")))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", stateless)
	req.Header.Set("Mcp-Method", "tools/list")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	var out struct {
		Result struct {
			Tools []struct{ Name string } `json:"tools"`
		} `json:"result"`
	}
	if err := decodeJSON(resp, &out); err != nil {
		return err
	}
	for _, tool := range out.Result.Tools {
		if tool.Name == "echo" {
			return nil
		}
	}
	return fmt.Errorf("HTTP %d: echo is not listed (%d tools)", resp.StatusCode, len(out.Result.Tools))
}

// hasLastUse reports whether the `apikey list` row of name shows a last use.
func hasLastUse(list, name string) bool {
	for line := range strings.Lines(list) {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return f[len(f)-1] != "-"
		}
	}
	return false
}
