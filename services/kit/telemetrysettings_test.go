package kit

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestTelemetrySettings(t *testing.T) {
	var buf bytes.Buffer
	tests := []struct {
		name    string
		in      TelemetrySettings
		service string
		wantLog string // a line the logger must write ("" when discarded)
	}{
		{"zero value discards", TelemetrySettings{}, "", ""},
		{"named service", TelemetrySettings{Logger: slog.New(slog.NewTextHandler(&buf, nil))}, "registry", "service=registry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			got := tt.in.WithDefaults()
			if tt.service != "" {
				got = tt.in.For(tt.service)
			}
			if got.Logger == nil || got.TracerProvider == nil || got.MeterProvider == nil {
				t.Fatalf("nil left in %+v", got)
			}
			// The defaults must be usable.
			_, span := got.TracerProvider.Tracer("t").Start(context.Background(), "s")
			span.End()
			if _, err := got.MeterProvider.Meter("t").Int64Counter("c"); err != nil {
				t.Fatal(err)
			}
			got.Logger.Info("hello")
			if tt.wantLog != "" && !strings.Contains(buf.String(), tt.wantLog) {
				t.Errorf("log %q lacks %q", buf.String(), tt.wantLog)
			}
		})
	}
}
