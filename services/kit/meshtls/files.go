package meshtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/mcpmesh/mcpmesh/services/kit/filestamp"
)

// Files is a certificate, its key and a CA bundle read from files, re-read when one of
// them changes. It is safe for concurrent use.
type Files struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	stamps filestamp.Stamps // cert, key, CA
	cert   *tls.Certificate
	roots  *x509.CertPool
}

// Load reads cfg's files once; it fails when one is missing or invalid, so that a
// process does not start with a broken identity. Later changes are picked up by
// Current.
func Load(cfg Config, log *slog.Logger) (*Files, error) {
	if log == nil {
		log = slog.Default()
	}
	f := &Files{cfg: cfg, log: log}
	stamps, err := f.stat()
	if err != nil {
		return nil, err
	}
	if err := f.read(stamps); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Files) stat() (filestamp.Stamps, error) {
	stamps, err := filestamp.Read(f.cfg.CertFile, f.cfg.KeyFile, f.cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("TLS file: %w", err)
	}
	return stamps, nil
}

// read loads the files and, when all are valid, makes them current.
func (f *Files) read(stamps filestamp.Stamps) error {
	var cert *tls.Certificate
	if f.cfg.CertFile != "" {
		c, err := tls.LoadX509KeyPair(f.cfg.CertFile, f.cfg.KeyFile)
		if err != nil {
			return fmt.Errorf("TLS certificate %s with key %s: %w", f.cfg.CertFile, f.cfg.KeyFile, err)
		}
		cert = &c
	}
	var roots *x509.CertPool
	if f.cfg.CAFile != "" {
		pem, err := os.ReadFile(f.cfg.CAFile)
		if err != nil {
			return fmt.Errorf("TLS CA file: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("TLS CA file %s: no PEM certificate in it", f.cfg.CAFile)
		}
	}
	f.cert, f.roots, f.stamps = cert, roots, stamps
	return nil
}

// Current returns the certificate (nil when none is configured) and the CA pool (nil
// for the system roots), re-reading the files first when one changed. A change that
// does not load (a half-written file) keeps the last good files and is logged; the
// next handshake tries again.
func (f *Files) Current() (*tls.Certificate, *x509.CertPool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	stamps, err := f.stat()
	if err == nil && !stamps.Equal(f.stamps) {
		err = f.read(stamps)
		if err == nil {
			f.log.Info("TLS files reloaded", "cert_file", f.cfg.CertFile, "ca_file", f.cfg.CAFile)
		}
	}
	if err != nil {
		f.log.Warn("TLS files changed but do not load; keeping the previous ones", "error", err)
	}
	return f.cert, f.roots
}

var errNoCertificate = errors.New("no TLS certificate configured (grpc.tls.cert_file)")
