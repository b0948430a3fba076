package probe

import (
	"net/http"
	"time"

	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
)

// Outcome is the result of one check.
type Outcome struct {
	Status healthv1.Status
	// Message says why the target is not serving; empty when it is.
	Message string
}

// Serving is the outcome of a passing check.
var Serving = Outcome{Status: healthv1.Status_STATUS_SERVING}

// notServing is a failed check with a reason for people.
func notServing(message string) Outcome {
	return Outcome{Status: healthv1.Status_STATUS_NOT_SERVING, Message: message}
}

// Prober runs checks. Callers bound each check with a context deadline of Budget.
type Prober struct {
	// Budget is how long one check may take; it only words timeout messages.
	Budget time.Duration
	// HTTPClient fetches /healthz for HTTP targets.
	HTTPClient *http.Client
}
