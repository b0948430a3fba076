package bench

import (
	"math"
	"testing"
	"time"
)

func TestBucketRangeHoldsValueWithinRelativeError(t *testing.T) {
	values := []uint64{0, 1, 63, 64, 127, 128, 129, 255, 256, 1000, 4095, 4096, 65_537, 1_000_000, 123_456_789, 1 << 32}
	for v := uint64(1); v < 1<<33; v = v*3/2 + 1 {
		values = append(values, v)
	}
	for _, v := range values {
		i := bucketOf(v)
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if i < 2*subBuckets && lo != hi {
			t.Fatalf("bucket %d = [%d, %d] should hold one exact value", i, lo, hi)
		}
		if i >= 2*subBuckets && float64(hi-lo+1)/float64(lo) > 1.0/subBuckets+1e-12 {
			t.Fatalf("bucket %d = [%d, %d] is wider than 1/%d of its low end", i, lo, hi, subBuckets)
		}
		if i > 0 {
			_, prevHi := bucketRange(i - 1)
			if prevHi+1 != lo {
				t.Fatalf("bucket %d starts at %d, bucket %d ends at %d: not contiguous", i, lo, i-1, prevHi)
			}
		}
	}
}

func TestBucketOfClampsHugeValues(t *testing.T) {
	if got := bucketOf(math.MaxUint64); got != numBuckets-1 {
		t.Fatalf("bucketOf(max) = %d, want the last bucket %d", got, numBuckets-1)
	}
	var h histogram
	h.record(time.Duration(math.MaxInt64))
	h.record(-time.Second) // clock oddities count as zero
	if h.total != 2 || h.quantile(1) != time.Duration(math.MaxInt64) || h.quantile(0.5) != 0 {
		t.Fatalf("total %d, p100 %s, p50 %s", h.total, h.quantile(1), h.quantile(0.5))
	}
}

func TestQuantiles(t *testing.T) {
	// spread records n values first, first+step, ...
	spread := func(first, step time.Duration, n int) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = first + time.Duration(i)*step
		}
		return out
	}
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"single exact", []time.Duration{42 * time.Microsecond}, 0.99, 42 * time.Microsecond},
		{"p50 of 1..100µs", spread(time.Microsecond, time.Microsecond, 100), 0.50, 50 * time.Microsecond},
		{"p95 of 1..100µs", spread(time.Microsecond, time.Microsecond, 100), 0.95, 95 * time.Microsecond},
		{"p99 of 1..100µs", spread(time.Microsecond, time.Microsecond, 100), 0.99, 99 * time.Microsecond},
		{"p100 of 1..100µs", spread(time.Microsecond, time.Microsecond, 100), 1, 100 * time.Microsecond},
		{"p50 of 1..1000ms", spread(time.Millisecond, time.Millisecond, 1000), 0.50, 500 * time.Millisecond},
		{"p99 of 1..1000ms", spread(time.Millisecond, time.Millisecond, 1000), 0.99, 990 * time.Millisecond},
		{"p0 is the smallest", spread(3*time.Millisecond, time.Millisecond, 10), 0, 3 * time.Millisecond},
		{"sub-microsecond rounds down", []time.Duration{300 * time.Nanosecond, 800 * time.Nanosecond, 2 * time.Microsecond}, 0.5, 0},
		{"max is exact", spread(time.Second, 0, 5), 1, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			for _, v := range tt.values {
				h.record(v)
			}
			got := h.quantile(tt.q)
			tolerance := time.Duration(float64(tt.want) / subBuckets)
			if got < tt.want-tolerance || got > tt.want+tolerance {
				t.Fatalf("quantile(%v) = %s, want %s ± %s", tt.q, got, tt.want, tolerance)
			}
		})
	}
}

func TestMergeAddsCountsAndKeepsMax(t *testing.T) {
	var a, b, all histogram
	for i := range 1000 {
		d := time.Duration(i*37%5000) * time.Microsecond
		all.record(d)
		if i%3 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	a.merge(&b)
	if a.total != all.total || a.max != all.max || a.sumUS != all.sumUS || a.counts != all.counts {
		t.Fatalf("merged total %d max %s, want %d %s", a.total, a.max, all.total, all.max)
	}
	if a.mean() != all.mean() || a.quantile(0.9) != all.quantile(0.9) {
		t.Fatalf("merged mean %s p90 %s, want %s %s", a.mean(), a.quantile(0.9), all.mean(), all.quantile(0.9))
	}
}
