// Package apikey creates, stores and checks the mesh's API keys.
//
// A key is "mcpm_" followed by 32 random bytes in base64url: the prefix tells it apart
// from a JWT or an opaque OAuth token without a lookup, and 256 bits of entropy make
// guessing hopeless. Keys are stored as HMAC-SHA256(pepper, key), never in clear:
//   - a keyed hash is one fast operation (about a microsecond), so every request can
//     check its key, and its hex digest is the lookup index (no scan, no per-key salt);
//   - a slow password hash (argon2, scrypt) protects low-entropy secrets against
//     offline guessing; these keys have none to protect, and its cost per request would
//     be tens of milliseconds;
//   - the pepper lives apart from the store (a file or the environment), so a copy of
//     the store alone cannot even test a candidate key.
package apikey

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Prefix starts every key.
const Prefix = "mcpm_"

// keyBytes is the key's randomness.
const keyBytes = 32

// Record is a stored key: everything but the key itself.
type Record struct {
	Name      string    `json:"name"`
	Hash      string    `json:"hash"` // hex HMAC-SHA256(pepper, key)
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is zero for a key that does not expire.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// LastUsedAt is written at most once per interval (see Verifier).
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// Usable reports whether the key may authenticate at now, and why not.
func (r Record) Usable(now time.Time) error {
	switch {
	case !r.RevokedAt.IsZero():
		return ErrRevoked
	case !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt):
		return ErrExpired
	}
	return nil
}

var (
	// ErrRevoked: the key was revoked.
	ErrRevoked = errors.New("API key revoked")
	// ErrExpired: the key is past its expiry.
	ErrExpired = errors.New("API key expired")
	// ErrUnknown: no such key (or name).
	ErrUnknown = errors.New("unknown API key")
	// ErrExists: a key of that name exists.
	ErrExists = errors.New("an API key of that name exists")
)

// Hasher computes the stored form of keys. It is safe for concurrent use; the HMAC
// state keyed with the pepper is reused across calls (a fresh one per key costs about
// as much as the digest itself, and allocates).
type Hasher struct {
	pepper []byte
	macs   sync.Pool // of *keyedMAC
}

type keyedMAC struct {
	mac hash.Hash
	in  []byte
	sum [sha256.Size]byte
}

// minPepperBytes keeps the pepper a secret worth the name.
const minPepperBytes = 32

// NewHasher returns a Hasher keyed with pepper.
func NewHasher(pepper []byte) (*Hasher, error) {
	if len(pepper) < minPepperBytes {
		return nil, fmt.Errorf("API key pepper: %d bytes, want at least %d (e.g. head -c 48 /dev/urandom | base64)", len(pepper), minPepperBytes)
	}
	return &Hasher{pepper: pepper}, nil
}

// ReadPepper reads the pepper from path (surrounding white space dropped).
func ReadPepper(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read API key pepper: %w", err)
	}
	return []byte(strings.TrimSpace(string(b))), nil
}

// Hash is the stored form of key.
func (h *Hasher) Hash(key string) string {
	var hexSum [2 * sha256.Size]byte
	h.AppendHex(hexSum[:0], key)
	return string(hexSum[:])
}

// AppendHex appends the stored form of key (as Hash returns it) to dst, without
// allocating when dst has room: a verifier looks the result up in its index as
// m[string(dst)], which does not copy.
func (h *Hasher) AppendHex(dst []byte, key string) []byte {
	k, _ := h.macs.Get().(*keyedMAC)
	if k == nil {
		k = &keyedMAC{mac: hmac.New(sha256.New, h.pepper)}
	}
	k.mac.Reset()
	k.in = append(k.in[:0], key...)
	k.mac.Write(k.in)
	k.mac.Sum(k.sum[:0])
	clear(k.in) // no copy of a presented key outlives the call
	dst = hex.AppendEncode(dst, k.sum[:])
	if cap(k.in) <= maxPooledKeyBytes {
		h.macs.Put(k)
	}
	return dst
}

// maxPooledKeyBytes keeps an oversized presented key from staying in the pool.
const maxPooledKeyBytes = 256

// NewKey returns a fresh key.
func NewKey() (string, error) {
	b := make([]byte, keyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new API key: %w", err)
	}
	return Prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// ValidName checks a key's name (it becomes the principal's subject).
func ValidName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("API key name %q: want 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", name)
	}
	return nil
}
