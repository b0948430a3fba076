package meshconfig

import "fmt"

// Telemetry configures traces. Where spans go is not configured here but by the
// standard OTEL_* environment variables (OTEL_EXPORTER_OTLP_ENDPOINT and friends).
type Telemetry struct {
	// SampleRatio is the share of new traces recorded (0 to 1); requests arriving with
	// a trace follow its sampling decision.
	SampleRatio float64 `koanf:"sample_ratio"`
}

// Admin configures the admin HTTP listener of processes without a gateway.
type Admin struct {
	// Listen is where /metrics is served; empty serves none (the gateway serves
	// /metrics itself).
	Listen string `koanf:"listen"`
	// Auth is the credential the admin listener requires, apart from the callers'.
	Auth AdminAuth `koanf:"auth"`
}

// AdminAuth is the admin listener's own credential.
type AdminAuth struct {
	// BearerTokenFile holds a token that every request to /metrics and /loglevel must
	// send as "Authorization: Bearer <token>"; empty: no credential (a private address).
	// Re-read when the file changes.
	BearerTokenFile string `koanf:"bearer_token_file"`
}

func defaultTelemetry() Telemetry { return Telemetry{SampleRatio: 1} }

func (t Telemetry) validate() error {
	if t.SampleRatio < 0 || t.SampleRatio > 1 {
		return fmt.Errorf("telemetry.sample_ratio: %v is not between 0 and 1", t.SampleRatio)
	}
	return nil
}
