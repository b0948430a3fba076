package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The stamp TestMain builds the binary with.
const (
	e2eVersion = "v0.0.0-e2e"
	e2eCommit  = "0123456789abcdef0123456789abcdef01234567"
)

// TestBuildVersionEverywhere: the version stamped at link time is what `mcpmesh
// version` prints, the serverInfo.version MCP clients see in both generations, the
// version label of mcpmesh_build_info on /metrics and the version of /v1/health.
func TestBuildVersionEverywhere(t *testing.T) {
	out, err := exec.Command(binary, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("mcpmesh --version: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "mcpmesh "+e2eVersion+"\n") || !strings.Contains(string(out), "commit:      "+e2eCommit) {
		t.Errorf("mcpmesh --version printed %q, want version %s and commit %s", out, e2eVersion, e2eCommit)
	}

	m := startAll(t)
	rec := recorder(t)
	for _, version := range []string{"", "2025-11-25"} {
		t.Run("serverInfo protocol="+version, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			client := mcp.NewClient(&mcp.Implementation{Name: "version-e2e", Version: "1.0.0"}, nil)
			session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: m.base + "/mcp", HTTPClient: rec.ClientAt(version), MaxRetries: -1},
				&mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer session.Close()
			if got := session.InitializeResult().ServerInfo; got == nil || got.Version != e2eVersion {
				t.Errorf("serverInfo = %+v, want version %s", got, e2eVersion)
			}
		})
	}

	t.Run("mcpmesh_build_info", func(t *testing.T) {
		family := scrapeMetrics(t, m.base+"/metrics")["mcpmesh_build_info"]
		if family == nil || len(family.GetMetric()) != 1 {
			t.Fatalf("/metrics: mcpmesh_build_info = %v, want one series", family)
		}
		labels := map[string]string{}
		for _, l := range family.GetMetric()[0].GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["version"] != e2eVersion || labels["revision"] != e2eCommit || family.GetMetric()[0].GetGauge().GetValue() != 1 {
			t.Errorf("mcpmesh_build_info labels %v value %v, want version %s revision %s value 1", labels, family.GetMetric()[0].GetGauge().GetValue(), e2eVersion, e2eCommit)
		}
	})

	t.Run("/v1/health", func(t *testing.T) {
		resp, err := http.Get(m.base + "/v1/health")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var health struct {
			Status  string `json:"status"`
			Version string `json:"version"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&health); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1/health: %d %v", resp.StatusCode, err)
		}
		if health.Version != e2eVersion {
			t.Errorf("/v1/health version = %q (status %s), want %s", health.Version, health.Status, e2eVersion)
		}
	})
}
