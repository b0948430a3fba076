package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/mcpmesh/mcpmesh/services/kit/logging"
)

func TestLinesCarryTraceAndSpanIDs(t *testing.T) {
	traceID, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	spanID, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	withSpan := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled,
	}))
	tests := []struct {
		name              string
		ctx               context.Context
		wantTrace, wantSp string
	}{
		{"span in context", withSpan, "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"},
		{"no span", context.Background(), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger, _, err := logging.New(&buf, logging.Config{Level: "info", Format: "json"})
			if err != nil {
				t.Fatal(err)
			}
			logger.With("service", "test").InfoContext(tt.ctx, "hello", "k", "v")
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("log line %q: %v", buf.String(), err)
			}
			got, _ := line["trace_id"].(string)
			gotSpan, _ := line["span_id"].(string)
			if got != tt.wantTrace || gotSpan != tt.wantSp {
				t.Fatalf("trace_id=%q span_id=%q, want %q %q (line %s)", got, gotSpan, tt.wantTrace, tt.wantSp, buf.String())
			}
			if line["service"] != "test" {
				t.Fatalf("attributes of With lost: %s", buf.String())
			}
		})
	}
}

func BenchmarkLogWithoutSpan(b *testing.B) {
	logger, _, err := logging.New(discard{}, logging.Config{Level: "info", Format: "json"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		logger.InfoContext(ctx, "hello", "k", "v")
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
