package dispatch

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// A requestState token carries a provider's opaque state through a 2026-07-28 client
// between an input_required result and its retry. It is signed, not encrypted: the
// client must not be able to change it, bind it to another tool or another client, or
// use it after it expires (MRTR "Server Requirements"; the state is attacker-controlled
// input). Providers rely on it: the federation's retry state of a 2026-07-28
// upstream (services/federation/retrystate.go) has no signature of its own, so a
// provider's state must reach a provider again only through verify (or, for stateful
// clients and tasks, without passing through the client).
//
// Layout before base64url (no padding):
//
//	version (1) | expiry, Unix ms, big endian (8) | target digest (16) |
//	client digest (16) | provider state (n) | HMAC-SHA256 of everything before (32)
const (
	stateVersion    = 1
	digestLen       = 16
	stateHeaderLen  = 1 + 8 + digestLen + digestLen
	stateMACLen     = sha256.Size
	maxStateToken   = 256 << 10 // bounds the work spent on a hostile token
	stateDigestSalt = "mcpmesh requestState v1\x00"
)

// Reasons a requestState is refused. Each is a clear -32602 for the client.
var (
	errStateForged  = errors.New("requestState is not valid: it was not issued by this server or was altered")
	errStateExpired = errors.New("requestState has expired: send the request again without requestState and inputResponses")
	errStateTarget  = errors.New("requestState was issued for another request: echo it only on the retry of the request that returned it")
	errStateClient  = errors.New("requestState was issued to another client")
)

// stateSigner signs and verifies requestState tokens.
type stateSigner struct {
	key []byte
	// previous verifies tokens signed before a key rotation; nil for none.
	previous []byte
	ttl      time.Duration
	now      func() time.Time
}

// digest binds a token to a value (the method and name of the request, or the client).
func digest(parts ...string) [digestLen]byte {
	h := sha256.New()
	h.Write([]byte(stateDigestSalt))
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var out [digestLen]byte
	copy(out[:], h.Sum(nil))
	return out
}

// clientDigest identifies a session-less client by its declared clientInfo. The mesh
// has no authenticated principal on this path yet; when it has, it belongs here too.
func clientDigest(clientInfo []byte) [digestLen]byte {
	var info struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if len(clientInfo) > 0 {
		_ = json.Unmarshal(clientInfo, &info) // unreadable info identifies as anonymous
	}
	return digest("client", info.Name, info.Version)
}

func (s *stateSigner) mac(b []byte) []byte { return macWith(s.key, b) }

// authentic reports whether sum is body's signature by the key or the previous one.
func (s *stateSigner) authentic(body, sum []byte) bool {
	return hmac.Equal(sum, s.mac(body)) || (len(s.previous) > 0 && hmac.Equal(sum, macWith(s.previous, body)))
}

func macWith(key, b []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return m.Sum(nil)
}

// sign wraps the provider's state for a request target and client.
func (s *stateSigner) sign(providerState []byte, target, client [digestLen]byte) string {
	b := make([]byte, 0, stateHeaderLen+len(providerState)+stateMACLen)
	b = append(b, stateVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(s.now().Add(s.ttl).UnixMilli()))
	b = append(b, target[:]...)
	b = append(b, client[:]...)
	b = append(b, providerState...)
	b = append(b, s.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// verify checks a token and returns the provider's state. The signature is checked
// first, so the other checks read authentic data.
func (s *stateSigner) verify(token string, target, client [digestLen]byte) ([]byte, error) {
	// One string per token: the decoder skips CR and LF, and strict decoding refuses
	// other values of the unused bits of the last character.
	if len(token) > maxStateToken || strings.ContainsAny(token, "\r\n") {
		return nil, errStateForged
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) < stateHeaderLen+stateMACLen || b[0] != stateVersion {
		return nil, errStateForged
	}
	body, sum := b[:len(b)-stateMACLen], b[len(b)-stateMACLen:]
	if !s.authentic(body, sum) {
		return nil, errStateForged
	}
	expiry := int64(binary.BigEndian.Uint64(body[1:9]))
	if !hmac.Equal(body[9:9+digestLen], target[:]) {
		return nil, errStateTarget
	}
	if !hmac.Equal(body[9+digestLen:stateHeaderLen], client[:]) {
		return nil, errStateClient
	}
	if s.now().UnixMilli() >= expiry { // valid strictly before its expiry
		return nil, errStateExpired
	}
	return body[stateHeaderLen:], nil
}
