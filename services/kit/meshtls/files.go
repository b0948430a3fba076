package meshtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// stamp tells whether a file changed since it was read.
type stamp struct {
	size    int64
	modTime time.Time
}

func stampOf(path string) (stamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{}, err
	}
	return stamp{size: fi.Size(), modTime: fi.ModTime()}, nil
}

// Files is a certificate, its key and a CA bundle read from files, re-read when one of
// them changes. It is safe for concurrent use.
type Files struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	stamps [3]stamp // cert, key, CA
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

func (f *Files) paths() [3]string { return [3]string{f.cfg.CertFile, f.cfg.KeyFile, f.cfg.CAFile} }

func (f *Files) stat() ([3]stamp, error) {
	var out [3]stamp
	for i, p := range f.paths() {
		if p == "" {
			continue
		}
		s, err := stampOf(p)
		if err != nil {
			return out, fmt.Errorf("TLS file: %w", err)
		}
		out[i] = s
	}
	return out, nil
}

// read loads the files and, when all are valid, makes them current.
func (f *Files) read(stamps [3]stamp) error {
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
	if err == nil && stamps != f.stamps {
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
