package sfu

import (
	"sync"
	"time"
)

// What one publisher may send: a token bucket over everything its tracks
// carry, in bytes, refilled at the router's cap and holding a second of
// it (a keyframe is a burst). A video picture starts only while the bucket
// has credit, and is then forwarded whole; an audio packet passes only
// with credit. What is above the cap is dropped before the fan-out, so a
// publisher who sends far more than any browser would (a broken or hostile
// client) costs the server and its subscribers no more than the cap. The
// browser client is told the cap in welcome and keeps its encodings under
// it.

// DefaultPublishBitrate is the cap on what one publisher sends, in bits
// per second, unless the router is told otherwise: about three times what
// the browser client's three layers need together.
const DefaultPublishBitrate = 6_000_000

// bucket is a token bucket in bytes: refilled at rate a second, holding
// at most size. Its owner's lock guards it.
type bucket struct {
	rate, size, tokens float64
	last               int64 // unix nanoseconds of the last refill
}

// refill adds what accrued up to now.
func (b *bucket) refill(now int64) {
	if b.last != 0 {
		b.tokens = min(b.size, b.tokens+b.rate*float64(now-b.last)/float64(time.Second))
	}
	b.last = now
}

// ingress is one publisher's bucket, holding a second of its cap.
type ingress struct {
	mu sync.Mutex
	b  bucket // rate 0: no cap
}

func newIngress(bitrate int) *ingress {
	r := float64(bitrate) / 8
	return &ingress{b: bucket{rate: r, size: r, tokens: r}}
}

// take spends n bytes received at now, and tells whether they may be
// forwarded: always when start is false (the rest of a picture that
// started), else only with credit left.
func (g *ingress) take(n int, start bool, now int64) bool {
	if g == nil || g.b.rate == 0 {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.b.refill(now)
	if start && g.b.tokens <= 0 {
		return false
	}
	g.b.tokens -= float64(n)
	return true
}

// resendShare is the part of a subscriber's estimate its resends may take:
// within the allocator's headroom, beside RTCP.
const resendShare = 0.10

// resendBudget is a subscriber connection's bucket for resends, in bytes,
// holding a fifth of a second of its rate. Until the allocator sets a rate
// (the connection's estimate is known) it limits nothing; the forwarder's
// own limit holds either way.
type resendBudget struct {
	mu      sync.Mutex
	limited bool
	b       bucket
}

// set makes the budget rate bytes per second (0: nothing is resent).
// Called by the allocator.
func (b *resendBudget) set(rate float64) {
	b.mu.Lock()
	b.limited, b.b.rate, b.b.size = true, rate, rate/5
	b.mu.Unlock()
}

// take spends n bytes at now if the budget has them.
func (b *resendBudget) take(n int, now int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.limited {
		return true
	}
	b.b.refill(now)
	if b.b.tokens < float64(n) {
		return false
	}
	b.b.tokens -= float64(n)
	return true
}
