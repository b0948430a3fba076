package assertion

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	jose "github.com/go-jose/go-jose/v4"
)

// KeySet holds the mesh's signing keys: the first one signs, all are published.
type KeySet struct {
	signing   jose.JSONWebKey
	public    jose.JSONWebKeySet
	ephemeral bool
}

// LoadKeys reads PEM private keys from files, in order.
func LoadKeys(files []string) (*KeySet, error) {
	if len(files) == 0 {
		return nil, errors.New("auth.assertion.signing_key_files: no key file")
	}
	var keys []crypto.Signer
	var errs []error
	for _, f := range files {
		k, err := readKey(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("auth.assertion.signing_key_files: %w", err))
			continue
		}
		keys = append(keys, k)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return newKeySet(keys, false)
}

// EphemeralKeys returns a key set with one ECDSA P-256 key generated now: enough for a
// mesh in one process, whose providers fetch the JWKS from its gateway. Every restart
// changes the key, and two processes never share it.
func EphemeralKeys() (*KeySet, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate assertion key: %w", err)
	}
	return newKeySet([]crypto.Signer{k}, true)
}

// Ephemeral reports whether the keys were generated at start rather than read from files.
func (k *KeySet) Ephemeral() bool { return k.ephemeral }

// SigningKeyID is the kid of the key that signs.
func (k *KeySet) SigningKeyID() string { return k.signing.KeyID }

// JWKS is the public keys as a JSON Web Key Set, for the gateway to serve and
// providers to verify with.
func (k *KeySet) JWKS() []byte {
	b, err := json.Marshal(k.public)
	if err != nil {
		// Keys that loaded always marshal; a failure here is a programming error.
		panic(fmt.Sprintf("marshal JWKS: %v", err))
	}
	return b
}

func readKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%s: PEM block %q, want PRIVATE KEY (PKCS#8) or EC PRIVATE KEY", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch k := key.(type) {
	case ed25519.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%s: ECDSA key on %s, want P-256", path, k.Curve.Params().Name)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("%s: %T keys are not supported; use Ed25519 or ECDSA P-256", path, key)
	}
}

func algorithmOf(k crypto.Signer) jose.SignatureAlgorithm {
	if _, ok := k.(ed25519.PrivateKey); ok {
		return jose.EdDSA
	}
	return jose.ES256
}

func newKeySet(keys []crypto.Signer, ephemeral bool) (*KeySet, error) {
	ks := &KeySet{ephemeral: ephemeral}
	for i, k := range keys {
		jwk := jose.JSONWebKey{Key: k.Public(), Algorithm: string(algorithmOf(k)), Use: "sig"}
		tp, err := jwk.Thumbprint(crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("key thumbprint: %w", err)
		}
		// RFC 7638 thumbprints as kids: the same key gets the same kid on every replica.
		jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
		if slicesContainsKID(ks.public.Keys, jwk.KeyID) {
			continue
		}
		ks.public.Keys = append(ks.public.Keys, jwk)
		if i == 0 {
			ks.signing = jose.JSONWebKey{Key: k, KeyID: jwk.KeyID, Algorithm: jwk.Algorithm, Use: "sig"}
		}
	}
	return ks, nil
}

func slicesContainsKID(keys []jose.JSONWebKey, kid string) bool {
	for _, k := range keys {
		if k.KeyID == kid {
			return true
		}
	}
	return false
}
