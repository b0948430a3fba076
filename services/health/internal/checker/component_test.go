package checker

import (
	"testing"

	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
)

const (
	service  = healthv1.ComponentKind_COMPONENT_KIND_SERVICE
	provider = healthv1.ComponentKind_COMPONENT_KIND_PROVIDER
	database = healthv1.ComponentKind_COMPONENT_KIND_DATABASE
	up       = healthv1.Status_STATUS_SERVING
	down     = healthv1.Status_STATUS_NOT_SERVING
)

func comp(kind healthv1.ComponentKind, name string, st healthv1.Status) *healthv1.Component {
	return &healthv1.Component{Kind: kind, Name: name, Status: st}
}

func TestAggregate(t *testing.T) {
	tests := []struct {
		name       string
		components []*healthv1.Component
		want       healthv1.Status
	}{
		{"nothing to check", nil, up},
		{"all serving", []*healthv1.Component{comp(service, "a", up), comp(provider, "p", up)}, up},
		{"provider down", []*healthv1.Component{comp(service, "a", up), comp(provider, "p", down)}, healthv1.Status_STATUS_DEGRADED},
		{"service down wins over provider down", []*healthv1.Component{comp(provider, "p", down), comp(service, "a", down)}, down},
		{"database down", []*healthv1.Component{comp(database, "pg", down)}, down},
		{"unspecified service counts as not serving", []*healthv1.Component{comp(service, "a", healthv1.Status_STATUS_UNSPECIFIED)}, down},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Aggregate(tt.components); got != tt.want {
				t.Errorf("Aggregate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSortComponents(t *testing.T) {
	components := []*healthv1.Component{
		comp(provider, "b", up), comp(database, "pg", up), comp(service, "transport", up),
		comp(provider, "a", up), comp(service, "gateway", up),
	}
	SortComponents(components)
	want := []string{"gateway", "transport", "a", "b", "pg"}
	for i, c := range components {
		if c.GetName() != want[i] {
			t.Fatalf("order[%d] = %s, want %s (full: %v)", i, c.GetName(), want[i], components)
		}
	}
}
