package provider

import (
	"context"
	"encoding/json"
	"fmt"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
)

// MCP's log levels (syslog severities), lowest first.
const (
	LevelDebug     = "debug"
	LevelInfo      = "info"
	LevelNotice    = "notice"
	LevelWarning   = "warning"
	LevelError     = "error"
	LevelCritical  = "critical"
	LevelAlert     = "alert"
	LevelEmergency = "emergency"
)

// levelRank ranks a level, lowest first, or returns -1 for an unknown level.
func levelRank(level string) int {
	for i, l := range [...]string{LevelDebug, LevelInfo, LevelNotice, LevelWarning, LevelError, LevelCritical, LevelAlert, LevelEmergency} {
		if l == level {
			return i
		}
	}
	return -1
}

// callEvents sends one tool call's progress and log events on its stream, filtered by
// what the client asked for in the request context.
type callEvents struct {
	send     func(*providerv1.CallToolResponse) error
	logger   string
	minLevel int // -1: no log messages (the client set no level)
	progress bool
}

type callEventsKey struct{}

// withCallEvents returns ctx carrying the call's event stream.
func withCallEvents(ctx context.Context, e *callEvents) context.Context {
	return context.WithValue(ctx, callEventsKey{}, e)
}

// Progress reports a tool call's progress (total 0: unknown). It does nothing when the
// client did not ask for progress or ctx is not a tool call's; it returns ctx's error
// once the call is canceled, so that loops stop.
func Progress(ctx context.Context, progress, total float64, message string) error {
	e, _ := ctx.Value(callEventsKey{}).(*callEvents)
	if e == nil || !e.progress {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return e.send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Progress{
		Progress: &mcpv1.Progress{Progress: progress, Total: total, Message: message},
	}})
}

// Log sends a log message (notifications/message) to the client during a tool call:
// data is any JSON value, usually a string. It does nothing below the level the client
// set (or when it set none) and outside a tool call.
func Log(ctx context.Context, level string, data any) error {
	e, _ := ctx.Value(callEventsKey{}).(*callEvents)
	if e == nil || e.minLevel < 0 {
		return nil
	}
	rank := levelRank(level)
	if rank < 0 {
		return invalid("log level %q is not one of MCP's", level)
	}
	if rank < e.minLevel {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode log message: %w", err)
	}
	return e.send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Log{
		Log: &mcpv1.LogMessage{Level: level, Logger: e.logger, Data: raw},
	}})
}

type requestKey struct{}

// withRequest returns ctx carrying the caller's request context.
func withRequest(ctx context.Context, rc *mcpv1.RequestContext) context.Context {
	return context.WithValue(ctx, requestKey{}, rc)
}

// Request returns the request context the mesh sent with the call (protocol version,
// session, client capabilities, input responses), or nil outside a call. Its getters
// accept nil.
func Request(ctx context.Context) *mcpv1.RequestContext {
	rc, _ := ctx.Value(requestKey{}).(*mcpv1.RequestContext)
	return rc
}
