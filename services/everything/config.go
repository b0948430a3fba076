package everything

import (
	"errors"
	"fmt"
	"time"

	"github.com/mcpmesh/mcpmesh/sdk/provider"
)

// Config is the everything provider's settings.
type Config struct {
	// Name is the provider's name in the mesh.
	Name string `koanf:"name"`
	// WatchedInterval is how often test://watched-resource changes on its own (0: only
	// when the touch-resource tool is called).
	WatchedInterval time.Duration `koanf:"watched_interval"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Name: "everything", WatchedInterval: 10 * time.Second}
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if !provider.ValidName(c.Name) {
		errs = append(errs, fmt.Errorf("everything.name: %q must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit", c.Name))
	}
	if c.WatchedInterval < 0 {
		errs = append(errs, fmt.Errorf("everything.watched_interval: must be >= 0, got %s", c.WatchedInterval))
	}
	return errors.Join(errs...)
}
