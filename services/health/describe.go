package health

import (
	"context"
	"time"

	"github.com/mcpmesh/mcpmesh/services/health/internal/probe"
)

// Describe turns a failed call to a service into a few words for people ("connection
// refused", "timeout after 2s"), never the raw error text; budget is how long the call
// was allowed. Readiness checks outside this service word their failures the same way.
func Describe(ctx context.Context, err error, budget time.Duration) string {
	return probe.Describe(ctx, err, budget)
}
