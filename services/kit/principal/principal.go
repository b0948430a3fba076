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
// rollback) a record must answer both.
func OwnerOf(ctx context.Context) string {
	p, ok := FromContext(ctx)
	if !ok || p.Method == MethodAnonymous {
		return ""
	}
	sum := sha256.Sum256([]byte(p.Key()))
	return string(sum[:])
}

type contextKey struct{}

// carried is the context value: the principal and, once a call to another process has
// needed it, its wire form, so that a request crossing several hops is encoded once
// (and a principal received from another process is never encoded again).
type carried struct {
	p    *Principal
	once sync.Once
	wire string
	err  error
}

func (c *carried) encoded() (string, error) {
	c.once.Do(func() {
		if c.wire != "" {
			return
		}
		var b []byte
		b, c.err = Encode(c.p)
		c.wire = string(b)
	})
	return c.wire, c.err
}

// anonymous is the context value of every request when authentication is off: one
// value, encoded once, shared by all of them (each hop of such a request would
// otherwise encode or decode the same bytes again).
var anonymous = func() *carried {
	b, err := Encode(Anonymous)
	if err != nil {
		panic(err) // a fixed value: cannot happen
	}
	return &carried{p: Anonymous, wire: string(b)}
}()

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	if p == Anonymous {
		return context.WithValue(ctx, contextKey{}, anonymous)
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
	if vals[0] == anonymous.wire {
		return context.WithValue(ctx, contextKey{}, anonymous), true, nil
	}
	p, err := Decode([]byte(vals[0]))
	if err != nil {
		return ctx, false, err
	}
	// The received bytes are the wire form: a further hop sends them as they are.
	return context.WithValue(ctx, contextKey{}, &carried{p: p, wire: vals[0]}), true, nil
}
