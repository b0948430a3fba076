package tools

import (
	"context"
	"encoding/json"
	"fmt"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
)

// LoggerName is the "logger" of every log message the provider sends.
const LoggerName = "everything"

// Emitter sends a call's intermediate events.
type Emitter interface {
	// Progress reports progress; it is a no-op when the client did not ask for it.
	Progress(ctx context.Context, progress, total float64, message string) error
	// Log sends a log message; it is a no-op below the client's log level.
	Log(ctx context.Context, level, message string) error
}

// levelRank ranks MCP's syslog levels, lowest first, or returns -1 for an unknown level.
func levelRank(level string) int {
	switch level {
	case "debug":
		return 0
	case "info":
		return 1
	case "notice":
		return 2
	case "warning":
		return 3
	case "error":
		return 4
	case "critical":
		return 5
	case "alert":
		return 6
	case "emergency":
		return 7
	default:
		return -1
	}
}

// StreamEmitter sends events on a CallTool stream, filtered by the request context.
type StreamEmitter struct {
	send     func(*providerv1.CallToolResponse) error
	minLevel int // -1: send no log messages
	progress bool
}

// NewStreamEmitter builds an emitter for one call. An empty or unknown log level turns
// log messages off, as RequestContext.log_level documents.
func NewStreamEmitter(send func(*providerv1.CallToolResponse) error, rc *mcpv1.RequestContext) *StreamEmitter {
	return &StreamEmitter{
		send:     send,
		minLevel: levelRank(rc.GetLogLevel()),
		progress: rc.GetProgressRequested(),
	}
}

// Progress implements Emitter.
func (e *StreamEmitter) Progress(ctx context.Context, progress, total float64, message string) error {
	if !e.progress {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return e.send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Progress{
		Progress: &mcpv1.Progress{Progress: progress, Total: total, Message: message},
	}})
}

// Log implements Emitter.
func (e *StreamEmitter) Log(ctx context.Context, level, message string) error {
	rank := levelRank(level)
	if e.minLevel < 0 || rank < e.minLevel {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(message)
	if err != nil {
		return fmt.Errorf("encode log message: %w", err)
	}
	return e.send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Log{
		Log: &mcpv1.LogMessage{Level: level, Logger: LoggerName, Data: data},
	}})
}
