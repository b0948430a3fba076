// Package principal is who a request acts for, from the gateway that authenticates it to
// the session service that authorizes it and the providers that serve it.
//
// The gateway turns a token or API key into a Principal and puts it in the request's
// context (NewContext). In one process the context carries it through every in-process
// hop; between processes it travels as the gRPC metadata entry MetadataKey, written by
// AppendToOutgoing on the client side and read back by FromIncoming on the server side.
// The metadata entry is trusted only from peers the mesh authenticates (mTLS with a peer
// allow-list, or a service mesh that does it): a client of the public gateway cannot set
// it, because the gateway never copies inbound HTTP headers into gRPC metadata.
package principal

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"google.golang.org/grpc/metadata"
)

// MetadataKey is the gRPC metadata entry that carries the principal between services.
// The -bin suffix makes gRPC send it base64-encoded, so any claim value survives.
const MetadataKey = "mcpmesh-principal-bin"

// MaxEncodedSize bounds an encoded principal: claims come from a token the gateway has
// already size-limited, and a larger entry is refused rather than copied on every hop.
const MaxEncodedSize = 16 << 10

// Method is how a principal was authenticated.
type Method string

const (
	// MethodOAuth: a bearer token from an OAuth 2.1 authorization server (JWT or introspected).
	MethodOAuth Method = "oauth"
	// MethodAPIKey: an API key created with `mcpmesh apikey create`.
	MethodAPIKey Method = "api_key"
	// MethodAnonymous: auth.mode none; every request acts for the same anonymous principal.
	MethodAnonymous Method = "anonymous"
)

// Principal is an authenticated caller. It is immutable once built: every hop shares it.
type Principal struct {
	// Subject identifies the caller within its issuer (the token's sub, the API key's name).
	Subject string `json:"sub"`
	// Issuer is the token's iss, or "mcpmesh" for API keys and the anonymous principal.
	Issuer string `json:"iss"`
	// ClientID is the OAuth client the token was issued to (azp or client_id), if any.
	ClientID string `json:"client_id,omitempty"`
	// Scopes the caller holds, sorted and without duplicates.
	Scopes []string `json:"scopes,omitempty"`
	// Claims are the token's claims as decoded JSON (nil for API keys), for policy conditions.
	Claims map[string]any `json:"claims,omitempty"`
	// Method says how the caller was authenticated.
	Method Method `json:"method"`

	// prepared is set by Prepare (before the principal is shared) and never after:
	// the context value of every request that acts for this principal.
	prepared *carried
}

// Prepare readies p for many requests (an API key's principal, a cached token's): its
// wire form, owner digest and fingerprint are computed now, once, and NewContext with
// p then costs one context value per request instead of an allocation and a digest
// each. p must not be shared, nor changed, afterwards. Prepare returns p, or an error
// when p cannot be encoded for the wire (its claims are too large).
func Prepare(p *Principal) (*Principal, error) {
	c := &carried{p: p}
	if _, err := c.encoded(); err != nil {
		return nil, err
	}
	c.ownerDigest()
	c.fingerprint()
	p.prepared = c
	return p, nil
}

// Anonymous is the principal of every request when authentication is off (auth.mode none).
var Anonymous = &Principal{Subject: "anonymous", Issuer: "mcpmesh", Method: MethodAnonymous}

// Key identifies the principal for ownership checks (a session belongs to the principal
// that created it): issuer and subject, which together name one caller.
func (p *Principal) Key() string {
	if p == nil {
		return ""
	}
	return p.Issuer + "\x00" + p.Subject
}

// HasScope reports whether the principal holds scope.
func (p *Principal) HasScope(scope string) bool {
	return p != nil && slices.Contains(p.Scopes, scope)
}

// MissingScopes returns those of required that the principal does not hold, in order.
func (p *Principal) MissingScopes(required []string) []string {
	var missing []string
	for _, s := range required {
		if !p.HasScope(s) {
			missing = append(missing, s)
		}
	}
	return missing
}

// OwnerOf is what a record created under ctx stores as its owner (a session, a task): a
// SHA-256 digest of the principal's Key, so that the store keeps no identity in clear;
// empty without a principal and for the anonymous principal of auth.mode none. Anonymous
// records and records created without a principal are one kind: the previous release's
// gateways and transports send no principal, so during a rolling upgrade (and after a
// rollback) a record must answer both. The digest is computed once per context value
// (once per principal for prepared ones).
func OwnerOf(ctx context.Context) string {
	c, ok := ctx.Value(contextKey{}).(*carried)
	if !ok || c.p == nil {
		return ""
	}
	return c.ownerDigest()
}

// Fingerprint is everything the principal ctx carries states (issuer, subject, client,
// method and scopes; not the claims) as one comparable string, for caches of what is
// derived from a principal (a provider assertion): two tokens of one subject with
// different scopes have different fingerprints. Without a principal it is the anonymous
// principal's.
func Fingerprint(ctx context.Context) string {
	c, ok := ctx.Value(contextKey{}).(*carried)
	if !ok || c.p == nil {
		c = Anonymous.prepared
	}
	return c.fingerprint()
}

type contextKey struct{}

// carried is the context value: the principal and what hops derive from it, each
// computed at most once per value: its wire form (once a call to another process needs
// it, so that a request crossing several hops is encoded once, and a principal received
// from another process is never encoded again), its owner digest and its fingerprint.
type carried struct {
	p *Principal

	wireOnce sync.Once
	wire     string
	err      error

	ownerOnce sync.Once
	owner     string

	fingerprintOnce sync.Once
	fp              string
}

func (c *carried) encoded() (string, error) {
	c.wireOnce.Do(func() {
		if c.wire != "" {
			return
		}
		var b []byte
		b, c.err = Encode(c.p)
		c.wire = string(b)
	})
	return c.wire, c.err
}

func (c *carried) ownerDigest() string {
	c.ownerOnce.Do(func() {
		if c.p.Method == MethodAnonymous {
			return
		}
		sum := sha256.Sum256([]byte(c.p.Key()))
		c.owner = string(sum[:])
	})
	return c.owner
}

func (c *carried) fingerprint() string {
	c.fingerprintOnce.Do(func() {
		p := c.p
		var b strings.Builder
		b.Grow(len(p.Issuer) + len(p.Subject) + len(p.ClientID) + len(p.Method) + 16*len(p.Scopes) + 4)
		b.WriteString(p.Key())
		b.WriteByte(0)
		b.WriteString(p.ClientID)
		b.WriteByte(0)
		b.WriteString(string(p.Method))
		for _, s := range p.Scopes {
			b.WriteByte(0)
			b.WriteString(s)
		}
		c.fp = b.String()
	})
	return c.fp
}

// The anonymous principal of every request when authentication is off is prepared
// once: each hop of such a request would otherwise encode or decode the same bytes.
func init() {
	if _, err := Prepare(Anonymous); err != nil {
		panic(err) // a fixed value: cannot happen
	}
}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	if p.prepared != nil {
		return context.WithValue(ctx, contextKey{}, p.prepared)
	}
	return context.WithValue(ctx, contextKey{}, &carried{p: p})
}

// FromContext returns the principal ctx carries, if any.
func FromContext(ctx context.Context) (*Principal, bool) {
	c, ok := ctx.Value(contextKey{}).(*carried)
	if !ok || c.p == nil {
		return nil, false
	}
	return c.p, true
}

// Encode is the wire form of p (JSON).
func Encode(p *Principal) ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode principal: %w", err)
	}
	if len(b) > MaxEncodedSize {
		return nil, fmt.Errorf("encode principal: %d bytes, more than the %d allowed", len(b), MaxEncodedSize)
	}
	return b, nil
}

// ErrMalformed is returned for a metadata entry that does not decode to a principal.
var ErrMalformed = errors.New("malformed principal metadata")

// Decode parses the wire form written by Encode.
func Decode(b []byte) (*Principal, error) {
	if len(b) > MaxEncodedSize {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d allowed", ErrMalformed, len(b), MaxEncodedSize)
	}
	var p Principal
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if p.Subject == "" || p.Method == "" {
		return nil, fmt.Errorf("%w: subject and method are required", ErrMalformed)
	}
	return &p, nil
}

// AppendToOutgoing adds the principal ctx carries to its outgoing gRPC metadata, for a
// call to another process. Without a principal ctx is returned unchanged. The wire form
// is computed once per context value and reused by every later call.
func AppendToOutgoing(ctx context.Context) (context.Context, error) {
	c, ok := ctx.Value(contextKey{}).(*carried)
	if !ok || c.p == nil {
		return ctx, nil
	}
	wire, err := c.encoded()
	if err != nil {
		return ctx, err
	}
	return metadata.AppendToOutgoingContext(ctx, MetadataKey, wire), nil
}

// FromIncoming returns ctx carrying the principal found in its incoming gRPC metadata.
// A context that already carries a principal (an in-process call) is returned as it is;
// one without the metadata entry is returned unchanged with ok false.
func FromIncoming(ctx context.Context) (_ context.Context, ok bool, _ error) {
	if _, ok := FromContext(ctx); ok {
		return ctx, true, nil
	}
	vals := metadata.ValueFromIncomingContext(ctx, MetadataKey)
	switch len(vals) {
	case 0:
		return ctx, false, nil
	case 1:
	default:
		return ctx, false, fmt.Errorf("%w: %d entries", ErrMalformed, len(vals))
	}
	if vals[0] == Anonymous.prepared.wire {
		return context.WithValue(ctx, contextKey{}, Anonymous.prepared), true, nil
	}
	p, err := Decode([]byte(vals[0]))
	if err != nil {
		return ctx, false, err
	}
	// The received bytes are the wire form: a further hop sends them as they are.
	return context.WithValue(ctx, contextKey{}, &carried{p: p, wire: vals[0]}), true, nil
}
