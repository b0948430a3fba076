package breaker

import (
	"errors"
	"fmt"
	"time"
)

// Settings are the breaker's configuration keys, meant to be embedded in a service's
// Config (for example under `koanf:"breaker"`).
type Settings struct {
	// FailureThreshold is how many consecutive failures open a provider's breaker;
	// 0 turns breaking off (every call goes through).
	FailureThreshold uint32 `koanf:"failure_threshold"`
	// OpenTimeout is how long an open breaker rejects calls before it lets trial
	// calls through (half-open).
	OpenTimeout time.Duration `koanf:"open_timeout"`
	// HalfOpenMaxRequests is how many trial calls a half-open breaker lets through at
	// once; the first failure among them opens it again.
	HalfOpenMaxRequests uint32 `koanf:"half_open_max_requests"`
}

// DefaultSettings open a breaker after 5 consecutive failures, for 30 s, then try one
// call at a time.
func DefaultSettings() Settings {
	return Settings{FailureThreshold: 5, OpenTimeout: 30 * time.Second, HalfOpenMaxRequests: 1}
}

// Validate reports every problem, each naming its key under "breaker.". A service
// that embeds the settings elsewhere uses ValidateAt with its own prefix.
func (s Settings) Validate() error { return s.ValidateAt("breaker") }

// ValidateAt reports every problem, each naming its key under prefix (for example
// "session.breaker").
func (s Settings) ValidateAt(prefix string) error {
	if s.FailureThreshold == 0 {
		return nil // off: the other keys do not matter
	}
	var errs []error
	if s.OpenTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%s.open_timeout: must be > 0 when %s.failure_threshold is set", prefix, prefix))
	}
	if s.HalfOpenMaxRequests == 0 {
		errs = append(errs, fmt.Errorf("%s.half_open_max_requests: must be > 0 when %s.failure_threshold is set", prefix, prefix))
	}
	return errors.Join(errs...)
}
