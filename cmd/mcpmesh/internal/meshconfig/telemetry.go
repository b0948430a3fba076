package meshconfig

import (
	"errors"
	"fmt"

	"github.com/mcpmesh/mcpmesh/services/kit/meshtls"
)

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
	// TLS serves the admin listener over HTTPS with its own certificate and, by default
	// (client_auth: require), mutual TLS: client certificates verified against ca_file,
	// and, when allowed_peers is set, only those identities let in (403 otherwise).
	// Files are re-read when they change. Combined with auth.bearer_token_file, a
	// request needs both.
	TLS AdminTLS `koanf:"tls"`
}

// AdminTLS is the admin listener's TLS: grpc.tls's keys that apply to one HTTPS listener.
type AdminTLS struct {
	CertFile string `koanf:"cert_file"`
	KeyFile  string `koanf:"key_file"`
	// CAFile verifies client certificates.
	CAFile string `koanf:"ca_file"`
	// ClientAuth is none, request or require (the default: mutual TLS).
	ClientAuth string `koanf:"client_auth"`
	// AllowedPeers are the client identities (URI or DNS SANs, "*" within a segment or
	// label) let in; empty lets in every certificate the CA signed.
	AllowedPeers []string `koanf:"allowed_peers"`
}

// Meshtls is the section as kit/meshtls takes it.
func (t AdminTLS) Meshtls() meshtls.Config {
	return meshtls.Config{CertFile: t.CertFile, KeyFile: t.KeyFile, CAFile: t.CAFile, ClientAuth: t.ClientAuth, AllowedPeers: t.AllowedPeers}
}

// validate reports the problems of the admin section.
func (a Admin) validate() error {
	var errs []error
	t := a.TLS.Meshtls()
	if err := t.Validate("admin.tls"); err != nil {
		errs = append(errs, err)
	}
	if !t.Enabled() && (t.CAFile != "" || len(t.AllowedPeers) > 0) {
		errs = append(errs, errors.New("admin.tls.cert_file: required with admin.tls.ca_file or admin.tls.allowed_peers (the admin listener serves TLS with it)"))
	}
	if t.Enabled() && a.Listen == "" {
		errs = append(errs, errors.New("admin.tls: set, but admin.listen is empty (no admin listener)"))
	}
	return errors.Join(errs...)
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
