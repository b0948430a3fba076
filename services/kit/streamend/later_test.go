package streamend_test

import (
	"context"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/streamend"
)

// TestLaterOutlivesItsParentOnceDetached: until ReadLater the call ends with its
// parent; after it, the call lives until the end has been read, whatever the parent
// does; a parent that ended first leaves nothing to read.
func TestLaterOutlivesItsParentOnceDetached(t *testing.T) {
	t.Run("follows the parent until detached", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		call := streamend.NewLater(parent)
		defer call.End()
		cancel()
		select {
		case <-call.Context().Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the call did not end with its parent")
		}
	})
	t.Run("End without ReadLater ends the call", func(t *testing.T) {
		call := streamend.NewLater(context.Background())
		call.End()
		if call.Context().Err() == nil {
			t.Fatal("the call is still running after End")
		}
	})
	t.Run("detached, it ends after the read", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		call := streamend.NewLater(parent)
		release, read := make(chan struct{}), make(chan error, 1)
		call.ReadLater(func(ctx context.Context) {
			<-release
			read <- ctx.Err()
		})
		call.End() // the caller returns: no effect once detached
		cancel()   // and its context ends
		release <- struct{}{}
		if err := <-read; err != nil {
			t.Fatalf("the read saw its call ended (%v) before it finished", err)
		}
		select {
		case <-call.Context().Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the call did not end after its end was read")
		}
	})
	t.Run("a parent that ended first leaves nothing to read", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		call := streamend.NewLater(parent)
		cancel()
		<-call.Context().Done()
		called := make(chan struct{}, 1)
		call.ReadLater(func(context.Context) { called <- struct{}{} })
		call.End()
		select {
		case <-called:
			t.Fatal("read ran for a call its parent had cancelled")
		case <-time.After(50 * time.Millisecond):
		}
	})
}

// TestLaterKeepsTheDeadline: the call ends at its parent's deadline with
// DeadlineExceeded (a timeout stays a timeout), detached or not.
func TestLaterKeepsTheDeadline(t *testing.T) {
	parent, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	call := streamend.NewLater(parent)
	defer call.End()
	if d, ok := call.Context().Deadline(); !ok || !d.Equal(func() time.Time { d, _ := parent.Deadline(); return d }()) {
		t.Fatalf("deadline %v %v, want the parent's", d, ok)
	}
	<-call.Context().Done()
	if err := call.Context().Err(); err != context.DeadlineExceeded {
		t.Fatalf("the call ended with %v, want DeadlineExceeded", err)
	}
}
