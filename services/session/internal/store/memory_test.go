package store

import (
	"errors"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestMemoryLifecycle(t *testing.T) {
	ctx := t.Context()
	clk := &clock{now: time.UnixMilli(1_000_000)}
	m := NewMemory(time.Minute, clk.Now)
	s := Session{ID: "a", ProtocolVersion: "2025-11-25", ClientInfo: []byte(`{}`), LastSeenUnixMs: clk.Now().UnixMilli()}
	if err := m.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := m.Create(ctx, s); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate create: %v", err)
	}
	if err := m.SetLogLevel(ctx, "a", "info"); err != nil {
		t.Fatal(err)
	}
	if err := m.MarkInitialized(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	got, err := m.Get(ctx, "a")
	if err != nil || got.LogLevel != "info" || !got.Initialized {
		t.Fatalf("get = %+v, %v", got, err)
	}

	clk.Add(50 * time.Second)
	if err := m.Touch(ctx, "a", clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.Add(50 * time.Second) // 50 s idle since the touch: still alive
	if _, err := m.Get(ctx, "a"); err != nil {
		t.Fatalf("touched session expired: %v", err)
	}
	clk.Add(11 * time.Second) // 61 s idle: expired, hidden before any sweep
	for name, op := range map[string]func() error{
		"get":   func() error { _, err := m.Get(ctx, "a"); return err },
		"touch": func() error { return m.Touch(ctx, "a", clk.Now()) },
		"level": func() error { return m.SetLogLevel(ctx, "a", "debug") },
		"init":  func() error { return m.MarkInitialized(ctx, "a") },
	} {
		if err := op(); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s on expired session: %v", name, err)
		}
	}
	if m.Len() != 1 {
		t.Fatalf("expired record should stay until swept, Len = %d", m.Len())
	}
	if n, err := m.SweepExpired(ctx, clk.Now()); n != 1 || err != nil {
		t.Fatalf("sweep removed %d, %v", n, err)
	}
	if m.Len() != 0 {
		t.Fatalf("Len after sweep = %d", m.Len())
	}

	if err := m.Create(ctx, Session{ID: "b", LastSeenUnixMs: clk.Now().UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

func TestSessionRecordIsSmall(t *testing.T) {
	// The struct itself; typical clientInfo and capabilities add a few hundred bytes.
	if size := unsafe.Sizeof(Session{}); size > 256 {
		t.Errorf("Session struct is %d bytes", size)
	}
}
