// Package errorid makes the short ids that tie an error a client sees ("service
// unavailable (id 3f2a9c01b7de)") to the log line with the details, which clients
// never see.
package errorid

import (
	"crypto/rand"
	"encoding/hex"
)

// New returns a random 12-hex-digit id.
func New() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// Append adds the id to a message for the client: "message (id 3f2a9c01b7de)".
func Append(message, id string) string { return message + " (id " + id + ")" }
