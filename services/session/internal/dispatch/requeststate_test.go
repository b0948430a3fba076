package dispatch

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

func TestRequestState(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	signer := &stateSigner{key: []byte("0123456789abcdef0123456789abcdef"), ttl: 10 * time.Minute, now: func() time.Time { return now }}
	target := retryTarget("tools/call", "sample")
	client := clientDigest([]byte(`{"name":"c","version":"1"}`))
	token := signer.sign([]byte(`{"tool":"sample"}`), target, client)

	flipped := []byte(token)
	flipped[len(flipped)/2] ^= 1
	otherKey := &stateSigner{key: []byte("another key that is long enough!!"), ttl: time.Minute, now: signer.now}
	later := &stateSigner{key: signer.key, ttl: signer.ttl, now: func() time.Time { return now.Add(10*time.Minute + time.Millisecond) }}
	raw, _ := base64.RawURLEncoding.DecodeString(token)

	tests := []struct {
		name   string
		signer *stateSigner
		token  string
		target [digestLen]byte
		client [digestLen]byte
		want   error
	}{
		{"valid", signer, token, target, client, nil},
		{"same client info, other member order", signer, token, target, clientDigest([]byte(`{"version":"1","name":"c"}`)), nil},
		{"altered", signer, string(flipped), target, client, errStateForged},
		{"not base64", signer, "!!!", target, client, errStateForged},
		{"empty", signer, "", target, client, errStateForged},
		{"truncated", signer, base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]), target, client, errStateForged},
		{"signed with another key", otherKey, token, target, client, errStateForged},
		{"expired", later, token, target, client, errStateExpired},
		{"another tool", signer, token, retryTarget("tools/call", "elicit"), client, errStateTarget},
		{"another method", signer, token, retryTarget("prompts/get", "sample"), client, errStateTarget},
		{"another client", signer, token, target, clientDigest([]byte(`{"name":"other","version":"1"}`)), errStateClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state, err := tt.signer.verify(tt.token, tt.target, tt.client)
			if !errors.Is(err, tt.want) {
				t.Fatalf("verify: %v, want %v", err, tt.want)
			}
			if tt.want == nil && string(state) != `{"tool":"sample"}` {
				t.Errorf("provider state %q", state)
			}
		})
	}
}

// FuzzRequestState: a hostile token never panics and never verifies.
func FuzzRequestState(f *testing.F) {
	// A fixed clock makes the issued token the same in every fuzzing worker process.
	now := time.Unix(1_800_000_000, 0)
	signer := &stateSigner{key: []byte("0123456789abcdef0123456789abcdef"), ttl: time.Minute, now: func() time.Time { return now }}
	target, client := retryTarget("tools/call", "t"), clientDigest(nil)
	issued := signer.sign([]byte("s"), target, client)
	f.Add(issued)
	f.Add(issued[:20] + "\r\n" + issued[20:]) // the decoder skips line breaks
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, token string) {
		if _, err := signer.verify(token, target, client); err == nil && token != issued {
			t.Fatalf("a token this signer did not issue verified: %q", token)
		}
	})
}

// A key rotation: replicas sign with the new key and still accept states signed with
// the previous one until it is dropped.
func TestRequestStateKeyRotation(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	oldKey := []byte("the old key, at least 32 bytes long")
	newKey := []byte("the new key, at least 32 bytes long")
	before := &stateSigner{key: oldKey, ttl: time.Minute, now: clock}
	rotating := &stateSigner{key: newKey, previous: oldKey, ttl: time.Minute, now: clock}
	after := &stateSigner{key: newKey, ttl: time.Minute, now: clock}
	target, client := digest("tools/call", "ask"), clientDigest(nil)

	issued := before.sign([]byte("p"), target, client)
	if got, err := rotating.verify(issued, target, client); err != nil || string(got) != "p" {
		t.Fatalf("state of the old key during the rotation: %q, %v", got, err)
	}
	if _, err := after.verify(issued, target, client); !errors.Is(err, errStateForged) {
		t.Fatalf("state of the old key after it was dropped: %v, want errStateForged", err)
	}
	fresh := rotating.sign([]byte("q"), target, client)
	if got, err := after.verify(fresh, target, client); err != nil || string(got) != "q" {
		t.Fatalf("a rotating replica signs with the new key: %q, %v", got, err)
	}
}
