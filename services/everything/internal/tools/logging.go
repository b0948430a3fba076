package tools

import (
	"context"
	"fmt"
)

// runLog sends one message at each of four levels; the emitter drops those below the
// client's log level.
func runLog(ctx context.Context, call *Call) (Outcome, error) {
	if err := decodeArgs(call.Arguments, &struct{}{}, false); err != nil {
		return invalidArgs(call, err)
	}
	levels := [...]string{"debug", "info", "warning", "error"}
	for _, level := range levels {
		if err := call.Emit.Log(ctx, level, fmt.Sprintf("A %s message from the log tool", level)); err != nil {
			return Outcome{}, err
		}
	}
	return textResult(fmt.Sprintf("Sent log messages at %d levels (debug, info, warning, error), filtered by the client's log level.", len(levels)))
}

// runConformanceLogging sends the three info messages of test_tool_with_logging, 50 ms
// apart (the suite checks that clients receive messages sent during execution).
func runConformanceLogging(ctx context.Context, call *Call) (Outcome, error) {
	if err := decodeArgs(call.Arguments, &struct{}{}, false); err != nil {
		return invalidArgs(call, err)
	}
	for i, msg := range []string{"Tool execution started", "Tool processing data", "Tool execution completed"} {
		if i > 0 {
			if err := sleep(ctx, conformanceStepDelay); err != nil {
				return Outcome{}, err
			}
		}
		if err := call.Emit.Log(ctx, "info", msg); err != nil {
			return Outcome{}, err
		}
	}
	return textResult("Tool with logging executed successfully")
}
