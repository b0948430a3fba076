package mesh

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/callgrind"
	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
)

// echoCaller starts a -target=all mesh and returns a function that makes one
// stateless (2026-07-28) tools/call of the everything provider's echo tool through
// it: HTTP over loopback into the gateway, then the in-process hops to transport,
// session and the provider, with the process's telemetry as configured by default
// (metrics on, traces not exported). It returns once echo answers.
func echoCaller(t testing.TB) func() error {
	return echoCallerWith(t, allInOne(t), "")
}

// echoCallerWith is echoCaller for a mesh of cfg, each call carrying authorization as
// its Authorization header ("": none).
func echoCallerWith(t testing.TB, cfg meshconfig.Config, authorization string) func() error {
	base := startWith(t, cfg)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	t.Cleanup(client.CloseIdleConnections)
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
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
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
	eventually.NoError(t, 10*time.Second, call, "echo answers")
	return call
}

// BenchmarkToolCallInProcess is one tools/call through -target=all (see echoCaller).
// Its allocations and CPU include the benchmark's own HTTP client, which stays the
// same from build to build.
func BenchmarkToolCallInProcess(b *testing.B) {
	benchmarkToolCall(b, echoCaller(b))
}

// BenchmarkToolCallInProcessWithAPIKey is BenchmarkToolCallInProcess with
// auth.mode api_key, every call carrying the key: what authentication adds to one call.
func BenchmarkToolCallInProcessWithAPIKey(b *testing.B) {
	cfg := allInOne(b)
	key := apiKeyFiles(b, &cfg)("bench", "mcp:tools")
	benchmarkToolCall(b, echoCallerWith(b, cfg, "Bearer "+key))
}

func benchmarkToolCall(b *testing.B, call func() error) {
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

// TestToolCallsCounted makes MCPMESH_CALLGRIND_BATCHES batches (default 9) of
// MCPMESH_CALLGRIND_CALLS tools/calls through -target=all (see echoCaller), zeroing
// callgrind's counters before the first and dumping them after each, so that
// `make perfguard` (tools/perfguard) counts the instructions of the calls and nothing
// of the start-up; it takes the median batch, because a batch now and then also pays
// for something that depends on time, not on the calls (an idle stream worker that
// ended and is made again, a timer). Without MCPMESH_CALLGRIND_CALLS it is skipped;
// outside valgrind the zeroing and the dumps do nothing.
func TestToolCallsCounted(t *testing.T) {
	calls, err := strconv.Atoi(os.Getenv("MCPMESH_CALLGRIND_CALLS"))
	if err != nil || calls <= 0 {
		t.Skip("MCPMESH_CALLGRIND_CALLS is not a positive number: run by make perfguard")
	}
	batches := 9
	if v := os.Getenv("MCPMESH_CALLGRIND_BATCHES"); v != "" {
		if batches, err = strconv.Atoi(v); err != nil || batches <= 0 {
			t.Fatalf("MCPMESH_CALLGRIND_BATCHES=%q: want a positive number", v)
		}
	}
	callers := countedCallers(t)
	// Warm up: connections, pools and caches as they are after the first requests.
	for _, call := range callers {
		for range 20 {
			if err := call(); err != nil {
				t.Fatal(err)
			}
		}
	}
	runtime.GC()
	callgrind.ZeroStats()
	for range batches {
		for _, call := range callers {
			for range calls {
				if err := call(); err != nil {
					t.Fatal(err)
				}
			}
			callgrind.DumpStats("tool calls")
		}
	}
}

// countedCallers are the callers TestToolCallsCounted counts, a dump per batch of
// each in turn: echoCaller; or, with MCPMESH_CALLGRIND_AUTH=api_key, echoCaller and
// then a second mesh in the same process with the API key of
// BenchmarkToolCallInProcessWithAPIKey, so that `tools/perfguard/perfguard.sh -auth`
// compares batches that alternate in one process (two separate runs differ by up to
// 3.6%, more than authentication costs).
func countedCallers(t *testing.T) []func() error {
	switch auth := os.Getenv("MCPMESH_CALLGRIND_AUTH"); auth {
	case "":
		return []func() error{echoCaller(t)}
	case "api_key":
		cfg := allInOne(t)
		key := apiKeyFiles(t, &cfg)("counted", "mcp:tools")
		return []func() error{echoCaller(t), echoCallerWith(t, cfg, "Bearer "+key)}
	default:
		t.Fatalf("MCPMESH_CALLGRIND_AUTH=%q: want api_key or nothing", auth)
		return nil
	}
}
