package federation

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
)

// callSink is where the progress and log messages of one running tool call go: its
// CallTool stream, until the call ends.
type callSink struct {
	token    string // the progress token sent upstream; "" when no progress was asked
	logLevel string // the client's minimum level; "" for no log messages
	// via is the caller's session the call was sent on; nil for the federation's
	// (upstream.mu). Only that session's messages reach the call.
	via *callerSession

	mu   sync.Mutex
	send func(*providerv1.CallToolResponse) error // nil once the call ended
}

func (c *callSink) deliver(resp *providerv1.CallToolResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.send != nil {
		_ = c.send(resp) // a broken stream ends the call anyway
	}
}

// close stops deliveries; the call's outcome is sent after it, never interleaved.
func (c *callSink) close() {
	c.mu.Lock()
	c.send = nil
	c.mu.Unlock()
}

// attach sends further deliveries to the stream of a resumed call.
func (c *callSink) attach(send func(*providerv1.CallToolResponse) error) {
	c.mu.Lock()
	c.send = send
	c.mu.Unlock()
}

// openSink registers a running call; the returned function unregisters it.
func (u *upstream) openSink(rc *mcpv1.RequestContext, send func(*providerv1.CallToolResponse) error) (*callSink, func()) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.nextID++
	id := u.nextID
	sink := &callSink{logLevel: rc.GetLogLevel(), send: send}
	if rc.GetProgressRequested() {
		// Unique per federation replica and upstream connection; the upstream echoes it.
		sink.token = "mcpmesh-" + strconv.FormatUint(id, 10)
	}
	u.calls[id] = sink
	return sink, func() {
		sink.close()
		u.mu.Lock()
		delete(u.calls, id)
		u.mu.Unlock()
	}
}

// onNotification forwards one notification tapped on the connection of from (nil: the
// federation's own; see tap.go).
func (u *upstream) onNotification(from *callerSession, line []byte) {
	method, params, ok := notificationLine(line)
	if !ok {
		return
	}
	switch method {
	case "notifications/progress":
		var p mcp.ProgressNotificationParams
		if err := json.Unmarshal(params, &p); err == nil {
			u.onProgress(from, &p)
		}
	case "notifications/message":
		var p mcp.LoggingMessageParams //nolint:staticcheck // deprecated from 2026-07-28, still sent by stateful upstreams
		if err := json.Unmarshal(params, &p); err == nil {
			u.onLog(from, &p)
		}
	}
}

// onProgress forwards an upstream progress notification to the call whose token it
// carries, sent on the connection the notification came on.
func (u *upstream) onProgress(from *callerSession, p *mcp.ProgressNotificationParams) {
	token := fmt.Sprint(p.ProgressToken)
	u.mu.RLock()
	var sink *callSink
	for _, c := range u.calls {
		if c.token != "" && c.token == token && c.via == from {
			sink = c
			break
		}
	}
	u.mu.RUnlock()
	if sink == nil {
		return // the call ended, or the token is not ours
	}
	sink.deliver(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Progress{Progress: &mcpv1.Progress{
		Progress: p.Progress, Total: p.Total, Message: p.Message,
	}}})
}

// onLog logs an upstream's log message and forwards it to the running call when
// exactly one runs on the connection it came on: MCP log notifications name no
// request, so with several calls in flight the message cannot be attributed and only
// the federation's log has it.
func (u *upstream) onLog(from *callerSession, p *mcp.LoggingMessageParams) { //nolint:staticcheck // see onNotification
	data, err := json.Marshal(p.Data)
	if err != nil {
		data = []byte("null")
	}
	u.logger.Debug("upstream log message", "level", string(p.Level), "logger", p.Logger, "data", string(data))
	u.mu.RLock()
	var sink *callSink
	n := 0
	for _, c := range u.calls {
		if c.via == from {
			sink = c
			n++
		}
	}
	if n != 1 {
		sink = nil
	}
	u.mu.RUnlock()
	if sink == nil || !levelAtLeast(string(p.Level), sink.logLevel) {
		return
	}
	sink.deliver(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Log{Log: &mcpv1.LogMessage{
		Level: string(p.Level), Logger: p.Logger, Data: data,
	}}})
}

// logLevels are MCP's levels, least severe first.
var logLevels = []string{"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"}

// levelAtLeast reports whether level is at or above minimum; an empty minimum means
// the client wants no log messages.
func levelAtLeast(level, minimum string) bool {
	if minimum == "" {
		return false
	}
	l, m := slices.Index(logLevels, level), slices.Index(logLevels, minimum)
	return l >= 0 && m >= 0 && l >= m
}
