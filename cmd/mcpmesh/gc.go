package main

import (
	"runtime/debug"
	"strings"
)

// defaultGCPercent is the garbage collector's target when GOGC is not set: the heap
// may grow to three times the live heap between collections instead of two.
//
// Every request allocates a little on each hop and the live heap of a mesh process is
// small (tens of MB), so at Go's default of 100 collections come often and each one
// scans every goroutine's stack; at 200 a tools/call through -target=all costs 16%
// fewer instructions and the pinned bench serves 25% more (docs/performance.md,
// "Garbage collection"). The deployments set GOMEMLIMIT from the container's memory
// limit (the chart, compose and the Kubernetes manifests), which bounds the larger
// heap goal: near the limit the collector runs as often as it must.
const defaultGCPercent = 200

// applyGCDefault sets defaultGCPercent unless the environment chooses (GOGC, even
// "off"), and reports the target in force and whether it came from GOGC.
func applyGCDefault(environ []string) (percent string, fromEnv bool) {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "GOGC="); ok && v != "" {
			return v, true
		}
	}
	debug.SetGCPercent(defaultGCPercent)
	return "200", false
}
