package session

import (
	"bytes"
	"fmt"
	"os"
)

// requestStateKeys are the signing key and the previous one, each from its setting
// or its file (surrounding whitespace trimmed, as secret files often end in a newline).
func (c Config) requestStateKeys() (current, previous []byte, err error) {
	if current, err = secretValue("session.request_state_key", c.RequestStateKey, c.RequestStateKeyFile); err != nil {
		return nil, nil, err
	}
	if previous, err = secretValue("session.request_state_previous_key", c.RequestStatePreviousKey, c.RequestStatePreviousKeyFile); err != nil {
		return nil, nil, err
	}
	for _, k := range []struct {
		key   string
		value []byte
	}{{"session.request_state_key", current}, {"session.request_state_previous_key", previous}} {
		if len(k.value) > 0 && len(k.value) < minRequestStateKey {
			return nil, nil, fmt.Errorf("%s: must be at least %d bytes when set", k.key, minRequestStateKey)
		}
	}
	return current, previous, nil
}

func secretValue(key, value, file string) ([]byte, error) {
	if file == "" {
		return []byte(value), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s_file: %w", key, err)
	}
	return bytes.TrimSpace(b), nil
}
