package meshtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// ServerConfig is the TLS configuration of a server: each handshake takes the current
// certificate and client CAs from f, so rotated files apply to new connections.
// nextProtos are the ALPN protocols offered (default: "h2", for gRPC).
func ServerConfig(f *Files, nextProtos ...string) (*tls.Config, error) {
	if len(nextProtos) == 0 {
		nextProtos = []string{"h2"}
	}
	mode, err := clientAuthType(f.cfg.ClientAuth)
	if err != nil {
		return nil, err
	}
	if f.cfg.CertFile == "" {
		return nil, errNoCertificate
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			cert, roots := f.Current()
			return &tls.Config{
				MinVersion:   tls.VersionTLS12,
				Certificates: []tls.Certificate{*cert},
				ClientCAs:    roots,
				ClientAuth:   mode,
				// The config returned here replaces the outer one (to which
				// credentials.NewTLS added "h2"), so the protocols are set again.
				NextProtos: nextProtos,
			}, nil
		},
	}, nil
}

// ClientConfig is the TLS configuration of a client: it presents the current
// certificate when the server asks for one, and verifies the server against the
// current CA pool, so both follow rotated files without a new connection pool.
//
// The standard verification reads a fixed RootCAs pool; to verify against a pool that
// may change, it is switched off and the same checks (chain to a trusted root, server
// name, key usage) run in VerifyConnection with the current pool.
func ClientConfig(f *Files) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: f.cfg.ServerName,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			cert, _ := f.Current()
			if cert == nil {
				return &tls.Certificate{}, nil // none to present: the server decides
			}
			return cert, nil
		},
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection against the current pool
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, roots := f.Current()
			return verifyServer(cs, roots)
		},
	}
}

// verifyServer does what crypto/tls does for a client with RootCAs set to roots.
func verifyServer(cs tls.ConnectionState, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		DNSName:       cs.ServerName,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return fmt.Errorf("verify server certificate for %q: %w", cs.ServerName, err)
	}
	return nil
}
