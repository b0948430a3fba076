// Package logging builds the process logger: log/slog, JSON for machines or text for a
// terminal, with a level that can be changed while running, and the trace and span
// ids of the context on every line.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Config selects the log format and level.
type Config struct {
	// Level is debug, info, warn or error.
	Level string `koanf:"level"`
	// Format is json or text.
	Format string `koanf:"format"`
}

// DefaultConfig logs info and above as JSON.
func DefaultConfig() Config { return Config{Level: "info", Format: "json"} }

// Validate reports an unknown level or format.
func (c Config) Validate() error {
	var problems []string
	if _, err := ParseLevel(c.Level); err != nil {
		problems = append(problems, err.Error())
	}
	if c.Format != "json" && c.Format != "text" {
		problems = append(problems, fmt.Sprintf("log.format %q: want json or text", c.Format))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// ParseLevel turns a level name into a slog level.
func ParseLevel(name string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(name)); err != nil {
		return 0, fmt.Errorf("log.level %q: want debug, info, warn or error", name)
	}
	return l, nil
}

// New returns a logger writing to w and the LevelVar that controls it, so the level can
// be changed at run time. Records logged with a span in their context carry trace_id
// and span_id.
func New(w io.Writer, cfg Config) (*slog.Logger, *slog.LevelVar, error) {
	level, err := ParseLevel(cfg.Level)
	if err != nil {
		return nil, nil, err
	}
	var lv slog.LevelVar
	lv.Set(level)
	opts := &slog.HandlerOptions{Level: &lv}
	var h slog.Handler
	if cfg.Format == "text" {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(WithTraceIDs(h)), &lv, nil
}
