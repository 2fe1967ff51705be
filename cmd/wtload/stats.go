package main

import (
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// histogram counts durations in 50 µs buckets up to 2 s (the last bucket
// holds everything longer); recording is two atomic adds.
type histogram struct {
	buckets [40001]atomic.Uint64
	n       atomic.Uint64
}

const bucket = 50 * time.Microsecond

func (h *histogram) add(d time.Duration) {
	i := int(d / bucket)
	if i < 0 {
		i = 0
	}
	if i >= len(h.buckets) {
		i = len(h.buckets) - 1
	}
	h.buckets[i].Add(1)
	h.n.Add(1)
}

// snapshot is the bucket counts now, to take quantiles of what came after.
func (h *histogram) snapshot() []uint64 {
	out := make([]uint64, len(h.buckets))
	for i := range h.buckets {
		out[i] = h.buckets[i].Load()
	}
	return out
}

// quantileSince is quantile q, in ms, of what was added after snapshot
// mark.
func (h *histogram) quantileSince(mark []uint64, q float64) float64 {
	var total uint64
	now := h.snapshot()
	for i := range now {
		now[i] -= mark[i]
		total += now[i]
	}
	if total == 0 {
		return math.NaN()
	}
	want := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i := range now {
		seen += now[i]
		if seen >= want {
			return float64(time.Duration(i+1)*bucket) / float64(time.Millisecond)
		}
	}
	return math.NaN()
}

// quantile returns the upper edge of the bucket holding quantile q, in ms.
func (h *histogram) quantile(q float64) float64 {
	total := h.n.Load()
	if total == 0 {
		return math.NaN()
	}
	want := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= want {
			return float64(time.Duration(i+1)*bucket) / float64(time.Millisecond)
		}
	}
	return math.NaN()
}

// quantiles of a small set of values (join times), in ms.
func quantiles(values []time.Duration, qs ...float64) []float64 {
	out := make([]float64, len(qs))
	if len(values) == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	sorted := append([]time.Duration(nil), values...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	for i, q := range qs {
		k := int(math.Ceil(q*float64(len(sorted)))) - 1
		k = max(0, min(k, len(sorted)-1))
		out[i] = float64(sorted[k]) / float64(time.Millisecond)
	}
	return out
}

// stream follows one publisher's video at one subscriber: the sequence
// numbers seen, for loss.
type stream struct {
	frames atomic.Uint64 // pictures received (RTP marker bits)
	// The extended RTP sequence number, written by the track's one reader.
	lastRTP   uint16
	cycles    uint32
	extended  bool
	mu        sync.Mutex
	minSeq    uint32
	maxSeq    uint32
	received  uint64
	haveStamp bool
}

// extend turns a 16-bit RTP sequence number into a running count.
func (s *stream) extend(seq uint16) uint32 {
	if s.extended && seq < 0x4000 && s.lastRTP > 0xc000 {
		s.cycles++
	}
	if !s.extended || seq-s.lastRTP < 0x8000 {
		s.lastRTP = seq
	}
	s.extended = true
	return s.cycles<<16 | uint32(seq)
}

// add records a packet; it reports true for the stream's first.
func (s *stream) add(seq uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received++
	if !s.haveStamp {
		s.minSeq, s.maxSeq, s.haveStamp = seq, seq, true
		return true
	}
	s.minSeq = min(s.minSeq, seq)
	s.maxSeq = max(s.maxSeq, seq)
	return false
}

// lost is how many stamped packets between the first and the last seen never
// came.
func (s *stream) lost() (lost, expected uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.haveStamp {
		return 0, 0
	}
	expected = uint64(s.maxSeq-s.minSeq) + 1
	if s.received >= expected {
		return 0, expected
	}
	return expected - s.received, expected
}

// mark is where a stream stood at the start of the measuring window.
type mark struct {
	frames   uint64
	maxSeq   uint32
	received uint64
	ok       bool
}

func (s *stream) mark() mark {
	s.mu.Lock()
	defer s.mu.Unlock()
	return mark{frames: s.frames.Load(), maxSeq: s.maxSeq, received: s.received, ok: s.haveStamp}
}

// lostSince is how many packets sent after m never came (packets sent
// before m that arrive late count as received: a slight undercount).
func (s *stream) lostSince(m mark) (lost, expected uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !m.ok || !s.haveStamp {
		return 0, 0
	}
	expected = uint64(s.maxSeq - m.maxSeq)
	got := s.received - m.received
	if got >= expected {
		return 0, expected
	}
	return expected - got, expected
}
