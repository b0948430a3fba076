package bench

import (
	"fmt"
	"strings"
)

// The performance targets (docs/performance.md, "Targets"), measured with -pin, as
// ratios within one run. Latency targets are set for 1000 and 50 sessions; at other
// concurrencies they are not judged.
const (
	targetAllRatio       = 0.9      // of the ceiling, all and all-stateless
	targetAllOverMCPGo   = 1.2      // × mcp-go
	targetAllCPUUS       = 30.0     // server CPU per request
	targetFairness       = 5.0      // p99 ≤ 5 × p50 at 1000 sessions
	targetSixRatio       = 0.25     // of the ceiling
	targetAllPGOverAll   = 0.9      // × all
	targetIdleBytes      = 512      // per idle session
	targetStreamBytes    = 16 << 10 // per open GET stream, its session included
	manySessions         = 1000
	fewSessions          = 50
	targetAllP99ManyUS   = 100e3
	targetAllP99FewUS    = 5e3
	targetSixP99ManyUS   = 150e3
	targetSixP99FewUS    = 15e3
	targetAllPGP99ManyUS = 120e3
	// targetAuthCPUUS is what authentication may add to a request's server CPU
	// (all-auth − all).
	targetAuthCPUUS = 5.0
)

// target is one line of the targets: what is asked, what was measured, pass or fail.
type target struct {
	name     string
	measured string
	pass     bool
	judged   bool // false: not measured in this run
}

func (t target) String() string {
	verdict := "not measured"
	if t.judged {
		verdict = "FAIL"
		if t.pass {
			verdict = "pass"
		}
	}
	if t.measured == "" || !t.judged {
		return fmt.Sprintf("- %s: %s", t.name, verdict)
	}
	return fmt.Sprintf("- %s: %s — %s", t.name, t.measured, verdict)
}

// targets judges the run against every target it measured.
func (r *report) targets() []target {
	r.setRatios()
	rows := map[string]row{}
	for _, row := range r.Rows {
		if row.Error == "" {
			rows[row.Layout] = row
		}
	}
	var out []target
	ratio := func(name string, got, want float64, ok bool) {
		out = append(out, target{name: name, measured: fmt.Sprintf("%.2f", got), pass: got >= want, judged: ok})
	}
	atMost := func(name string, got, want float64, format func(float64) string, ok bool) {
		out = append(out, target{name: name, measured: format(got), pass: got <= want, judged: ok})
	}
	cpu := func(us float64) string { return fmt.Sprintf("%.1f µs", us) }
	p99 := func(layout string, many, few float64) {
		row, ok := rows[layout]
		switch r.Concurrency {
		case manySessions:
			atMost(fmt.Sprintf("%s p99 < %s at C=%d", layout, formatLatency(many), manySessions), row.P99US, many, formatLatency, ok)
		case fewSessions:
			if few > 0 {
				atMost(fmt.Sprintf("%s p99 < %s at C=%d", layout, formatLatency(few), fewSessions), row.P99US, few, formatLatency, ok)
			}
		}
	}
	for _, layout := range []string{layoutAll, layoutAllStateless} {
		row, ok := rows[layout]
		ratio(fmt.Sprintf("%s ≥ %.2f of the ceiling", layout, targetAllRatio), row.RatioToCeiling, targetAllRatio, ok && row.RatioToCeiling > 0)
		ratio(fmt.Sprintf("%s ≥ %.1f × mcp-go", layout, targetAllOverMCPGo), row.RatioToMCPGo, targetAllOverMCPGo, ok && row.RatioToMCPGo > 0)
		p99(layout, targetAllP99ManyUS, targetAllP99FewUS)
		atMost(fmt.Sprintf("%s server CPU ≤ %.0f µs/req", layout, targetAllCPUUS), row.ServerCPUUS, targetAllCPUUS, cpu, ok)
		if r.Concurrency == manySessions {
			fair := 0.0
			if row.P50US > 0 {
				fair = row.P99US / row.P50US
			}
			atMost(fmt.Sprintf("%s p99 ≤ %.0f × p50", layout, targetFairness), fair, targetFairness,
				func(v float64) string { return fmt.Sprintf("%.1f ×", v) }, ok && row.P50US > 0)
		}
	}
	six, ok := rows[layoutSix]
	ratio(fmt.Sprintf("six ≥ %.2f of the ceiling", targetSixRatio), six.RatioToCeiling, targetSixRatio, ok && six.RatioToCeiling > 0)
	p99(layoutSix, targetSixP99ManyUS, targetSixP99FewUS)
	pg, pgOK := rows[layoutAllPG]
	all, allOK := rows[layoutAll]
	var pgOverAll float64
	if allOK && all.ReqPerSec > 0 {
		pgOverAll = pg.ReqPerSec / all.ReqPerSec
	}
	ratio(fmt.Sprintf("all-pg ≥ %.1f × all", targetAllPGOverAll), pgOverAll, targetAllPGOverAll, pgOK && allOK && all.ReqPerSec > 0)
	p99(layoutAllPG, targetAllPGP99ManyUS, 0)
	authCost, authOK := r.authCostUS()
	atMost(fmt.Sprintf("authentication (all-auth − all) ≤ %.0f µs/req of server CPU", targetAuthCPUUS), authCost,
		targetAuthCPUUS, func(us float64) string { return fmt.Sprintf("%+.1f µs", us) }, authOK)
	idle := target{name: fmt.Sprintf("idle session ≤ %d B", targetIdleBytes)}
	if r.Idle != nil && r.IdleError == "" {
		idle.measured, idle.pass, idle.judged = formatBytes(r.Idle.PerSessionSlope), r.Idle.PerSessionSlope <= targetIdleBytes, true
	}
	stream := target{name: fmt.Sprintf("open GET stream ≤ %s", formatBytes(targetStreamBytes))}
	if r.Streams != nil && r.StreamsError == "" {
		stream.measured, stream.pass, stream.judged = formatBytes(r.Streams.PerSessionSlope), r.Streams.PerSessionSlope <= targetStreamBytes, true
	}
	return append(out, idle, stream)
}

// targetsSection is the report's list of targets with pass or fail.
func (r *report) targetsSection() string {
	var b strings.Builder
	b.WriteString("Targets (docs/performance.md)")
	if !r.Pinned {
		b.WriteString(", judged on an unpinned run (the targets are set for -pin)")
	}
	b.WriteString(":\n\n")
	for _, t := range r.targets() {
		b.WriteString(t.String())
		b.WriteString("\n")
	}
	return b.String()
}
