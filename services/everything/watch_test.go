package everything

import (
	"context"
	"strings"
	"testing"
	"time"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
)

// TestWatchResources: touching the watched resource (through its tool) reaches every
// WatchResources stream with a fresh change id, and reading it shows the new
// revision; other URIs cannot be touched; Stop ends the streams.
func TestWatchResources(t *testing.T) {
	c, p := serve(t)
	if err := p.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var streams []providerv1.ProviderService_WatchResourcesClient
	for range 2 {
		s, err := c.WatchResources(ctx, &providerv1.WatchResourcesRequest{})
		if err != nil {
			t.Fatalf("WatchResources: %v", err)
		}
		streams = append(streams, s)
	}
	// A stream subscribes when the provider receives it, which the client cannot see:
	// keep touching until every stream has heard a change.
	stopTouching := make(chan struct{})
	touched := make(chan error, 1)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopTouching:
				touched <- nil
				return
			case <-tick.C:
				if _, err := c.CallTool(ctx, &providerv1.CallToolRequest{Name: "touch-resource", Arguments: []byte(`{}`)}); err != nil {
					touched <- err
					return
				}
			}
		}
	}()
	for i, s := range streams {
		msg, err := s.Recv()
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		if msg.GetUri() != "test://watched-resource" || msg.GetChangeId() == "" {
			t.Fatalf("change = %v", msg)
		}
	}
	close(stopTouching)
	if err := <-touched; err != nil {
		t.Fatalf("touch-resource: %v", err)
	}
	read, err := c.ReadResource(ctx, &providerv1.ReadResourceRequest{Uri: "test://watched-resource"})
	if err != nil || !strings.Contains(string(read.GetContents()), "(revision ") || strings.Contains(string(read.GetContents()), "(revision 0)") {
		t.Fatalf("read after touching = %s, %v", read.GetContents(), err)
	}

	events, err := callTool(t, c, &providerv1.CallToolRequest{Name: "touch-resource", Arguments: []byte(`{"uri":"everything://static/1"}`)})
	if err != nil || !events[len(events)-1].GetResult().GetIsError() {
		t.Fatalf("touching a static resource = %v, %v; want a tool error", events, err)
	}

	stopCtx, stopCancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer stopCancel()
	if err := p.Stop(stopCtx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	for _, s := range streams {
		var last string
		for {
			msg, err := s.Recv()
			if err != nil {
				break // what was sent before Stop, then the end
			}
			if msg.GetChangeId() == last {
				t.Fatalf("change id %s repeated", last)
			}
			last = msg.GetChangeId()
		}
	}
}
