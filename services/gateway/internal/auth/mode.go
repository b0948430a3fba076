package auth

import (
	"fmt"
	"strings"
)

// Mode is which credentials the gateway accepts.
type Mode struct {
	// Configured is false when auth.mode is empty: allowed on loopback only.
	Configured bool
	OAuth      bool
	APIKey     bool
}

// None reports whether requests are not authenticated (auth.mode none, or not configured).
func (m Mode) None() bool { return !m.OAuth && !m.APIKey }

// ParseMode reads auth.mode: "oauth", "api_key", "oauth+api_key", "none" or empty.
func ParseMode(s string) (Mode, error) {
	switch strings.TrimSpace(s) {
	case "":
		return Mode{}, nil
	case "none":
		return Mode{Configured: true}, nil
	case "oauth":
		return Mode{Configured: true, OAuth: true}, nil
	case "api_key":
		return Mode{Configured: true, APIKey: true}, nil
	case "oauth+api_key", "api_key+oauth":
		return Mode{Configured: true, OAuth: true, APIKey: true}, nil
	}
	return Mode{}, fmt.Errorf("unknown mode %q (want oauth, api_key, oauth+api_key or none)", s)
}

// AsymmetricAlgorithms are the JWS algorithms auth.oauth.algorithms may name: public-key
// signatures only, so neither "none" nor an HMAC keyed with a public key can pass.
var AsymmetricAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
