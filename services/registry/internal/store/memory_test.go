package store

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestMemoryLeases(t *testing.T) {
	ctx := t.Context()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewMemory()
	leased := Record{Name: "a", LeaseID: "L1", Lease: 10 * time.Second, LeaseExpiresAt: t0.Add(10 * time.Second)}
	static := Record{Name: "s"}
	for _, r := range []Record{leased, static} {
		if err := m.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name    string
		leaseID string
		at      time.Time
		wantErr bool
	}{
		{"wrong lease", "L2", t0, true},
		{"live lease", "L1", t0.Add(5 * time.Second), false},
		{"still live thanks to the renewal", "L1", t0.Add(14 * time.Second), false},
		{"expired", "L1", t0.Add(40 * time.Second), true},
	}
	for _, tt := range tests {
		rec, err := m.Renew(ctx, "a", tt.leaseID, tt.at)
		if gotErr := err != nil; gotErr != tt.wantErr {
			t.Fatalf("%s: Renew err = %v", tt.name, err)
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: error %v is not ErrNotFound", tt.name, err)
		}
		if err == nil && !rec.LeaseExpiresAt.Equal(tt.at.Add(10*time.Second)) {
			t.Fatalf("%s: renewed to %v", tt.name, rec.LeaseExpiresAt)
		}
	}
	if _, err := m.Renew(ctx, "s", "", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("static record renewed: %v", err)
	}

	removed, err := m.DeleteExpired(ctx, t0.Add(time.Hour))
	if err != nil || !slices.Equal(removed, []string{"a"}) {
		t.Fatalf("DeleteExpired = %v, %v; static records never expire", removed, err)
	}
	if _, err := m.Get(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after expiry: %v", err)
	}
	list, _ := m.List(ctx)
	if len(list) != 1 || list[0].Name != "s" {
		t.Fatalf("List = %v", list)
	}
}

func TestMemoryDeleteNeedsTheLease(t *testing.T) {
	ctx := t.Context()
	m := NewMemory()
	_ = m.Put(ctx, Record{Name: "a", LeaseID: "L1"})
	if err := m.Delete(ctx, "a", "other"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete with the wrong lease: %v", err)
	}
	if err := m.Delete(ctx, "a", "L1"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "a", "L1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
}
