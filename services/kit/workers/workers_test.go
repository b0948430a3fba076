package workers_test

import (
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/workers"
)

// TestAJobNeverWaitsForAWorker: a job runs while another still runs (no limit), and a
// worker that finished a job takes the next one.
func TestAJobNeverWaitsForAWorker(t *testing.T) {
	done := make(chan int, 3)
	release := make(chan struct{})
	pool := workers.New(func(n int) {
		if n == 1 {
			<-release // the first job holds its worker until the second has run
		}
		done <- n
	})
	pool.Run(1)
	pool.Run(2)
	select {
	case n := <-done:
		if n != 2 {
			t.Fatalf("job %d ended first, want 2", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second job waited for the first one's worker")
	}
	close(release)
	pool.Run(3)
	got := map[int]bool{}
	for range 2 {
		select {
		case n := <-done:
			got[n] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("jobs 1 and 3 did not both run: %v", got)
		}
	}
}
