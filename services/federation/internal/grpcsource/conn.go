package grpcsource

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// transportCredentials are TLS (verified with the CA file, else the system roots,
// with the client certificate when configured), or none when plaintext is asked for.
func transportCredentials(s Settings) (credentials.TransportCredentials, error) {
	if s.Plaintext {
		return insecure.NewCredentials(), nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: s.TLS.ServerName}
	if s.TLS.CAFile != "" {
		pem, err := os.ReadFile(s.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("federation.grpc[%s].tls.ca_file: %w", s.Name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("federation.grpc[%s].tls.ca_file: %s holds no PEM certificate", s.Name, s.TLS.CAFile)
		}
		cfg.RootCAs = pool
	}
	if s.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.TLS.CertFile, s.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("federation.grpc[%s].tls: client certificate: %w", s.Name, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return credentials.NewTLS(cfg), nil
}

// outgoingMetadata is the configured metadata, with the file-held values read.
func outgoingMetadata(s Settings) (metadata.MD, error) {
	md := metadata.MD{}
	for k, v := range s.Metadata {
		md.Set(k, v)
	}
	for k, path := range s.MetadataFiles {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("federation.grpc[%s].metadata_files.%s: %w", s.Name, k, err)
		}
		md.Set(k, strings.TrimRight(string(raw), "\r\n"))
	}
	return md, nil
}
