package meshtls

import (
	"crypto/tls"
	"errors"
	"fmt"
)

// Client authentication modes of a server (Config.ClientAuth).
const (
	ClientAuthNone    = "none"
	ClientAuthRequest = "request"
	ClientAuthRequire = "require"
)

// Config is the TLS identity and trust of one process (the grpc.tls section).
type Config struct {
	// CertFile and KeyFile are the process's certificate (with its chain) and private
	// key, PEM. The server presents them, and clients present them to servers that ask.
	CertFile string `koanf:"cert_file"`
	KeyFile  string `koanf:"key_file"`
	// CAFile holds the PEM certificates trusted to sign peers' certificates: servers
	// verify clients with it, clients verify servers with it (empty: the system roots).
	CAFile string `koanf:"ca_file"`
	// ClientAuth is what a server asks of clients: none, request (verified when
	// sent) or require (mutual TLS).
	ClientAuth string `koanf:"client_auth"`
	// ServerName overrides the name clients verify in servers' certificates; empty
	// means the host of the address dialled.
	ServerName string `koanf:"server_name"`
	// AllowedPeers are the identities (URI or DNS SANs, "*" within a segment or label)
	// that may call every service of the server; empty allows every certificate the
	// CA signed.
	AllowedPeers []string `koanf:"allowed_peers"`
	// ServicePeers replaces AllowedPeers for one service, by target name (session,
	// transport, registry, health, provider-everything).
	ServicePeers map[string][]string `koanf:"service_peers"`
}

// DefaultConfig is TLS off, with mutual TLS once certificates are configured.
func DefaultConfig() Config {
	return Config{ClientAuth: ClientAuthRequire, AllowedPeers: []string{}, ServicePeers: map[string][]string{}}
}

// Enabled reports whether the process has a certificate: its gRPC server serves TLS.
func (c Config) Enabled() bool { return c.CertFile != "" }

// ClientEnabled reports whether clients dial with TLS: with a certificate to present or
// a CA to verify servers with.
func (c Config) ClientEnabled() bool { return c.CertFile != "" || c.CAFile != "" }

// Validate reports every problem at once; prefix names the section ("grpc.tls").
func (c Config) Validate(prefix string) error {
	var errs []error
	if (c.CertFile == "") != (c.KeyFile == "") {
		errs = append(errs, fmt.Errorf("%s.cert_file and %s.key_file: set both or neither", prefix, prefix))
	}
	if _, err := clientAuthType(c.ClientAuth); err != nil {
		errs = append(errs, fmt.Errorf("%s.client_auth: %w", prefix, err))
	}
	if c.Enabled() && c.ClientAuth != ClientAuthNone && c.CAFile == "" {
		errs = append(errs, fmt.Errorf("%s.ca_file: required to verify client certificates when %s.client_auth is %s (or set client_auth: none)", prefix, prefix, c.ClientAuth))
	}
	return errors.Join(errs...)
}

func clientAuthType(mode string) (tls.ClientAuthType, error) {
	switch mode {
	case ClientAuthNone:
		return tls.NoClientCert, nil
	case ClientAuthRequest:
		return tls.VerifyClientCertIfGiven, nil
	case ClientAuthRequire, "":
		return tls.RequireAndVerifyClientCert, nil
	}
	return 0, fmt.Errorf("unknown mode %q (want none, request or require)", mode)
}
