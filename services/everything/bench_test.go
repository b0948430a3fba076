package everything

import (
	"context"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/everything/internal/tools"
)

// BenchmarkEchoHandler measures the echo tool's own cost, the provider's share of the
// benchmarks' hot path.
func BenchmarkEchoHandler(b *testing.B) {
	p, err := New(DefaultConfig(), Deps{})
	if err != nil {
		b.Fatal(err)
	}
	tool, _ := p.tools.Lookup("echo")
	call := &tools.Call{Name: "echo", Arguments: []byte(`{"message":"hello, benchmark"}`), Emit: &recordingEmitter{}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if out, err := tool.Run(ctx, call); err != nil || out.Result == nil {
			b.Fatal(err)
		}
	}
}
