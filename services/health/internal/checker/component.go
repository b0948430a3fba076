package checker

import (
	"cmp"
	"slices"
	"time"

	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mcpmesh/mcpmesh/services/health/internal/probe"
)

func component(kind healthv1.ComponentKind, name, address string, started time.Time, outcome probe.Outcome) *healthv1.Component {
	return &healthv1.Component{
		Name:      name,
		Kind:      kind,
		Status:    outcome.Status,
		Message:   outcome.Message,
		CheckedAt: timestamppb.New(started),
		Latency:   durationpb.New(time.Since(started)),
		Address:   address,
	}
}

// SortComponents orders components by kind, then name (then address, for a stable
// order if two share a name).
func SortComponents(components []*healthv1.Component) {
	slices.SortFunc(components, func(a, b *healthv1.Component) int {
		return cmp.Or(
			cmp.Compare(a.GetKind(), b.GetKind()),
			cmp.Compare(a.GetName(), b.GetName()),
			cmp.Compare(a.GetAddress(), b.GetAddress()),
		)
	})
}

// Aggregate is the mesh status: NOT_SERVING if a service (or database) is not serving,
// DEGRADED if only providers are not, SERVING otherwise.
func Aggregate(components []*healthv1.Component) healthv1.Status {
	degraded := false
	for _, c := range components {
		if c.GetStatus() == healthv1.Status_STATUS_SERVING {
			continue
		}
		if c.GetKind() != healthv1.ComponentKind_COMPONENT_KIND_PROVIDER {
			return healthv1.Status_STATUS_NOT_SERVING
		}
		degraded = true
	}
	if degraded {
		return healthv1.Status_STATUS_DEGRADED
	}
	return healthv1.Status_STATUS_SERVING
}
