package sfu

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtcp"
)

// What a subscriber's line carried lately, read from its own transport-wide
// feedback. The estimator averages loss over seconds, so that a line which
// has just fallen looks only slightly lossy for its first half second, and
// still lossy long after its queue has drained; its delay-based target,
// less that loss, then undershoots the line by far (every video paused for
// a line that carries a third of them). The allocator needs both sooner:
// the share lost among the packets the last feedback reported, and what
// arrived meanwhile, by the subscriber's own clock: on a full line, the
// line's rate.

// sizeRing is how many of the last packets sent on a connection are
// remembered by transport-wide sequence number, for their size: a few
// seconds' worth at video rates, well more than feedback takes to come.
const sizeRing = 4096

// sentSizes remembers what each recent packet on a connection carried,
// written by its downTracks, read by the feedback's reader. Each slot holds
// the sequence number in its high half, the size in its low half.
type sentSizes [sizeRing]atomic.Uint32

func (s *sentSizes) put(seq uint16, size int) {
	s[int(seq)%sizeRing].Store(uint32(seq)<<16 | uint32(min(size, 0xffff)))
}

func (s *sentSizes) get(seq uint16) (int, bool) {
	v := s[int(seq)%sizeRing].Load()
	return int(v & 0xffff), uint16(v>>16) == seq
}

// countedBWE is an estimator that also tallies what its connection's
// transport-wide feedback reports: packets received and lost, and the bytes
// received with their arrival times.
type countedBWE struct {
	cc.BandwidthEstimator
	sizes atomic.Pointer[sentSizes] // set once the peer exists

	mu  sync.Mutex
	win feedbackWindow
}

// feedbackWindow is what feedback reported since the allocator last took
// it.
type feedbackWindow struct {
	reported, lost int
	bytes          int   // received, of the packets whose size is known
	first, last    int64 // arrival times, microseconds by the subscriber's clock
	timed          bool
}

func (c *countedBWE) WriteRTCP(pkts []rtcp.Packet, attrs interceptor.Attributes) error {
	if sizes := c.sizes.Load(); sizes != nil {
		for _, p := range pkts {
			if fb, ok := p.(*rtcp.TransportLayerCC); ok {
				c.tally(fb, sizes)
			}
		}
	}
	return c.BandwidthEstimator.WriteRTCP(pkts, attrs)
}

// tally adds one feedback packet to the window.
func (c *countedBWE) tally(fb *rtcp.TransportLayerCC, sizes *sentSizes) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &c.win
	seq, left, delta := fb.BaseSequenceNumber, int(fb.PacketStatusCount), 0
	at := int64(fb.ReferenceTime) * 64000
	status := func(symbol uint16) {
		if left <= 0 {
			return
		}
		left--
		w.reported++
		switch symbol {
		case rtcp.TypeTCCPacketNotReceived:
			w.lost++
		case rtcp.TypeTCCPacketReceivedSmallDelta, rtcp.TypeTCCPacketReceivedLargeDelta:
			if delta < len(fb.RecvDeltas) {
				at += fb.RecvDeltas[delta].Delta
				delta++
				if !w.timed {
					w.first, w.timed = at, true
				}
				w.last = max(w.last, at)
			}
			fallthrough
		default:
			if size, ok := sizes.get(seq); ok {
				w.bytes += size
			}
		}
		seq++
	}
	for _, chunk := range fb.PacketChunks {
		switch ch := chunk.(type) {
		case *rtcp.RunLengthChunk:
			for i := 0; i < int(ch.RunLength) && left > 0; i++ {
				status(ch.PacketStatusSymbol)
			}
		case *rtcp.StatusVectorChunk:
			for _, s := range ch.SymbolList {
				status(s)
			}
		}
	}
}

// take returns the window and starts a new one, when it holds at least
// packets reports over at least span of arrivals, or force is set.
func (c *countedBWE) take(packets int, span time.Duration, force bool) (feedbackWindow, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.win
	if !force && (w.reported < packets || time.Duration(w.last-w.first)*time.Microsecond < span) {
		return w, false
	}
	c.win = feedbackWindow{}
	return w, true
}

// A line is measured over feedback that reports at least lineWindowPackets
// packets arriving over at least lineWindow, or over whatever came within
// lineWindowMax; fewer than lineLossPackets tell no loss.
const (
	lineWindow        = 100 * time.Millisecond
	lineWindowMax     = time.Second
	lineWindowPackets = 50
	lineLossPackets   = 10
	// While a probe is under way, windows close after fewer packets: on a
	// line of 400 kbit/s, 50 packets take a second, and a probe that lost
	// for that long had overflowed the line's queue.
	lineProbePackets = 20
)

// lineLoss is the share of a window's packets lost from which the line
// counts as congested at once (the estimator's own threshold to
// decrease); below lineLossClear the line is clear, whatever the average.
const (
	lineLoss      = 0.1
	lineLossClear = 0.02
)

// lineMeter is what the allocator last measured of one peer's line (under
// Room.mu).
type lineMeter struct {
	at      int64 // when the window was last taken
	loss    float64
	through float64 // bits per second arrived
	known   bool
}

// line is the share of packets the peer's line lost in the last window and
// what arrived meanwhile, in bits per second; known once its feedback has
// reported a window. Called by the allocator.
func (p *Peer) line(now int64) (loss, through float64, known bool) {
	c, ok := p.bwe.(*countedBWE)
	if !ok {
		return 0, 0, false
	}
	m := &p.lineNow
	if m.at == 0 {
		m.at = now
	}
	packets := lineWindowPackets
	if p.probe.level > 0 {
		packets = lineProbePackets // a probe must end before the queue overflows
	}
	w, ok := c.take(packets, lineWindow, time.Duration(now-m.at) >= lineWindowMax)
	if !ok {
		return m.loss, m.through, m.known
	}
	m.at = now
	m.loss, m.through = 0, 0
	if w.reported >= lineLossPackets {
		m.loss = float64(w.lost) / float64(w.reported)
	}
	if span := time.Duration(w.last-w.first) * time.Microsecond; span > 0 {
		m.through = float64(w.bytes) * 8 / span.Seconds()
		p.probe.arrived(float64(w.bytes)*8, span)
	}
	m.known = w.reported > 0
	return m.loss, m.through, m.known
}

// lineState tells whether the peer's line is congested now and, when the
// last window says so by its own loss, what arrived meanwhile: the most
// the line is known to take. Once its feedback has reported a window, a
// window that lost more than lineLoss is congestion at once; the
// estimator's average counts only while the window still loses more than
// lineLossClear (the average stays high for seconds after the line's
// queue has drained, and a line held by it would be held for nothing).
// Called by the allocator.
func (p *Peer) lineState(now int64) (congested bool, carried float64) {
	loss, through, known := p.line(now)
	switch {
	case !known:
		return p.congested(), 0
	case loss > lineLoss:
		return true, through
	case loss > lineLossClear:
		return p.congested(), 0
	}
	return false, 0
}

// strained tells whether the peer's line shows the first sign of being
// full: its last feedback window lost more than lineLossClear, where
// congestion waits for lineLoss. Only a probe under way heeds it: the probe
// ends at once, before the line's queue overflows for long. (Growing delay
// is no such sign: a busy receiver's late timestamps look the same, and
// probes that ended on it kept a line that came back from 0.5 to 5 Mbit/s
// at under 1 Mbit/s.) Called with Room.mu held.
func (p *Peer) strained(now int64) bool {
	loss, _, known := p.line(now)
	return known && loss > lineLossClear
}
