package grpcsource_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/shoptest"
)

// testCA makes a CA and a server certificate for 127.0.0.1 signed by it; it returns
// the CA as a PEM file and the server's certificate.
func testCA(t *testing.T) (caFile string, server tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "shop"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return caFile, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestTLSWithCAFile(t *testing.T) {
	caFile, cert := testCA(t)
	creds := credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	addr := shoptest.Start(t, shoptest.ReflectionV1, grpc.Creds(creds))

	s := shopSettings(addr)
	s.Plaintext, s.TLS = false, grpcsource.TLS{CAFile: caFile}
	client := serve(t, startSource(t, s))
	out, err := call(t, client, "ShopService.GetOrder", `{"id": "o-7"}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.result.GetIsError() || object(t, out.result.GetStructuredContent())["id"] != "o-7" {
		t.Errorf("call over TLS: %s", out.result.GetContent())
	}

	// Without the CA (the system roots), the server is not trusted.
	s.TLS = grpcsource.TLS{}
	if err := refresh(t, runSource(t, s)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted server: %v, want a certificate error", err)
	}
}

func TestCAFileProblemsAreReportedAtNew(t *testing.T) {
	s := shopSettings("127.0.0.1:1")
	s.Plaintext = false
	s.TLS.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := grpcsource.New(s, grpcsource.Deps{}); err == nil || !strings.Contains(err.Error(), "tls.ca_file") {
		t.Errorf("missing CA file: %v", err)
	}
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.TLS.CAFile = notPEM
	if _, err := grpcsource.New(s, grpcsource.Deps{}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("CA file without PEM: %v", err)
	}
}
