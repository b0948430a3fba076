package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// row is one layout's line of the report.
type row struct {
	Layout    string `json:"layout"`
	Processes int    `json:"processes"`
	// Requests counts the answers that arrived in the measured window, Errors those of
	// them that failed; ReqPerSec counts successful ones only.
	Requests      uint64  `json:"requests"`
	Errors        uint64  `json:"errors"`
	InitErrors    int     `json:"init_errors"`
	WindowSeconds float64 `json:"window_seconds"`
	// CPUWindowSeconds is the time between the CPU snapshots (see loadResult).
	CPUWindowSeconds float64  `json:"cpu_window_seconds"`
	ReqPerSec        float64  `json:"req_per_sec"`
	RatioToCeiling   float64  `json:"ratio_to_ceiling,omitempty"`
	RatioToMCPGo     float64  `json:"ratio_to_mcp_go,omitempty"`
	P50US            float64  `json:"p50_us"`
	P95US            float64  `json:"p95_us"`
	P99US            float64  `json:"p99_us"`
	MaxUS            float64  `json:"max_us"`
	MeanUS           float64  `json:"mean_us"`
	ServerCPUUS      float64  `json:"server_cpu_us_per_req"`
	GeneratorCPUUS   float64  `json:"generator_cpu_us_per_req"`
	MachineBusy      float64  `json:"machine_cpu_busy"`
	ServerShare      float64  `json:"server_cpu_share"`
	GeneratorShare   float64  `json:"generator_cpu_share"`
	OtherShare       float64  `json:"other_processes_cpu_share"`
	FirstErrors      []string `json:"first_errors,omitempty"`
	Error            string   `json:"error,omitempty"`
	// DatabaseMeasured says that the PostgreSQL server was the bench's own cluster,
	// whose CPU (postmaster and backends) is DatabaseCPUUS per request.
	DatabaseMeasured bool    `json:"database_measured,omitempty"`
	DatabaseCPUUS    float64 `json:"database_cpu_us_per_req,omitempty"`
	DatabaseShare    float64 `json:"database_cpu_share,omitempty"`
	// Balanced counts the requests the load balancer sent to each gateway (replicas-pg).
	Balanced []int64 `json:"balanced,omitempty"`
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// fill copies a run's measurements into the row.
func (r *row) fill(res loadResult) {
	r.Requests = res.OK + res.Errors
	r.Errors = res.Errors
	r.InitErrors = res.InitErrors
	r.WindowSeconds = res.Window.Seconds()
	if res.Window > 0 {
		r.ReqPerSec = float64(res.OK) / res.Window.Seconds()
	}
	r.P50US = micros(res.Latency.quantile(0.50))
	r.P95US = micros(res.Latency.quantile(0.95))
	r.P99US = micros(res.Latency.quantile(0.99))
	r.MaxUS = micros(res.Latency.max)
	r.MeanUS = micros(res.Latency.mean())
	r.CPUWindowSeconds = res.CPUWindow.Seconds()
	if r.Requests > 0 && res.CPUWindow > 0 {
		// CPU rate over the snapshot window divided by the answer rate over the
		// counting window: robust to a late snapshot in a steady run.
		perSecond := float64(r.Requests) / res.Window.Seconds()
		r.ServerCPUUS = micros(res.ServerCPU) / res.CPUWindow.Seconds() / perSecond
		r.GeneratorCPUUS = micros(res.GeneratorCPU) / res.CPUWindow.Seconds() / perSecond
		r.DatabaseCPUUS = micros(res.DatabaseCPU) / res.CPUWindow.Seconds() / perSecond
	}
	r.MachineBusy = res.MachineBusy
	if res.MachineCPU > 0 {
		r.ServerShare = float64(res.ServerCPU) / float64(res.MachineCPU)
		r.GeneratorShare = float64(res.GeneratorCPU) / float64(res.MachineCPU)
		r.DatabaseShare = float64(res.DatabaseCPU) / float64(res.MachineCPU)
		r.OtherShare = max(0, r.MachineBusy-r.ServerShare-r.GeneratorShare-r.DatabaseShare)
	}
	r.FirstErrors = res.FirstErrors
}

// report is everything bench prints, and the -json document.
type report struct {
	Command       string        `json:"command"`
	Concurrency   int           `json:"concurrency"`
	Duration      time.Duration `json:"duration_ns"`
	Warmup        time.Duration `json:"warmup_ns"`
	SixGOMAXPROCS int           `json:"six_gomaxprocs"`
	// Pinned: servers on CPU 0, the generator on CPU 1 (-pin).
	Pinned        bool        `json:"pinned"`
	GOMAXPROCS    int         `json:"gomaxprocs"`
	EnvGOMAXPROCS string      `json:"env_gomaxprocs,omitempty"`
	NumCPU        int         `json:"nproc"`
	GoVersion     string      `json:"go_version"`
	Started       time.Time   `json:"date"`
	Rows          []row       `json:"layouts"`
	Idle          *idleResult `json:"idle_memory,omitempty"`
	IdleError     string      `json:"idle_memory_error,omitempty"`
	// Streams is the stream-memory run: sessions with an open GET stream each.
	Streams      *idleResult `json:"get_stream_memory,omitempty"`
	StreamsError string      `json:"get_stream_memory_error,omitempty"`
	// AuthRepeats are the pairs of all and all-auth run after the layouts (-auth-pairs).
	AuthRepeats []authPair `json:"auth_repeats,omitempty"`
	AuthError   string     `json:"auth_repeats_error,omitempty"`
}

func (r *report) fillEnvironment() {
	r.GOMAXPROCS = runtime.GOMAXPROCS(0)
	r.EnvGOMAXPROCS = os.Getenv("GOMAXPROCS")
	r.NumCPU = runtime.NumCPU()
	r.GoVersion = runtime.Version()
}

// setRatios divides every layout's throughput by the ceiling's and by mcp-go's, when
// they were measured in the run.
func (r *report) setRatios() {
	ceiling, mcpGo := r.throughput(layoutCeiling), r.throughput(layoutMCPGo)
	for i := range r.Rows {
		r.Rows[i].RatioToCeiling, r.Rows[i].RatioToMCPGo = 0, 0
		if r.Rows[i].Error != "" {
			continue
		}
		if ceiling > 0 {
			r.Rows[i].RatioToCeiling = r.Rows[i].ReqPerSec / ceiling
		}
		if mcpGo > 0 {
			r.Rows[i].RatioToMCPGo = r.Rows[i].ReqPerSec / mcpGo
		}
	}
}

// throughput is the req/s of a layout of the run (0: not run, or failed).
func (r *report) throughput(layout string) float64 {
	for _, row := range r.Rows {
		if row.Layout == layout && row.Error == "" {
			return row.ReqPerSec
		}
	}
	return 0
}

// formatRatio prints a ratio, or n/a when its denominator was not measured.
func formatRatio(ratio float64) string {
	if ratio > 0 {
		return fmt.Sprintf("%.2f", ratio)
	}
	return "n/a"
}

// formatLatency prints microseconds as µs below 1 ms and as ms above.
func formatLatency(us float64) string {
	if us < 1000 {
		return fmt.Sprintf("%.0f µs", us)
	}
	return fmt.Sprintf("%.2f ms", us/1000)
}

// formatBytes prints a byte count with a binary unit.
func formatBytes(b float64) string {
	switch {
	case b >= 1<<30 || b <= -(1<<30):
		return fmt.Sprintf("%.2f GiB", b/(1<<30))
	case b >= 1<<20 || b <= -(1<<20):
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10 || b <= -(1<<10):
		return fmt.Sprintf("%.2f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

// writeMarkdown prints the report as a Markdown table and notes.
func (r *report) writeMarkdown(w io.Writer) error {
	r.setRatios()
	var b strings.Builder
	fmt.Fprintf(&b, "## mcpmesh-bench: %d sessions, %s measured after %s warmup\n\n", r.Concurrency, r.Duration, r.Warmup)
	if len(r.Rows) > 0 {
		b.WriteString("| layout | req/s | ratio to ceiling | ratio to mcp-go | p50 | p95 | p99 | max | errors | server CPU µs/req | database CPU µs/req | generator CPU µs/req |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, row := range r.Rows {
			if row.Error != "" {
				fmt.Fprintf(&b, "| %s | failed | | | | | | | | | | |\n", row.Layout)
				continue
			}
			dbCPU := "–"
			if row.DatabaseMeasured {
				dbCPU = fmt.Sprintf("%.1f", row.DatabaseCPUUS)
			}
			errs := fmt.Sprint(row.Errors)
			if row.InitErrors > 0 {
				errs += fmt.Sprintf(" (+%d sessions failed to open)", row.InitErrors)
			}
			fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %.1f | %s | %.1f |\n",
				row.Layout, row.ReqPerSec, formatRatio(row.RatioToCeiling), formatRatio(row.RatioToMCPGo), formatLatency(row.P50US), formatLatency(row.P95US),
				formatLatency(row.P99US), formatLatency(row.MaxUS), errs, row.ServerCPUUS, dbCPU, row.GeneratorCPUUS)
		}
		b.WriteString("\n")
	}
	for _, run := range []*idleResult{r.Idle, r.Streams} {
		if run != nil {
			b.WriteString(run.line())
			b.WriteString("\n\n")
		}
	}
	b.WriteString(r.targetsSection())
	b.WriteString("\n")
	for _, row := range r.Rows {
		switch {
		case row.Error != "":
			fmt.Fprintf(&b, "- %s failed: %s\n", row.Layout, strings.ReplaceAll(row.Error, "\n", "\n  "))
		default:
			db := ""
			if row.DatabaseMeasured {
				db = fmt.Sprintf("database %.0f%%, ", 100*row.DatabaseShare)
			}
			fmt.Fprintf(&b, "- %s: %d process(es), %d answers in %.2f s, mean latency %s; machine CPU busy %.0f%% (server %.0f%%, %sgenerator %.0f%%, other processes %.0f%%)\n",
				row.Layout, row.Processes, row.Requests, row.WindowSeconds, formatLatency(row.MeanUS),
				100*row.MachineBusy, 100*row.ServerShare, db, 100*row.GeneratorShare, 100*row.OtherShare)
			if len(row.Balanced) > 0 {
				fmt.Fprintf(&b, "  - load balancer (in the bench process, so its CPU is in the generator's): requests per gateway %v\n", row.Balanced)
			}
			if row.OtherShare > 0.10 {
				fmt.Fprintf(&b, "  - WARNING: other processes used %.0f%% of the machine during this run; its figures are disturbed, rerun on a quiet machine\n", 100*row.OtherShare)
			}
			if lag := row.CPUWindowSeconds - row.WindowSeconds; lag > 0.1*row.WindowSeconds || -lag > 0.1*row.WindowSeconds {
				fmt.Fprintf(&b, "  - CPU snapshots spanned %.2f s instead of %.2f s (the machine was overloaded); CPU figures are rates over that span\n",
					row.CPUWindowSeconds, row.WindowSeconds)
			}
			for _, e := range row.FirstErrors {
				fmt.Fprintf(&b, "  - error seen: %s\n", e)
			}
		}
	}
	if line := r.storeCostLine(); line != "" {
		b.WriteString(line)
	}
	if line := r.authCostLine(); line != "" {
		b.WriteString(line)
	}
	if r.AuthError != "" {
		fmt.Fprintf(&b, "- the repeated authentication pairs stopped: %s\n", strings.ReplaceAll(r.AuthError, "\n", "\n  "))
	}
	if r.IdleError != "" {
		fmt.Fprintf(&b, "- idle memory failed: %s\n", strings.ReplaceAll(r.IdleError, "\n", "\n  "))
	}
	if r.StreamsError != "" {
		fmt.Fprintf(&b, "- GET stream memory failed: %s\n", strings.ReplaceAll(r.StreamsError, "\n", "\n  "))
	}
	b.WriteString("- req/s counts successful tools/call answers; errors are non-200 answers, bodies without \"result\" and transport failures; CPU is utime+stime from /proc (10 ms ticks) over the measured window, divided by the answers in it\n")
	fmt.Fprintf(&b, "\ncommand: `%s`  \n", r.Command)
	env := "unset"
	if r.EnvGOMAXPROCS != "" {
		env = r.EnvGOMAXPROCS
	}
	fmt.Fprintf(&b, "GOMAXPROCS: generator %d (env %s; ceiling, all and all-pg inherit the env), six and replicas-pg %s per process  \n", r.GOMAXPROCS, env, sixProcs(r.SixGOMAXPROCS))
	if r.Pinned {
		fmt.Fprintf(&b, "pinned: servers on CPU %d (taskset; GOMAXPROCS follows the CPU set), generator on CPU %d  \n", serverCPU, generatorCPU)
	}
	fmt.Fprintf(&b, "nproc: %d  \ngo: %s  \ndate: %s\n", r.NumCPU, r.GoVersion, r.Started.Format(time.RFC3339))
	_, err := io.WriteString(w, b.String())
	return err
}

// storeCostLine compares all-pg with all, when both ran: what keeping the state in
// PostgreSQL adds to each request.
func (r *report) storeCostLine() string {
	var mem, pg *row
	for i := range r.Rows {
		switch {
		case r.Rows[i].Error != "":
		case r.Rows[i].Layout == layoutAll:
			mem = &r.Rows[i]
		case r.Rows[i].Layout == layoutAllPG:
			pg = &r.Rows[i]
		}
	}
	if mem == nil || pg == nil {
		return ""
	}
	db := "database CPU not measured (-database-url)"
	if pg.DatabaseMeasured {
		db = fmt.Sprintf("%+.1f µs of database CPU, %+.1f µs in all", pg.DatabaseCPUUS, pg.ServerCPUUS-mem.ServerCPUUS+pg.DatabaseCPUUS)
	}
	return fmt.Sprintf("- store cost (all-pg − all) per request: %+.1f µs of server CPU, %s; p50 %+.2f ms, p99 %+.2f ms\n",
		pg.ServerCPUUS-mem.ServerCPUUS, db, (pg.P50US-mem.P50US)/1000, (pg.P99US-mem.P99US)/1000)
}

// pair returns the rows of two layouts when both ran without error.
func (r *report) pair(a, b string) (ra, rb row, ok bool) {
	var foundA, foundB bool
	for _, row := range r.Rows {
		switch {
		case row.Error != "":
		case row.Layout == a:
			ra, foundA = row, true
		case row.Layout == b:
			rb, foundB = row, true
		}
	}
	return ra, rb, foundA && foundB
}

func sixProcs(n int) string {
	if n == 0 {
		return "inherited"
	}
	return fmt.Sprint(n)
}

// line is the memory sentence of the report for this run.
func (i *idleResult) line() string {
	what, unit := "Idle memory", "idle sessions"
	if i.Streams {
		what, unit = "GET stream memory", "sessions with an open GET stream each (one connection per stream)"
	}
	if i.Opened == 0 {
		return fmt.Sprintf("%s (layout all, %d %s): not measured.", what, i.Sessions, unit)
	}
	gogc := "inherited GOGC"
	if i.GOGC > 0 {
		gogc = fmt.Sprintf("server GOGC=%d so RSS tracks live memory", i.GOGC)
	}
	per := "session"
	if i.Streams {
		per = "stream, its session included"
	}
	line := fmt.Sprintf("%s (layout all, %d %s, sessions opened over %d connections, %s, %s settle): "+
		"**%s per %s** (slope of VmRSS between %d and %d, used because it leaves out one-off costs and is less sensitive to GC timing); "+
		"overall (RSS at %d - RSS before) / %d = %s; RSS %s -> %s -> %s.",
		what, i.Opened, unit, i.Connections, gogc, idleSettle, formatBytes(i.PerSessionSlope), per, i.Sessions/2, i.Sessions,
		i.Sessions, i.Opened, formatBytes(i.PerSessionOverall),
		formatBytes(float64(i.RSSBase)), formatBytes(float64(i.RSSHalf)), formatBytes(float64(i.RSSFull)))
	if i.Failed > 0 {
		line += fmt.Sprintf(" %d failed to open (%s).", i.Failed, strings.Join(i.FirstErrors, "; "))
	}
	return line
}

// writeJSONFile writes the report as indented JSON.
func (r *report) writeJSONFile(path string) error {
	r.setRatios()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: encode json: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("bench: write json: %w", err)
	}
	return nil
}
