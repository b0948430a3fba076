package bench

import (
	"math/bits"
	"time"
)

// Latencies are kept in a log-linear histogram (HDR-like): values in microseconds,
// exact below 2*subBuckets µs, then subBuckets linear buckets per power of two, so the
// relative error of any bucket is below 1/subBuckets (1.6%). Each worker owns one; they
// are merged after the run, so recording takes no lock.
const (
	subBucketBits = 6
	subBuckets    = 1 << subBucketBits
	// maxShift bounds the range: values up to 2^(maxShift+subBucketBits+1) µs (about
	// 2.3 hours) have their own bucket; larger values land in the last one.
	maxShift   = 26
	numBuckets = (maxShift+1)*subBuckets + subBuckets
)

// histogram counts latencies; the zero value is ready to use.
type histogram struct {
	counts [numBuckets]uint32
	total  uint64
	sumUS  uint64
	max    time.Duration
}

// bucketOf returns the bucket index of a value in microseconds.
func bucketOf(us uint64) int {
	shift := bits.Len64(us) - (subBucketBits + 1)
	if shift <= 0 {
		return int(us) // exact: us < 2*subBuckets
	}
	if shift > maxShift {
		return numBuckets - 1
	}
	return shift*subBuckets + int(us>>uint(shift))
}

// bucketRange returns the smallest and largest microsecond value of bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < 2*subBuckets {
		return uint64(i), uint64(i)
	}
	shift := uint(i/subBuckets - 1)
	lo = uint64(i-int(shift)*subBuckets) << shift
	return lo, lo + (1 << shift) - 1
}

// record adds one latency.
func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	us := uint64(d / time.Microsecond)
	h.counts[bucketOf(us)]++
	h.total++
	h.sumUS += us
	if d > h.max {
		h.max = d
	}
}

// merge adds every count of o to h.
func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sumUS += o.sumUS
	if o.max > h.max {
		h.max = o.max
	}
}

// quantile returns the latency below which a fraction q (0..1] of the recorded values
// lie: the midpoint of the bucket that holds the ceil(q*total)-th value, never above
// the exact maximum (which q=1 returns). It returns 0 when nothing was recorded.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q * float64(h.total))
	if float64(rank) < q*float64(h.total) {
		rank++
	}
	rank = max(rank, 1)
	if rank >= h.total {
		return h.max // the largest value is known exactly
	}
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			lo, hi := bucketRange(i)
			d := time.Duration(lo+(hi-lo)/2) * time.Microsecond
			return min(d, h.max)
		}
	}
	return h.max
}

// mean returns the average latency at microsecond resolution.
func (h *histogram) mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sumUS/h.total) * time.Microsecond
}
