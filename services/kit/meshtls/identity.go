package meshtls

import (
	"context"
	"crypto/tls"
	"path"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// Peer is who is calling, as far as transport security can tell.
type Peer struct {
	// Network is false for a call in the same process (the in-process channel): it
	// crossed no network and is trusted as the process itself.
	Network bool
	// Identities are the verified client certificate's URI SANs (spiffe://…) and DNS
	// SANs; empty when the call came without a verified certificate (plaintext, or TLS
	// without a client certificate).
	Identities []string
}

// PeerFrom reads the caller of a gRPC call from its context.
func PeerFrom(ctx context.Context) Peer {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return Peer{}
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return Peer{Network: true}
	}
	return PeerOfConnection(&info.State)
}

// PeerOfConnection is the caller of a TLS connection (an HTTP request's r.TLS; nil for
// plaintext): its verified certificate's identities.
func PeerOfConnection(cs *tls.ConnectionState) Peer {
	out := Peer{Network: true}
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return out
	}
	leaf := cs.VerifiedChains[0][0]
	for _, u := range leaf.URIs {
		out.Identities = append(out.Identities, u.String())
	}
	out.Identities = append(out.Identities, leaf.DNSNames...)
	return out
}

// Identity is the peer's first identity (its principal one: the URI SAN when it has
// one), or "" when it has none.
func (p Peer) Identity() string {
	if len(p.Identities) == 0 {
		return ""
	}
	return p.Identities[0]
}

// Matches reports whether one of the peer's identities matches one of patterns. A
// pattern is an identity (spiffe://example.org/ns/mesh/sa/gateway, gateway.mesh.svc)
// where "*" stands for any run of characters within one path segment or DNS label
// (spiffe://example.org/ns/mesh/sa/*, *.mesh.svc).
func (p Peer) Matches(patterns []string) bool {
	for _, id := range p.Identities {
		for _, pat := range patterns {
			if MatchIdentity(pat, id) {
				return true
			}
		}
	}
	return false
}

// MatchIdentity reports whether identity id matches pattern (see Peer.Matches).
func MatchIdentity(pattern, id string) bool {
	if pattern == id {
		return true
	}
	if !strings.Contains(pattern, "*") {
		return false
	}
	// DNS names: labels are separated by dots, which path.Match does not treat
	// specially, so compare label by label.
	if !strings.Contains(pattern, "://") {
		pl, il := strings.Split(pattern, "."), strings.Split(id, ".")
		if len(pl) != len(il) {
			return false
		}
		for i := range pl {
			if ok, _ := path.Match(pl[i], il[i]); !ok {
				return false
			}
		}
		return true
	}
	ok, _ := path.Match(pattern, id)
	return ok
}
