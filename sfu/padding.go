package sfu

import (
	"sync"
	"sync/atomic"
)

// Padding probes. A probe that raises layers to learn whether a line takes
// more loses twice when the line does not: the higher layer's pictures are
// lost, and the way back down waits for the lower layer's keyframe (a tile
// stood still for a second). So while a subscriber sends video, a probe
// keeps its layers and sends padding beside them instead: RTP packets of
// padding only, on its video tracks, numbered on in their streams. The
// subscriber's decoder skips them and its transport-wide feedback counts
// them, so the line's meter sees whether it carried them; a probe that
// fails only stops the padding. Padding follows a picture's last packet, so
// it is paced by the video and never splits a picture.

const (
	// padSize is the padding one packet carries: the most RTP's one-byte
	// padding length can say.
	padSize = 255
	// padPerPicture is the most padding packets sent after one picture.
	padPerPicture = 16
	// padBurst is the share of a second of its rate the padding budget
	// holds.
	padBurst = 0.1
)

// padBudget is what a subscriber connection may send as padding, in bytes:
// a bucket the allocator fills while it probes the line, empty otherwise.
type padBudget struct {
	on   atomic.Bool // a probe pads now: read per picture without the lock
	sent atomic.Uint64
	// total is the router's count of padding, nil in tests of one track.
	total *atomic.Uint64
	mu    sync.Mutex
	b     bucket
}

// set makes the budget rate bytes per second; 0 stops the padding at once.
// Called by the allocator.
func (b *padBudget) set(rate float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if rate <= 0 {
		b.on.Store(false)
		b.b = bucket{}
		return
	}
	b.b.rate = rate
	b.b.size = max(rate*padBurst, 2*(padSize+rtpOverhead))
	b.on.Store(true)
}

// packets is how many padding packets may go out at now, at most n; they
// are spent.
func (b *padBudget) packets(now int64, n int) int {
	if !b.on.Load() {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.refill(now)
	k := min(int(b.b.tokens/(padSize+rtpOverhead)), n)
	b.b.tokens -= float64(k * (padSize + rtpOverhead))
	return k
}

// Sent is how many bytes of padding the connection has sent.
func (b *padBudget) Sent() uint64 { return b.sent.Load() }

// pad sends, after a picture's last packet, the padding the connection has
// credit for, numbered on from it: the pictures that follow are numbered
// after the padding, so the subscriber sees no gap. Called with d.mu held.
func (d *downTrack) pad(now int64) {
	n := d.conn.padding.packets(now, padPerPicture)
	h := &d.padHeader
	for range n {
		seq := d.lastSeq + 1
		h.Version, h.Padding, h.PaddingSize, h.Marker = 2, true, padSize, false
		h.PayloadType, h.SSRC, h.SequenceNumber, h.Timestamp = d.payloadType, d.ssrc, seq, d.lastTS
		d.number(h, padSize, now)
		if _, err := d.writer.WriteRTP(h, nil); err != nil {
			return
		}
		d.seqOff-- // the next packet in comes after the padding
		d.lastSeq = seq
		d.sent[seq%sentRing] = sentPacket{} // nothing to resend
		d.conn.padding.sent.Add(padSize)
		if t := d.conn.padding.total; t != nil {
			t.Add(padSize)
		}
	}
}
