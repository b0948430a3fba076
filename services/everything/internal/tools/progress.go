package tools

import (
	"context"
	"fmt"
	"time"
)

// Limits of the slow tool, so that a call cannot hold a stream for long.
const (
	slowDefaultDuration = 1000
	slowMaxDuration     = 30000
	slowDefaultSteps    = 5
	slowMaxSteps        = 100
)

// Limits of the long-task tool, which clients run as a task (the session service
// bounds it with its task timeout): longer than a request should hold a stream.
const (
	longTaskDefaultDuration = 5000
	longTaskMaxDuration     = 600000
	longTaskMaxSteps        = 1000
)

type slowArgs struct {
	DurationMS *int64 `json:"duration_ms"`
	Steps      *int64 `json:"steps"`
}

// runSlow waits duration_ms in steps equal parts, reporting progress after each.
func runSlow(ctx context.Context, call *Call) (Outcome, error) {
	return runSteps(ctx, call, slowDefaultDuration, slowMaxDuration, slowMaxSteps)
}

// runLongTask is runSlow with room for minutes: the tool marked for task execution.
func runLongTask(ctx context.Context, call *Call) (Outcome, error) {
	return runSteps(ctx, call, longTaskDefaultDuration, longTaskMaxDuration, longTaskMaxSteps)
}

// runSteps waits duration_ms (default defaultDuration, at most maxDuration) in steps
// equal parts (at most maxSteps), reporting progress after each; it stops when ctx
// ends (cancellation).
func runSteps(ctx context.Context, call *Call, defaultDuration, maxDuration, maxSteps int64) (Outcome, error) {
	var args slowArgs
	if err := decodeArgs(call.Arguments, &args, false); err != nil {
		return invalidArgs(call, err)
	}
	duration, steps := defaultDuration, int64(slowDefaultSteps)
	if args.DurationMS != nil {
		duration = *args.DurationMS
	}
	if args.Steps != nil {
		steps = *args.Steps
	}
	if duration < 0 || duration > maxDuration {
		return invalidArgs(call, fmt.Errorf("argument \"duration_ms\" must be between 0 and %d", maxDuration))
	}
	if steps < 1 || steps > maxSteps {
		return invalidArgs(call, fmt.Errorf("argument \"steps\" must be between 1 and %d", maxSteps))
	}
	interval := time.Duration(duration) * time.Millisecond / time.Duration(steps)
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for i := int64(1); i <= steps; i++ {
		if i > 1 {
			timer.Reset(interval)
		}
		select {
		case <-ctx.Done():
			return Outcome{}, ctx.Err()
		case <-timer.C:
		}
		if err := call.Emit.Progress(ctx, float64(i), float64(steps), fmt.Sprintf("Step %d of %d", i, steps)); err != nil {
			return Outcome{}, err
		}
	}
	return textResult(fmt.Sprintf("Completed %d steps in %d ms.", steps, duration))
}

// conformanceStepDelay is the pause between the conformance progress (and logging) events.
const conformanceStepDelay = 50 * time.Millisecond

// runConformanceProgress reports 0, 50 and 100 of 100, as test_tool_with_progress must.
func runConformanceProgress(ctx context.Context, call *Call) (Outcome, error) {
	if err := decodeArgs(call.Arguments, &struct{}{}, false); err != nil {
		return invalidArgs(call, err)
	}
	for i, p := range []float64{0, 50, 100} {
		if i > 0 {
			if err := sleep(ctx, conformanceStepDelay); err != nil {
				return Outcome{}, err
			}
		}
		if err := call.Emit.Progress(ctx, p, 100, fmt.Sprintf("Completed step %g of 100", p)); err != nil {
			return Outcome{}, err
		}
	}
	return textResult("Progress test completed.")
}

// sleep waits d or until ctx ends, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
