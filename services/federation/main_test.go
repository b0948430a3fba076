package federation

import (
	"log/slog"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

// TestMain starts PostgreSQL lazily for the store tests that ask for a database and
// checks for leaked goroutines (pgtest.Main runs goleak).
func TestMain(m *testing.M) { pgtest.Main(m) }

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
