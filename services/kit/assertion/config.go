package assertion

import (
	"errors"
	"fmt"
	"time"
)

// JWKSPath is where the gateway serves the public keys.
const JWKSPath = "/.well-known/jwks.json"

// Config is the section auth.assertion.
type Config struct {
	// SigningKeyFiles are PEM private keys; the first signs, all are published. Empty
	// means a key generated at start, which only a mesh in one process can use. They
	// are re-read when they change (FileKeys).
	SigningKeyFiles []string `koanf:"signing_key_files"`
	// RetiredKeyGrace is how long a key taken out of SigningKeyFiles stays published,
	// so that assertions it signed still verify; at least TTL.
	RetiredKeyGrace time.Duration `koanf:"retired_key_grace"`
	// Issuer is the iss of assertions.
	Issuer string `koanf:"issuer"`
	// TTL is the lifetime of an assertion.
	TTL time.Duration `koanf:"ttl"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Issuer: DefaultIssuer, TTL: DefaultTTL, RetiredKeyGrace: DefaultRetiredKeyGrace}
}

// Bounds of Config.TTL: long enough to cache, short enough that a stolen assertion is
// soon worthless.
const (
	minTTL = 10 * time.Second
	maxTTL = 10 * time.Minute
)

// Validate reports every problem.
func (c Config) Validate() error {
	var errs []error
	if c.Issuer == "" {
		errs = append(errs, errors.New("auth.assertion.issuer: must not be empty"))
	}
	if c.TTL < minTTL || c.TTL > maxTTL {
		errs = append(errs, fmt.Errorf("auth.assertion.ttl: must be between %s and %s", minTTL, maxTTL))
	}
	if c.RetiredKeyGrace < c.TTL || c.RetiredKeyGrace > 24*time.Hour {
		errs = append(errs, errors.New("auth.assertion.retired_key_grace: must be at least auth.assertion.ttl (assertions a retired key signed must still verify) and at most 24h"))
	}
	return errors.Join(errs...)
}

// Keys loads the configured keys, or generates an ephemeral key when none is
// configured and allowEphemeral is set (a mesh in one process).
func (c Config) Keys(allowEphemeral bool) (*KeySet, error) {
	if len(c.SigningKeyFiles) > 0 {
		return LoadKeys(c.SigningKeyFiles)
	}
	if !allowEphemeral {
		return nil, errors.New("auth.assertion.signing_key_files: required when the session service and the gateway run in different processes (they must share the keys)")
	}
	return EphemeralKeys()
}
