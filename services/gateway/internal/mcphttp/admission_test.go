package mcphttp

import (
	"context"
	"testing"
	"time"
)

func TestAdmissionLimitsActiveExchanges(t *testing.T) {
	a := newAdmission(2, time.Hour)
	first, second := a.enter(context.Background()), a.enter(context.Background())
	if first == nil || second == nil {
		t.Fatal("a free slot was refused")
	}
	third := make(chan *slot, 1)
	go func() { third <- a.enter(context.Background()) }()
	select {
	case <-third:
		t.Fatal("a third exchange entered while two held both slots")
	default:
	}
	first.release()
	first.release() // a second release gives back nothing
	s := <-third
	if s == nil {
		t.Fatal("the waiting exchange was refused")
	}
	if len(a.slots) != 2 {
		t.Fatalf("%d slots taken, want 2", len(a.slots))
	}
	second.release()
	s.release()
	if len(a.slots) != 0 {
		t.Fatalf("%d slots still taken after every release", len(a.slots))
	}
}

func TestAdmissionSlowExchangeGivesUpItsSlot(t *testing.T) {
	a := newAdmission(1, time.Millisecond)
	slow := a.enter(context.Background())
	// The slow exchange never releases; its hold time ends and the next one enters.
	next := a.enter(context.Background())
	if next == nil {
		t.Fatal("the next exchange was refused")
	}
	next.release()
	slow.release() // late: must not give back the slot a second time
	if len(a.slots) != 0 {
		t.Fatalf("%d slots taken, want 0", len(a.slots))
	}
}

func TestAdmissionClientLeavesWhileWaiting(t *testing.T) {
	a := newAdmission(1, time.Hour)
	held := a.enter(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s := a.enter(ctx); s != nil {
		t.Fatal("an exchange whose client left was admitted")
	}
	held.release()
}

func TestAdmissionDefaults(t *testing.T) {
	a := newAdmission(0, 0)
	if cap(a.slots) < defaultActivePerCPU || a.hold != defaultActiveHold {
		t.Errorf("defaults: %d slots, hold %v", cap(a.slots), a.hold)
	}
}
