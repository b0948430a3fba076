package mesh

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
)

// BenchmarkToolCallInProcess is one stateless (2026-07-28) tools/call of the
// everything provider's echo tool through -target=all: HTTP over loopback into the
// gateway, then the in-process hops to transport, session and the provider, with the
// process's telemetry as configured by default (metrics on, traces not exported).
// Its allocations and CPU include the benchmark's own HTTP client, which stays the
// same from build to build.
func BenchmarkToolCallInProcess(b *testing.B) {
	base := start(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	body := []byte(echoCall)
	call := func() error {
		req, err := http.NewRequest(http.MethodPost, base+"/mcp", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", "2026-07-28")
		req.Header.Set("Mcp-Method", "tools/call")
		req.Header.Set("Mcp-Name", "echo")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		out, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return fmt.Errorf("tools/call: read the answer: %w", err)
		}
		if resp.StatusCode != http.StatusOK || !bytes.Contains(out, []byte("traced")) || bytes.Contains(out, []byte(`"isError":true`)) {
			return fmt.Errorf("tools/call: %d %s", resp.StatusCode, out)
		}
		return nil
	}
	// The tool is there once the provider has registered it.
	eventually.NoError(b, 10*time.Second, call, "echo answers")
	b.ReportAllocs()
	cpu := processCPU(b)
	b.ResetTimer()
	for b.Loop() {
		if err := call(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// CPU time, unlike wall time, hardly depends on what else the machine runs.
	b.ReportMetric(float64((processCPU(b)-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
}

// processCPU is the user and system CPU time this process has used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
