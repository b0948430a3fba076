package testop

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// RSAKey is a signing key of the provider.
type RSAKey struct {
	id  string
	key *rsa.PrivateKey
}

// NewKey makes an RSA key named id.
func NewKey(t testing.TB, id string) *RSAKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &RSAKey{id: id, key: k}
}

func (k *RSAKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *RSAKey) Algorithm() jose.SignatureAlgorithm          { return jose.RS256 }
func (k *RSAKey) ID() string                                  { return k.id }
func (k *RSAKey) Use() string                                 { return "sig" }

// signing and public are the two views of a key the OP asks for.
type signing struct{ *RSAKey }

func (s signing) Key() any { return s.key }

type public struct{ *RSAKey }

func (p public) Key() any { return &p.key.PublicKey }

// Rotate signs with k from now on, publishing it beside the keys already published.
func (p *Provider) Rotate(k *RSAKey) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.current = k
	p.st.keys = append(p.st.keys, k)
}

// Retire stops publishing every key but the current one.
func (p *Provider) Retire() {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.keys = []*RSAKey{p.st.current}
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return signing{s.current}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]op.Key, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, public{k})
	}
	return out, nil
}
