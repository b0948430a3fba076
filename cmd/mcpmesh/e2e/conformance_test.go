package e2e

import (
	"os"
	"os/exec"
	"testing"
)

// TestConformanceReplicatedPostgres runs the official MCP conformance suite through
// the replicated layout: two replicas of registry, session, transport and gateway on
// one PostgreSQL database, behind a round-robin HTTP balancer without session
// affinity, so that no scenario may depend on one process. It is the "replicas-pg"
// layout of make conformance: tools/conformance/run.sh runs this test with
// MCPMESH_CONFORMANCE_RUN set to itself, and the test hands the balancer's URL back to
// it (CONFORMANCE_URL), which runs every suite against it with its baselines. Skipped
// without MCPMESH_CONFORMANCE_RUN, as the suite takes minutes and needs Node 22.
func TestConformanceReplicatedPostgres(t *testing.T) {
	runner := os.Getenv("MCPMESH_CONFORMANCE_RUN")
	if runner == "" {
		t.Skip("run by make conformance (tools/conformance/run.sh sets MCPMESH_CONFORMANCE_RUN)")
	}
	// With the default session read cache: a logging/setLevel through one replica is
	// seen by the next call through the other (session.read_cache_fence), which
	// tools-call-with-logging checks.
	m := startReplicatedWith(t, replicaOptions{})
	cmd := exec.Command(runner)
	cmd.Env = append(os.Environ(), "CONFORMANCE_URL="+m.lb.URL+"/mcp", "CONFORMANCE_LAYOUTS=replicas-pg")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("conformance suites through the replicated layout: %v (gateway hits %d and %d)",
			err, m.hits[0].Load(), m.hits[1].Load())
	}
	for i := range m.hits {
		if m.hits[i].Load() == 0 {
			t.Errorf("gateway %d served no request: the balancer did not spread the suite", i+1)
		}
	}
}
