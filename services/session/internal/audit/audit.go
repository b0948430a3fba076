// Package audit writes one structured line per tools/call, resources/read and
// prompts/get, and per policy denial, on a logger of its own (auth.audit), so that
// operators can ship the audit trail apart from the service logs.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// Config is the section auth.audit.
type Config struct {
	// Enabled turns the audit lines on.
	Enabled bool `koanf:"enabled"`
	// Output is "stderr", "stdout" or the path of a file the lines are appended to
	// (created with mode 0600).
	Output string `koanf:"output"`
	// IncludeArguments adds the call's arguments to each line, with the values of
	// RedactKeys replaced.
	IncludeArguments bool `koanf:"include_arguments"`
	// RedactKeys are argument keys (at any depth, compared without case) whose values
	// never reach the audit line.
	RedactKeys []string `koanf:"redact_keys"`
}

// DefaultConfig returns the defaults: off; when turned on, to stderr without arguments.
func DefaultConfig() Config {
	return Config{Output: "stderr", RedactKeys: []string{"password", "secret", "token", "api_key", "authorization"}}
}

// Validate reports every problem.
func (c Config) Validate() error {
	if c.Enabled && strings.TrimSpace(c.Output) == "" {
		return errors.New(`auth.audit.output: must be stderr, stdout or a file path when auth.audit.enabled is true`)
	}
	return nil
}

// Logger writes audit lines. A nil *Logger writes nothing.
type Logger struct {
	log         *slog.Logger
	includeArgs bool
	redact      map[string]bool
	replica     string
	closer      io.Closer
}

// Open returns the logger cfg describes, or nil when auditing is off. replica names
// this process in every line. Close releases the file.
func Open(cfg Config, replica string) (*Logger, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	var w io.Writer
	var closer io.Closer
	switch cfg.Output {
	case "stderr", "":
		w = os.Stderr
	case "stdout":
		w = os.Stdout
	default:
		f, err := os.OpenFile(cfg.Output, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("auth.audit.output: %w", err)
		}
		w, closer = f, f
	}
	l := New(w, cfg, replica)
	l.closer = closer
	return l, nil
}

// New returns a logger writing JSON lines to w.
func New(w io.Writer, cfg Config, replica string) *Logger {
	redact := make(map[string]bool, len(cfg.RedactKeys))
	for _, k := range cfg.RedactKeys {
		redact[strings.ToLower(k)] = true
	}
	return &Logger{
		log:         slog.New(slog.NewJSONHandler(w, nil)),
		includeArgs: cfg.IncludeArguments,
		redact:      redact,
		replica:     replica,
	}
}

// Close closes the output file, if any.
func (l *Logger) Close() error {
	if l == nil || l.closer == nil {
		return nil
	}
	return l.closer.Close()
}

// Entry is one audited request.
type Entry struct {
	// Method is the MCP method (tools/call, resources/read, ...).
	Method string
	// Principal is who asked (nil: anonymous).
	Principal *principal.Principal
	// Kind, Name and Provider name the capability (Provider is empty for an unknown name).
	Kind, Name, Provider string
	// Outcome is "ok", "error", "cancelled", "denied" or "insufficient_scope".
	Outcome string
	// Code is the JSON-RPC error code of an "error" outcome.
	Code int32
	// Rule names the policy rule behind a denial.
	Rule string
	// Scopes are the scopes required, for "insufficient_scope".
	Scopes []string
	// SessionID is the stateful session, if any.
	SessionID string
	Duration  time.Duration
	// Arguments are the call's arguments (JSON), written only when configured.
	Arguments []byte
}

// Log writes e.
func (l *Logger) Log(ctx context.Context, e Entry) {
	if l == nil {
		return
	}
	who := e.Principal
	if who == nil {
		who = principal.Anonymous
	}
	attrs := make([]slog.Attr, 0, 20)
	attrs = append(attrs,
		slog.String("method", e.Method),
		slog.String("principal.subject", who.Subject),
		slog.String("principal.issuer", who.Issuer),
		slog.String("principal.method", string(who.Method)),
		slog.String("client_id", who.ClientID),
		slog.String("capability.kind", e.Kind),
		slog.String("capability.name", e.Name),
		slog.String("provider", e.Provider),
		slog.String("outcome", e.Outcome),
		slog.Float64("duration_ms", float64(e.Duration.Microseconds())/1000),
		slog.String("replica", l.replica),
	)
	if e.Code != 0 {
		attrs = append(attrs, slog.Int("code", int(e.Code)))
	}
	if e.Rule != "" {
		attrs = append(attrs, slog.String("rule", e.Rule))
	}
	if len(e.Scopes) > 0 {
		attrs = append(attrs, slog.String("required_scopes", strings.Join(e.Scopes, " ")))
	}
	if e.SessionID != "" {
		attrs = append(attrs, slog.String("session_id", e.SessionID))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	if l.includeArgs && len(e.Arguments) > 0 {
		attrs = append(attrs, slog.Any("arguments", l.redacted(e.Arguments)))
	}
	l.log.LogAttrs(ctx, slog.LevelInfo, "audit", attrs...)
}

// redactedValue replaces the values of redacted keys.
const redactedValue = "[REDACTED]"

// redacted returns the arguments with the values of redacted keys replaced, at any
// depth; arguments that are not JSON are left out rather than written raw.
func (l *Logger) redacted(args []byte) any {
	var v any
	if err := json.Unmarshal(args, &v); err != nil {
		return "[not JSON]"
	}
	return l.redact1(v)
}

func (l *Logger) redact1(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if l.redact[strings.ToLower(k)] {
				t[k] = redactedValue
			} else {
				t[k] = l.redact1(val)
			}
		}
	case []any:
		for i := range t {
			t[i] = l.redact1(t[i])
		}
	}
	return v
}
