package latest

import (
	"testing"
	"time"

	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

const (
	up   = healthv1.Status_STATUS_SERVING
	down = healthv1.Status_STATUS_NOT_SERVING
)

func resp(st healthv1.Status, components ...*healthv1.Component) *healthv1.CheckResponse {
	return &healthv1.CheckResponse{Status: st, Components: components}
}

func comp(name string, st healthv1.Status, message string, latency time.Duration) *healthv1.Component {
	return &healthv1.Component{
		Kind: healthv1.ComponentKind_COMPONENT_KIND_SERVICE, Name: name, Status: st,
		Message: message, Latency: durationpb.New(latency),
	}
}

func TestSameStatuses(t *testing.T) {
	base := resp(down, comp("a", up, "", time.Millisecond), comp("b", down, "connection refused", time.Millisecond))
	tests := []struct {
		name  string
		other *healthv1.CheckResponse
		want  bool
	}{
		{"identical", resp(down, comp("a", up, "", time.Millisecond), comp("b", down, "connection refused", time.Millisecond)), true},
		{"only latency and message differ", resp(down, comp("a", up, "", time.Second), comp("b", down, "timeout after 2s", time.Second)), true},
		{"component status differs", resp(down, comp("a", down, "NOT_SERVING", 0), comp("b", down, "", 0)), false},
		{"aggregate differs", resp(up, comp("a", up, "", 0), comp("b", down, "", 0)), false},
		{"component added", resp(down, comp("a", up, "", 0), comp("b", down, "", 0), comp("c", up, "", 0)), false},
		{"component renamed", resp(down, comp("a", up, "", 0), comp("c", down, "", 0)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SameStatuses(base, tt.other); got != tt.want {
				t.Errorf("SameStatuses = %v, want %v", got, tt.want)
			}
		})
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestStoreWakesOnlyOnChange(t *testing.T) {
	v := New()
	if got, _ := v.LoadWithChange(); got != nil {
		t.Fatalf("empty Value holds %v", got)
	}
	_, changed := v.LoadWithChange()
	first := resp(up, comp("a", up, "", time.Millisecond))
	v.Store(first)
	if !closed(changed) {
		t.Fatalf("first Store did not wake watchers")
	}

	_, changed = v.LoadWithChange()
	same := resp(up, comp("a", up, "", time.Second))
	v.Store(same)
	if closed(changed) {
		t.Fatalf("Store with unchanged statuses woke watchers")
	}
	if v.Load() != same {
		t.Fatalf("Load did not return the newest result")
	}

	v.Store(resp(down, comp("a", down, "NOT_SERVING", time.Second)))
	if !closed(changed) {
		t.Fatalf("Store with a changed status did not wake watchers")
	}
}
