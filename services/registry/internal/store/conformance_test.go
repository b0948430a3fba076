package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
)

// t0 is the start of every case's clock; times are whole milliseconds, which every
// implementation keeps exactly.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// leased is a registered provider whose 10 s lease, granted at t0, expires at t0+10s.
func leased(name, leaseID string) Record {
	return Record{
		Name: name, Address: name + ".internal:9000", LeaseID: leaseID,
		Lease: 10 * time.Second, LeaseExpiresAt: t0.Add(10 * time.Second), RegisteredAt: t0,
		Version: "1.2.3", Instructions: "use " + name,
		Catalogue: &mcpv1.Catalogue{
			Tools: []*mcpv1.Tool{{
				Name: "echo", Description: "echoes",
				InputSchema: []byte(`{"type":"object", "properties":{"z":{},"a":{}}}`),
				Meta:        []byte(`{"k":"v"}`),
			}},
			Resources: []*mcpv1.Resource{{Uri: "mem://" + name, Name: "r"}},
			Prompts:   []*mcpv1.Prompt{{Name: "greet"}},
		},
	}
}

// static is a configured provider: no lease, no expiry.
func static(name string) Record {
	return Record{Name: name, Address: name + ".internal:9000", RegisteredAt: t0.Add(time.Millisecond)}
}

// sameRecord reports how got differs from want, or "".
func sameRecord(got, want Record) string {
	switch {
	case got.Name != want.Name || got.Address != want.Address || got.LeaseID != want.LeaseID || got.Lease != want.Lease:
		return fmt.Sprintf("identity or lease differ: got %+v, want %+v", got, want)
	case !got.LeaseExpiresAt.Equal(want.LeaseExpiresAt) || got.LeaseExpiresAt.IsZero() != want.LeaseExpiresAt.IsZero():
		return fmt.Sprintf("lease expires at %v, want %v", got.LeaseExpiresAt, want.LeaseExpiresAt)
	case !got.RegisteredAt.Equal(want.RegisteredAt):
		return fmt.Sprintf("registered at %v, want %v", got.RegisteredAt, want.RegisteredAt)
	case got.Version != want.Version || got.Instructions != want.Instructions:
		return fmt.Sprintf("version/instructions %q/%q, want %q/%q", got.Version, got.Instructions, want.Version, want.Instructions)
	case (got.Catalogue == nil) != (want.Catalogue == nil) || !proto.Equal(got.Catalogue, want.Catalogue):
		return fmt.Sprintf("catalogue %v, want %v", got.Catalogue, want.Catalogue)
	case got.Announced != want.Announced:
		return fmt.Sprintf("announced %+v, want %+v", got.Announced, want.Announced)
	}
	return ""
}

func put(t *testing.T, st Store, recs ...Record) {
	t.Helper()
	for _, r := range recs {
		if err := st.Put(t.Context(), r); err != nil {
			t.Fatalf("put %s: %v", r.Name, err)
		}
	}
}

func wantRecord(t *testing.T, st Store, want Record) {
	t.Helper()
	got, err := st.Get(t.Context(), want.Name)
	if err != nil {
		t.Fatalf("get %s: %v", want.Name, err)
	}
	if diff := sameRecord(got, want); diff != "" {
		t.Fatalf("get %s: %s", want.Name, diff)
	}
}

func wantGone(t *testing.T, st Store, name string) {
	t.Helper()
	if _, err := st.Get(t.Context(), name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get %s: %v, want ErrNotFound", name, err)
	}
}

func names(t *testing.T, st Store) []string {
	t.Helper()
	recs, err := st.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Name)
	}
	slices.Sort(out)
	return out
}

// conformanceCases hold every Store implementation to the same behaviour; each gets
// an empty store.
var conformanceCases = []struct {
	name string
	run  func(t *testing.T, st Store)
}{
	{"put then get keeps every field", func(t *testing.T, st Store) {
		put(t, st, leased("a", "L1"), static("s"))
		wantRecord(t, st, leased("a", "L1"))
		wantRecord(t, st, static("s"))
	}},
	{"an empty catalogue stays distinct from none", func(t *testing.T, st Store) {
		rec := static("s")
		rec.Catalogue = &mcpv1.Catalogue{}
		put(t, st, rec)
		got, err := st.Get(t.Context(), "s")
		if err != nil || got.Catalogue == nil || len(got.Catalogue.GetTools()) != 0 {
			t.Fatalf("get = %+v, %v; want an empty catalogue", got, err)
		}
	}},
	{"put replaces the record of the same name", func(t *testing.T, st Store) {
		put(t, st, leased("a", "L1"))
		next := leased("a", "L2")
		next.Address, next.Catalogue, next.Version = "elsewhere:1", &mcpv1.Catalogue{Prompts: []*mcpv1.Prompt{{Name: "p"}}}, "2"
		put(t, st, next)
		wantRecord(t, st, next)
		if got := names(t, st); !slices.Equal(got, []string{"a"}) {
			t.Fatalf("list = %v", got)
		}
	}},
	{"unknown name", func(t *testing.T, st Store) {
		put(t, st, leased("a", "L1"))
		wantGone(t, st, "b")
		if _, err := st.Renew(t.Context(), "b", "L1", t0); !errors.Is(err, ErrNotFound) {
			t.Errorf("renew: %v, want ErrNotFound", err)
		}
		if err := st.Delete(t.Context(), "b", "L1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete: %v, want ErrNotFound", err)
		}
	}},
	{"get and list include expired leases until they are swept", func(t *testing.T, st Store) {
		put(t, st, leased("a", "L1"), static("s"))
		// The store does not hide expired records; the service judges them.
		wantRecord(t, st, leased("a", "L1"))
		if got := names(t, st); !slices.Equal(got, []string{"a", "s"}) {
			t.Fatalf("list = %v", got)
		}
	}},
	{"renew", func(t *testing.T, st Store) {
		put(t, st, leased("a", "L1"), static("s"))
		steps := []struct {
			name, provider, leaseID string
			at                      time.Time
			wantErr                 bool
		}{
			{"wrong lease", "a", "L2", t0, true},
			{"empty lease id", "a", "", t0, true},
			{"live lease", "a", "L1", t0.Add(5 * time.Second), false},
			{"live thanks to the renewal", "a", "L1", t0.Add(14 * time.Second), false},
			{"a static record has no lease", "s", "", t0, true},
			{"expired at the instant it ends", "a", "L1", t0.Add(24 * time.Second), true},
		}
		for _, s := range steps {
			rec, err := st.Renew(t.Context(), s.provider, s.leaseID, s.at)
			if (err != nil) != s.wantErr || (err != nil && !errors.Is(err, ErrNotFound)) {
				t.Fatalf("%s: renew err = %v, want error %v (ErrNotFound)", s.name, err, s.wantErr)
			}
			if err != nil {
				continue
			}
			want := leased("a", "L1")
			want.LeaseExpiresAt = s.at.Add(10 * time.Second)
			if diff := sameRecord(rec, want); diff != "" {
				t.Fatalf("%s: renewed record: %s", s.name, diff)
			}
			wantRecord(t, st, want)
		}
	}},
	{"delete needs the lease", func(t *testing.T, st Store) {
		put(t, st, leased("a", "L1"), leased("b", "L9"))
		if err := st.Delete(t.Context(), "a", "other"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete with the wrong lease: %v", err)
		}
		if err := st.Delete(t.Context(), "a", "L9"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete with another provider's lease: %v", err)
		}
		if err := st.Delete(t.Context(), "a", "L1"); err != nil {
			t.Fatal(err)
		}
		wantGone(t, st, "a")
		if err := st.Delete(t.Context(), "a", "L1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		wantRecord(t, st, leased("b", "L9"))
	}},
	{"an old lease cannot touch a re-registration", func(t *testing.T, st Store) {
		// Another replica registered the provider again; the old lease's heartbeat and
		// deregistration must not affect the new record.
		put(t, st, leased("a", "L1"))
		again := leased("a", "L2")
		again.LeaseExpiresAt = t0.Add(time.Hour)
		put(t, st, again)
		if _, err := st.Renew(t.Context(), "a", "L1", t0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("renew with the replaced lease: %v", err)
		}
		if err := st.Delete(t.Context(), "a", "L1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete with the replaced lease: %v", err)
		}
		wantRecord(t, st, again)
	}},
	{"redescribe keeps the lease and replaces the description", func(t *testing.T, st Store) {
		put(t, st, leased("a", "L1"))
		fresh := leased("a", "L1")
		fresh.Lease, fresh.LeaseExpiresAt, fresh.RegisteredAt = time.Minute, t0.Add(time.Hour), t0.Add(time.Hour) // ignored
		fresh.Version, fresh.Instructions = "2.0.0", "new"
		fresh.Catalogue = &mcpv1.Catalogue{Tools: []*mcpv1.Tool{{Name: "other", InputSchema: []byte(`{}`)}}}
		want := leased("a", "L1")
		want.Version, want.Instructions, want.Catalogue = fresh.Version, fresh.Instructions, fresh.Catalogue
		got, err := st.Redescribe(t.Context(), fresh, Announced{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := sameRecord(got, want); diff != "" {
			t.Fatalf("redescribed record: %s", diff)
		}
		wantRecord(t, st, want)
	}},
	{"redescribe loses to a registration in between", func(t *testing.T, st Store) {
		put(t, st, leased("a", "L2"), static("s"))
		stale := leased("a", "L1")
		stale.Version = "stale"
		moved := leased("a", "L2")
		moved.Address = "elsewhere:1"
		for _, rec := range []Record{stale, moved, leased("gone", "L1")} {
			if _, err := st.Redescribe(t.Context(), rec, Announced{Tools: 1}); !errors.Is(err, ErrNotFound) {
				t.Errorf("redescribe %s lease %s at %s: %v, want ErrNotFound", rec.Name, rec.LeaseID, rec.Address, err)
			}
		}
		wantRecord(t, st, leased("a", "L2"))
		s := static("s")
		s.Version = "3"
		if _, err := st.Redescribe(t.Context(), s, Announced{}); err != nil {
			t.Fatalf("redescribe a static record: %v", err)
		}
		wantRecord(t, st, s)
	}},
	{"redescribe adds announcements, which a new registration keeps", func(t *testing.T, st Store) {
		a := leased("a", "L1")
		a.Announced = Announced{Tools: 7} // ignored by Put
		put(t, st, a)
		want := leased("a", "L1")
		wantRecord(t, st, want)
		for _, add := range []Announced{{Tools: 1}, {Tools: 1, Prompts: 1}, {Resources: 1}, {}} {
			got, err := st.Redescribe(t.Context(), leased("a", "L1"), add)
			if err != nil {
				t.Fatal(err)
			}
			want.Announced = want.Announced.add(add)
			if diff := sameRecord(got, want); diff != "" {
				t.Fatalf("after announcing %+v: %s", add, diff)
			}
		}
		if want.Announced != (Announced{Tools: 2, Resources: 1, Prompts: 1}) {
			t.Fatalf("counted %+v", want.Announced)
		}
		// Registering again (another lease, another address) keeps the counts.
		again := leased("a", "L2")
		again.Address = "elsewhere:1"
		put(t, st, again)
		again.Announced = want.Announced
		wantRecord(t, st, again)
		// A record deleted and put again starts afresh.
		if err := st.Delete(t.Context(), "a", "L2"); err != nil {
			t.Fatal(err)
		}
		put(t, st, leased("a", "L3"))
		wantRecord(t, st, leased("a", "L3"))
	}},
	{"delete expired removes exactly the expired leases", func(t *testing.T, st Store) {
		var want []string
		for i := range 7 { // more than two sweep batches under test, not a multiple
			r := leased(fmt.Sprint("old", i), "L")
			r.LeaseExpiresAt = t0.Add(time.Duration(i) * time.Second)
			put(t, st, r)
			want = append(want, r.Name)
		}
		boundary := leased("boundary", "L") // expires exactly at the sweep time
		boundary.LeaseExpiresAt = t0.Add(10 * time.Second)
		want = append(want, "boundary")
		live := leased("live", "L")
		live.LeaseExpiresAt = t0.Add(10*time.Second + time.Millisecond)
		put(t, st, boundary, live, static("s"))

		removed, err := st.DeleteExpired(t.Context(), t0.Add(10*time.Second))
		slices.Sort(removed)
		slices.Sort(want)
		if err != nil || !slices.Equal(removed, want) {
			t.Fatalf("delete expired = %v, %v; want %v", removed, err, want)
		}
		if got := names(t, st); !slices.Equal(got, []string{"live", "s"}) {
			t.Fatalf("left = %v", got)
		}
		if removed, err := st.DeleteExpired(t.Context(), t0.Add(10*time.Second)); err != nil || len(removed) != 0 {
			t.Fatalf("second sweep = %v, %v", removed, err)
		}
	}},
	{"delete expired of a batch-size multiple", func(t *testing.T, st Store) {
		for i := range 2 * testSweepBatch {
			put(t, st, leased(fmt.Sprint("old", i), "L"))
		}
		removed, err := st.DeleteExpired(t.Context(), t0.Add(time.Hour))
		if err != nil || len(removed) != 2*testSweepBatch {
			t.Fatalf("delete expired = %v, %v; want %d names", removed, err, 2*testSweepBatch)
		}
	}},
	{"static records never expire", func(t *testing.T, st Store) {
		put(t, st, static("s"))
		if removed, err := st.DeleteExpired(t.Context(), t0.AddDate(100, 0, 0)); err != nil || len(removed) != 0 {
			t.Fatalf("delete expired = %v, %v", removed, err)
		}
		wantRecord(t, st, static("s"))
	}},
}

// testSweepBatch is the PostgreSQL store's sweep batch in these tests: small, so
// that a sweep takes several statements.
const testSweepBatch = 3

// implementation prepares an implementation for a run of the cases (t is the
// implementation's subtest) and returns how to open an empty store.
type implementation struct {
	name  string
	setup func(t *testing.T) func(t *testing.T) Store
}

func runConformance(t *testing.T, impls []implementation) {
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			open := impl.setup(t)
			for _, tc := range conformanceCases {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
			}
		})
	}
}

var memoryImplementation = implementation{"memory", func(*testing.T) func(*testing.T) Store {
	return func(*testing.T) Store { return NewMemory() }
}}
