package backoff

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNextGrowsToMaxWithJitter(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		cfg  Config
		// want are the un-jittered waits of the first failures; each wait must lie in
		// [want·(1-jitter), want].
		want   []time.Duration
		jitter float64
	}{
		{"doubling, capped", Config{Min: 100 * ms, Max: 1000 * ms, Jitter: -1},
			[]time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1000 * ms, 1000 * ms}, 0},
		{"factor three", Config{Min: 10 * ms, Max: 100 * ms, Factor: 3, Jitter: -1},
			[]time.Duration{10 * ms, 30 * ms, 90 * ms, 100 * ms}, 0},
		{"defaults", Config{},
			[]time.Duration{DefaultMin, 2 * DefaultMin, 4 * DefaultMin}, DefaultJitter},
		{"max below min is min", Config{Min: 50 * ms, Max: 10 * ms, Jitter: 0.2},
			[]time.Duration{50 * ms, 50 * ms}, 0.2},
		{"full jitter", Config{Min: 100 * ms, Max: 400 * ms, Jitter: 1},
			[]time.Duration{100 * ms, 200 * ms, 400 * ms, 400 * ms}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 50 { // jitter is random: check its bounds many times
				b := New(tt.cfg)
				for i, want := range tt.want {
					got := b.Next()
					lo := want - time.Duration(float64(want)*tt.jitter)
					if got < lo || got > want {
						t.Fatalf("wait %d = %s, want within [%s, %s]", i+1, got, lo, want)
					}
					if b.Attempts() != i+1 {
						t.Fatalf("Attempts() = %d after %d failures", b.Attempts(), i+1)
					}
				}
			}
		})
	}
}

func TestResetStartsOver(t *testing.T) {
	b := New(Config{Min: time.Millisecond, Max: time.Second, Jitter: -1})
	for range 5 {
		b.Next()
	}
	b.Reset()
	if b.Attempts() != 0 {
		t.Fatalf("Attempts() = %d after Reset", b.Attempts())
	}
	if got := b.Next(); got != time.Millisecond {
		t.Fatalf("first wait after Reset = %s, want 1ms", got)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	tests := []struct {
		name   string
		cancel bool
		min    time.Duration
		want   bool
	}{
		{"short wait passes", false, time.Millisecond, true},
		{"ended context returns at once", true, time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			b := New(Config{Min: tt.min, Max: tt.min, Jitter: -1})
			if got := b.Wait(ctx); got != tt.want {
				t.Fatalf("Wait = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSleepZeroChecksContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	if !Sleep(ctx, 0) {
		t.Fatal("Sleep(live ctx, 0) = false")
	}
	cancel()
	if Sleep(ctx, 0) {
		t.Fatal("Sleep(ended ctx, 0) = true")
	}
}
