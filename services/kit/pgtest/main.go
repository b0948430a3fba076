package pgtest

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

// mainRunning records that Main wraps this test binary, so a server started by DSN is
// stopped at exit. It is process state because the server outlives every single test.
var mainRunning atomic.Bool

// Main runs the tests of m, stops the PostgreSQL server this binary started (immediate
// shutdown) and removes its files, then — when the tests passed — fails the run if
// goroutines leaked (goleak.Find with opts, like goleak.VerifyTestMain), and exits.
// Call it from TestMain; DSN refuses to run without it.
func Main(m *testing.M, opts ...goleak.Option) {
	os.Exit(Run(m, opts...))
}

// Run is Main without the exit, for a TestMain that has its own clean-up to do after
// the tests: it returns the exit code.
func Run(m *testing.M, opts ...goleak.Option) int {
	mainRunning.Store(true)
	code := m.Run()
	if err := local.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: stop PostgreSQL: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(opts...); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: Errors on successful test run: %v\n", err)
			code = 1
		}
	}
	return code
}
