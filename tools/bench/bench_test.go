package bench

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(options) bool
		wantErr []string
	}{
		{"defaults", nil, func(o options) bool {
			return o.concurrency == 1000 && o.duration == 10*time.Second && o.idleSessions == 10000 && o.getStreams == 8000 &&
				o.warmup == 2*time.Second && o.sixGOMAXPROCS == 1 && o.binary != "" &&
				slices.Equal(o.layouts, []string{"ceiling", "mcp-go", "go-sdk", "all", "all-auth", "all-stateless", "federated", "six"})
		}, nil},
		{"layouts deduplicated in order", []string{"-layouts", "six, ceiling,six", "-binary", "/x/mcpmesh"}, func(o options) bool {
			return slices.Equal(o.layouts, []string{"six", "ceiling"}) && o.binary == "/x/mcpmesh"
		}, nil},
		{"every problem at once", []string{"-c", "0", "-d", "0s", "-warmup", "-1s", "-idle-sessions", "-1", "-get-streams", "-2", "-layouts", "ceiling,nine"},
			nil, []string{"-c:", "-d:", "-warmup:", "-idle-sessions:", "-get-streams:", `unknown layout "nine"`}},
		{"postgres layouts and database URL", []string{"-layouts", "all-pg,replicas-pg", "-database-url", "postgres://u:p@db:5432/mesh"}, func(o options) bool {
			return slices.Equal(o.layouts, []string{"all-pg", "replicas-pg"}) && o.databaseURL == "postgres://u:p@db:5432/mesh"
		}, nil},
		{"database URL defaults to a throwaway cluster", []string{"-layouts", "all-pg"}, func(o options) bool {
			return o.databaseURL == "" && slices.Equal(o.layouts, []string{"all-pg"})
		}, nil},
		{"unknown layout lists the postgres ones", []string{"-layouts", "replicas"}, nil, []string{`unknown layout "replicas"`, "all-pg", "replicas-pg"}},
		{"nothing to do", []string{"-layouts", "", "-idle-sessions", "0", "-get-streams", "0"}, nil, []string{"nothing to do"}},
		{"GET streams only", []string{"-layouts", "", "-idle-sessions", "0", "-get-streams", "100"}, func(o options) bool {
			return o.getStreams == 100 && len(o.layouts) == 0
		}, nil},
		{"stray argument", []string{"all"}, nil, []string{"unexpected arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args, io.Discard)
			if len(tt.wantErr) == 0 {
				if err != nil || !tt.check(o) {
					t.Fatalf("parseOptions(%q) = %+v, %v", tt.args, o, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("parseOptions(%q) accepted bad flags", tt.args)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestReportMarkdownAndJSON(t *testing.T) {
	rep := report{
		Command: "mcpmesh-bench -c 10", Concurrency: 10, Duration: time.Second,
		Rows: []row{
			{Layout: "ceiling", Processes: 1, Requests: 2000, ReqPerSec: 2000, P50US: 900, P95US: 1500, P99US: 2000, MaxUS: 3000, ServerCPUUS: 20, GeneratorCPUUS: 30},
			{Layout: "all", Processes: 1, Requests: 1000, ReqPerSec: 1000, P50US: 1800, Errors: 2, ServerCPUUS: 80.25, GeneratorCPUUS: 31,
				FirstErrors: []string{"HTTP 500: boom"}},
			{Layout: "six", Error: "layout six: start registry: exited"},
			{Layout: "all-pg", Processes: 1, Requests: 800, ReqPerSec: 800, P50US: 2300, P99US: 9000, ServerCPUUS: 110.25, GeneratorCPUUS: 32,
				DatabaseMeasured: true, DatabaseCPUUS: 40.5, DatabaseShare: 0.1},
			{Layout: "replicas-pg", Processes: 10, Requests: 300, ReqPerSec: 300, ServerCPUUS: 500, GeneratorCPUUS: 120, Balanced: []int64{150, 150}},
			{Layout: "mcp-go", Processes: 1, Requests: 1250, ReqPerSec: 1250, ServerCPUUS: 60, GeneratorCPUUS: 30},
			{Layout: "all-auth", Processes: 1, Requests: 900, ReqPerSec: 900, P50US: 2000, P99US: 1000, ServerCPUUS: 83.25, GeneratorCPUUS: 31},
		},
		Idle: &idleResult{Sessions: 100, Opened: 100, Connections: 32, RSSBase: 10 << 20, RSSHalf: 11 << 20, RSSFull: 12 << 20,
			PerSessionSlope: 2048, PerSessionOverall: 4096},
		Streams: &idleResult{Sessions: 200, Opened: 200, Connections: 32, Streams: true, RSSBase: 10 << 20, RSSHalf: 12 << 20, RSSFull: 14 << 20,
			PerSessionSlope: 20 << 10, PerSessionOverall: 20 << 10},
	}
	rep.fillEnvironment()
	var b strings.Builder
	if err := rep.writeMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| layout | req/s | ratio to ceiling | ratio to mcp-go | p50 | p95 | p99 | max | errors | server CPU µs/req | database CPU µs/req | generator CPU µs/req |",
		"| ceiling | 2000 | 1.00 | 1.60 | 900 µs | 1.50 ms | 2.00 ms | 3.00 ms | 0 | 20.0 | – | 30.0 |",
		"| all | 1000 | 0.50 | 0.80 | 1.80 ms |",
		"| mcp-go | 1250 | 0.62 | 1.00 |",
		"| 2 | 80.2 | – | 31.0 |",
		"| all-pg | 800 | 0.40 | 0.64 | 2.30 ms |", "| 110.2 | 40.5 | 32.0 |",
		"database 10%, generator",
		"requests per gateway [150 150]",
		"store cost (all-pg − all) per request: +30.0 µs of server CPU, +40.5 µs of database CPU, +70.5 µs in all; p50 +0.50 ms, p99 +9.00 ms",
		"authentication cost (all-auth − all) per request: +3.0 µs of server CPU; 0.90 × the throughput; p50 +0.20 ms, p99 +1.00 ms",
		"- authentication (all-auth − all) ≤ 5 µs/req of server CPU: +3.0 µs — pass",
		"| six | failed |",
		"error seen: HTTP 500: boom",
		"**2.00 KiB per session**",
		"judged on an unpinned run",
		"- all ≥ 0.90 of the ceiling: 0.50 — FAIL",
		"- all ≥ 1.2 × mcp-go: 0.80 — FAIL",
		"- all server CPU ≤ 30 µs/req: 80.2 µs — FAIL",
		"- all-stateless ≥ 0.90 of the ceiling: not measured",
		"- six ≥ 0.25 of the ceiling: not measured",
		"- all-pg ≥ 0.9 × all: 0.80 — FAIL",
		"- idle session ≤ 512 B: 2.00 KiB — FAIL",
		"GET stream memory (layout all, 200 sessions with an open GET stream each",
		"**20.00 KiB per stream, its session included**",
		"- open GET stream ≤ 16.00 KiB: 20.00 KiB — FAIL",
		"command: `mcpmesh-bench -c 10`",
		"nproc: ", "go: go", "GOMAXPROCS: generator ", "date: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	path := filepath.Join(t.TempDir(), "bench.json")
	if err := rep.writeJSONFile(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back report
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Rows) != 7 || back.Rows[1].RatioToCeiling != 0.5 || back.Rows[1].RatioToMCPGo != 0.8 || back.Rows[3].DatabaseCPUUS != 40.5 || back.Idle.PerSessionSlope != 2048 || !back.Streams.Streams {
		t.Fatalf("JSON round trip: %+v", back)
	}
}

func TestCommandLineQuotes(t *testing.T) {
	got := commandLine([]string{"mcpmesh-bench", "-layouts", "all,six", "-json", "my file.json", ""})
	if want := `mcpmesh-bench -layouts all,six -json 'my file.json' ''`; got != want {
		t.Fatalf("commandLine = %s, want %s", got, want)
	}
}

// One run's CPU difference moves with the machine; the target is judged on the median
// of the pairs, which one outlier does not move.
func TestAuthCostIsTheMedianOfThePairs(t *testing.T) {
	rep := report{
		Rows: []row{
			{Layout: "all", ReqPerSec: 1000, ServerCPUUS: 100, P50US: 1000, P99US: 2000},
			{Layout: "all-auth", ReqPerSec: 800, ServerCPUUS: 130, P50US: 1500, P99US: 2500},
		},
		AuthRepeats: []authPair{
			{AllCPUUS: 100, AllAuthCPUUS: 102, Ratio: 0.99},
			{AllCPUUS: 110, AllAuthCPUUS: 91, Ratio: 1.2},
		},
	}
	if cost, ok := rep.authCostUS(); !ok || cost != 2 {
		t.Fatalf("median cost = %v, %v; want +2 (pairs +30, +2, -19)", cost, ok)
	}
	line := rep.authCostLine()
	want := "- authentication cost (all-auth − all) per request: +2.0 µs of server CPU, the median of 3 back-to-back pairs (+30.0, +2.0, -19.0 µs); 0.99 × the throughput (median); p50 +0.50 ms, p99 +0.50 ms in the first pair\n"
	if line != want {
		t.Fatalf("line:\n%q\nwant\n%q", line, want)
	}
	var judged bool
	for _, tg := range rep.targets() {
		if strings.HasPrefix(tg.name, "authentication") {
			judged = true
			if !tg.judged || !tg.pass || tg.measured != "+2.0 µs" {
				t.Fatalf("target %+v: want judged, passed, +2.0 µs", tg)
			}
		}
	}
	if !judged {
		t.Fatal("no authentication target")
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Fatalf("median of an even count = %v, want 2.5", got)
	}
	rep.Rows[1].Error = "layout all-auth: exited"
	if _, ok := rep.authCostUS(); ok || rep.authCostLine() != "" {
		t.Fatal("a failed all-auth row still gives an authentication cost")
	}
}
