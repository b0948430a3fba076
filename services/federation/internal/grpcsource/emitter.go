package grpcsource

import (
	"context"
	"encoding/json"
	"fmt"

	"google.golang.org/grpc"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
)

// emitter reports the messages of a server stream as they arrive: a progress
// notification each (progress = messages so far, total unknown) when the client asked
// for progress, and an info log message with the message itself when the client's log
// level lets info through.
type emitter struct {
	stream   grpc.ServerStreamingServer[providerv1.CallToolResponse]
	progress bool
	log      bool
	logger   string
}

func newEmitter(stream grpc.ServerStreamingServer[providerv1.CallToolResponse], rc *mcpv1.RequestContext, tool string) *emitter {
	level := rc.GetLogLevel()
	return &emitter{
		stream:   stream,
		progress: rc.GetProgressRequested(),
		log:      level == "debug" || level == "info",
		logger:   tool,
	}
}

func (e *emitter) message(ctx context.Context, n int, body json.RawMessage) error {
	if e.progress {
		if err := e.send(ctx, &providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Progress{
			Progress: &mcpv1.Progress{Progress: float64(n), Message: fmt.Sprintf("received message %d", n)},
		}}); err != nil {
			return err
		}
	}
	if e.log {
		return e.send(ctx, &providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Log{
			Log: &mcpv1.LogMessage{Level: "info", Logger: e.logger, Data: body},
		}})
	}
	return nil
}

func (e *emitter) send(ctx context.Context, ev *providerv1.CallToolResponse) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := e.stream.Send(ev); err != nil {
		return fmt.Errorf("send stream event: %w", err)
	}
	return nil
}
