// Package logging builds the process logger: log/slog, readable text with colours on a
// terminal and JSON for machines (or as configured), with a level that can be changed
// while running, and the trace and span ids of the context on every line.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/lmittmann/tint"
)

// Formats and colour choices.
const (
	FormatAuto = "auto" // text on a terminal, JSON otherwise
	FormatJSON = "json"
	FormatText = "text"

	ColorAuto   = "auto" // colours when the output is a terminal
	ColorAlways = "always"
	ColorNever  = "never"
)

// FormatChoices lists the formats for flag help and errors.
const FormatChoices = "auto (text on a terminal, JSON otherwise), json or text"

// Config selects the log format and level.
type Config struct {
	// Level is debug, info, warn or error.
	Level string `koanf:"level"`
	// Format is auto, json or text.
	Format string `koanf:"format"`
	// Color colours text logs: auto (on a terminal), always or never.
	Color string `koanf:"color"`
}

// DefaultConfig logs info and above: text with colours on a terminal, JSON otherwise.
func DefaultConfig() Config { return Config{Level: "info", Format: FormatAuto, Color: ColorAuto} }

// Validate reports an unknown level, format or colour choice.
func (c Config) Validate() error {
	var problems []string
	if _, err := ParseLevel(c.Level); err != nil {
		problems = append(problems, err.Error())
	}
	switch c.Format {
	case FormatAuto, FormatJSON, FormatText:
	default:
		problems = append(problems, fmt.Sprintf("log.format %q: want %s", c.Format, FormatChoices))
	}
	switch c.Color {
	case "", ColorAuto, ColorAlways, ColorNever:
	default:
		problems = append(problems, fmt.Sprintf("log.color %q: want auto, always or never", c.Color))
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
// and span_id. Durations are written as text ("1.5s"), never as nanoseconds.
func New(w io.Writer, cfg Config) (*slog.Logger, *slog.LevelVar, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	level, _ := ParseLevel(cfg.Level)
	var lv slog.LevelVar
	lv.Set(level)
	return slog.New(WithTraceIDs(newHandler(w, cfg, &lv, isTerminal(w)))), &lv, nil
}

// newHandler picks the handler for cfg; terminal says whether w is one.
func newHandler(w io.Writer, cfg Config, level slog.Leveler, terminal bool) slog.Handler {
	text := cfg.Format == FormatText || (cfg.Format == FormatAuto && terminal)
	if !text {
		return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: durationsAsText})
	}
	color := cfg.Color == ColorAlways || ((cfg.Color == ColorAuto || cfg.Color == "") && terminal)
	if color {
		return tint.NewTextHandler(w, &tint.Options{Level: level, TimeFormat: time.TimeOnly, ReplaceAttr: durationsAsText})
	}
	return slog.NewTextHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: durationsAsText})
}

// durationsAsText writes time.Duration values as "1.5s" (the JSON handler would write
// nanoseconds, which nobody reads correctly).
func durationsAsText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
