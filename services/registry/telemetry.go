package registry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// instrumentationName is the OpenTelemetry scope of the registry's metrics.
const instrumentationName = "github.com/mcpmesh/mcpmesh/services/registry"

// observe reports the catalogue the registry serves as metrics of mp, read from the
// current snapshot at each collection (nothing is counted on the request path):
//   - mcpmesh.registry.providers: providers in the catalogue;
//   - mcpmesh.registry.catalogue.entries by kind (tool, resource, resource_template,
//     prompt);
//   - mcpmesh.registry.catalogue.revision.
func observe(s *Service, mp metric.MeterProvider) error {
	meter := mp.Meter(instrumentationName)
	providers, err := meter.Int64ObservableGauge("mcpmesh.registry.providers",
		metric.WithUnit("{provider}"),
		metric.WithDescription("Providers in the catalogue (registered with a live lease, or static)."))
	if err != nil {
		return err
	}
	entries, err := meter.Int64ObservableGauge("mcpmesh.registry.catalogue.entries",
		metric.WithUnit("{entry}"),
		metric.WithDescription("Entries of the catalogue by kind, after collision naming."))
	if err != nil {
		return err
	}
	// No unit: a revision is a sequence number, not a ratio ("1" would add _ratio).
	revision, err := meter.Int64ObservableGauge("mcpmesh.registry.catalogue.revision",
		metric.WithDescription("Revision of the catalogue; it moves on every change."))
	if err != nil {
		return err
	}
	kind := attribute.Key("kind")
	byKind := [...]metric.ObserveOption{
		metric.WithAttributeSet(attribute.NewSet(kind.String("tool"))),
		metric.WithAttributeSet(attribute.NewSet(kind.String("resource"))),
		metric.WithAttributeSet(attribute.NewSet(kind.String("resource_template"))),
		metric.WithAttributeSet(attribute.NewSet(kind.String("prompt"))),
	}
	_, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		snap := s.hub.Current()
		if snap == nil {
			return nil
		}
		o.ObserveInt64(providers, int64(len(snap.Providers)))
		o.ObserveInt64(entries, int64(len(snap.Tools)), byKind[0])
		o.ObserveInt64(entries, int64(len(snap.Resources)), byKind[1])
		o.ObserveInt64(entries, int64(len(snap.ResourceTemplates)), byKind[2])
		o.ObserveInt64(entries, int64(len(snap.Prompts)), byKind[3])
		o.ObserveInt64(revision, snap.Revision)
		return nil
	}, providers, entries, revision)
	return err
}
