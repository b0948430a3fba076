package server_test

import (
	"context"
	"testing"

	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
)

// BenchmarkExchangeToolsCall measures one stateful tools/call over loopback gRPC
// (transport) and the in-process channel (session).
func BenchmarkExchangeToolsCall(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	req := &transportv1.ExchangeRequest{
		Metadata: statefulMD(known, v25, acceptBoth),
		Body:     []byte(rpc("1", "tools/call", `{"name":"echo","arguments":{"text":"hi"}}`)),
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		stream, err := h.client.Exchange(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := stream.Recv(); err != nil {
				break
			}
		}
	}
}
