package transport

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config is the transport service's settings (under the "transport" key).
type Config struct {
	// SSERetryMS is the retry hint (milliseconds) sent on stateful SSE streams; 0 sends
	// none.
	SSERetryMS int `koanf:"sse_retry_ms"`
	// HandleTimeout bounds a whole Exchange (one POST), session work included.
	HandleTimeout time.Duration `koanf:"handle_timeout"`
}

// DefaultConfig returns the defaults: no retry hint, a 120 s bound per POST.
func DefaultConfig() Config {
	return Config{SSERetryMS: 0, HandleTimeout: 120 * time.Second}
}

// Validate reports every invalid setting at once, each naming its key.
func (c Config) Validate() error {
	var errs []error
	if c.SSERetryMS < 0 || c.SSERetryMS > math.MaxInt32 {
		errs = append(errs, fmt.Errorf("transport.sse_retry_ms: must be between 0 and %d, got %d", math.MaxInt32, c.SSERetryMS))
	}
	if c.HandleTimeout <= 0 {
		errs = append(errs, fmt.Errorf("transport.handle_timeout: must be > 0, got %s", c.HandleTimeout))
	}
	return errors.Join(errs...)
}
