package mesh

import (
	"testing"

	"github.com/mcpmesh/mcpmesh/services/federation"
)

// BenchmarkFederatedToolCall measures a tools/call by the Go SDK client on /mcp to a
// tool of a federated Streamable HTTP upstream (mesh in one process, upstream on
// loopback), beside the same call made straight to the upstream: the difference is
// what the mesh and its federation hop add. Allocations count the whole process
// (client, mesh and upstream).
func BenchmarkFederatedToolCall(b *testing.B) {
	upstream := newUpstreamServer("bench", nil)
	url := serveUpstream(b, upstream)
	base := federatedMesh(b, federation.Upstream{Name: "bench", URL: url, Tools: federation.Filter{Include: []string{"whoami"}}})
	waitForTools(b, sdkSession(b, base+"/mcp", nil), "whoami")
	for _, target := range []struct{ name, endpoint, tool string }{
		{"direct", url, "whoami"},
		{"through-mesh", base + "/mcp", "whoami"},
	} {
		b.Run(target.name, func(b *testing.B) {
			cs := sdkSession(b, target.endpoint, nil)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := callText(b.Context(), cs, target.tool, map[string]any{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
