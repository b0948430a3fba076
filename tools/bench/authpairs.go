package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// authPair is one back-to-back run of all and all-auth. Server CPU per request moves
// by ±15 µs between runs minutes apart on a shared machine, three times the 5 µs the
// authentication target allows, so the target is judged on the median difference of
// several pairs, each run right after the other.
type authPair struct {
	AllCPUUS     float64 `json:"all_server_cpu_us_per_req"`
	AllAuthCPUUS float64 `json:"all_auth_server_cpu_us_per_req"`
	// Ratio is all-auth's throughput over all's.
	Ratio float64 `json:"throughput_ratio"`
}

func newAuthPair(plain, auth row) authPair {
	p := authPair{AllCPUUS: plain.ServerCPUUS, AllAuthCPUUS: auth.ServerCPUUS}
	if plain.ReqPerSec > 0 {
		p.Ratio = auth.ReqPerSec / plain.ReqPerSec
	}
	return p
}

func (p authPair) costUS() float64 { return p.AllAuthCPUUS - p.AllCPUUS }

// authPairs are the pairs of all and all-auth that ran: the layouts' own, then the
// repeats (-auth-pairs). None when either layout did not run or failed.
func (r *report) authPairs() []authPair {
	plain, auth, ok := r.pair(layoutAll, layoutAllAuth)
	if !ok {
		return nil
	}
	return append([]authPair{newAuthPair(plain, auth)}, r.AuthRepeats...)
}

// median of xs (the mean of the middle two for an even count); xs is not changed.
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// authCostUS is the median authentication cost of the pairs, and whether any ran.
func (r *report) authCostUS() (float64, bool) {
	pairs := r.authPairs()
	if len(pairs) == 0 {
		return 0, false
	}
	costs := make([]float64, len(pairs))
	for i, p := range pairs {
		costs[i] = p.costUS()
	}
	return median(costs), true
}

// repeatAuthPairs runs all and all-auth back to back until there are opts.authPairs
// pairs, alternating which goes first so that a machine slowing down or speeding up
// during the run does not favour one layout. It stops at the first failure.
func repeatAuthPairs(ctx context.Context, st starter, opts options, rep *report, progress io.Writer) error {
	if len(rep.authPairs()) == 0 {
		return nil
	}
	for i := 1; i < opts.authPairs; i++ {
		order := []string{layoutAllAuth, layoutAll}
		if i%2 == 0 {
			order = []string{layoutAll, layoutAllAuth}
		}
		ran := map[string]row{}
		for _, layout := range order {
			fmt.Fprintf(progress, "bench: authentication pair %d of %d: layout %s: starting\n", i+1, opts.authPairs, layout)
			row, err := benchLayout(ctx, st, layout, opts, progress)
			if err != nil {
				return fmt.Errorf("authentication pair %d: %w", i+1, err)
			}
			ran[layout] = row
		}
		rep.AuthRepeats = append(rep.AuthRepeats, newAuthPair(ran[layoutAll], ran[layoutAllAuth]))
	}
	return nil
}

// authCostLine compares all-auth with all, when both ran: what checking an API key on
// every request adds. With repeated pairs it gives the median and every pair.
func (r *report) authCostLine() string {
	pairs := r.authPairs()
	if len(pairs) == 0 {
		return ""
	}
	plain, auth, _ := r.pair(layoutAll, layoutAllAuth)
	latency := fmt.Sprintf("p50 %+.2f ms, p99 %+.2f ms", (auth.P50US-plain.P50US)/1000, (auth.P99US-plain.P99US)/1000)
	if len(pairs) == 1 {
		return fmt.Sprintf("- authentication cost (all-auth − all) per request: %+.1f µs of server CPU; %.2f × the throughput; %s\n",
			pairs[0].costUS(), pairs[0].Ratio, latency)
	}
	cost, _ := r.authCostUS()
	costs, ratios := make([]string, len(pairs)), make([]float64, len(pairs))
	for i, p := range pairs {
		costs[i], ratios[i] = fmt.Sprintf("%+.1f", p.costUS()), p.Ratio
	}
	return fmt.Sprintf("- authentication cost (all-auth − all) per request: %+.1f µs of server CPU, the median of %d back-to-back pairs (%s µs); %.2f × the throughput (median); %s in the first pair\n",
		cost, len(pairs), strings.Join(costs, ", "), median(ratios), latency)
}
