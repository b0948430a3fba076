package tools

import (
	"context"

	"github.com/mcpmesh/mcpmesh/sdk/provider"
)

// Emitter sends a call's intermediate events.
type Emitter interface {
	// Progress reports progress; it is a no-op when the client did not ask for it.
	Progress(ctx context.Context, progress, total float64, message string) error
	// Log sends a log message; it is a no-op below the client's log level.
	Log(ctx context.Context, level, message string) error
}

// ContextEmitter sends the events on the stream of the call ctx belongs to, through
// the provider SDK, which filters them by what the client asked for.
type ContextEmitter struct{}

// Progress implements Emitter.
func (ContextEmitter) Progress(ctx context.Context, progress, total float64, message string) error {
	return provider.Progress(ctx, progress, total, message)
}

// Log implements Emitter.
func (ContextEmitter) Log(ctx context.Context, level, message string) error {
	return provider.Log(ctx, level, message)
}
