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

// sentSizes remembers what each recent packet on a connection carried and
// when it was sent, written by its downTracks, read by the feedback's
// reader. Each slot holds the sequence number in its top 16 bits, the size
// in the next 16, and the send time in microseconds (mod 2^32: about 71
// minutes, far more than a window spans) in the low 32.
type sentSizes [sizeRing]atomic.Uint64

func (s *sentSizes) put(seq uint16, size int, at int64) {
	s[int(seq)%sizeRing].Store(uint64(seq)<<48 | uint64(min(size, 0xffff))<<32 | uint64(uint32(at/1000)))
}

// get is the size of packet seq and when it was sent, in microseconds mod
// 2^32; ok is false when its slot holds a later packet.
func (s *sentSizes) get(seq uint16) (size int, sentUs uint32, ok bool) {
	v := s[int(seq)%sizeRing].Load()
	return int(v >> 32 & 0xffff), uint32(v), uint16(v>>48) == seq
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
	// sentFirst and sentLast are when the received packets of known size
	// were sent, microseconds by the server's clock (mod 2^32), and sent
	// the bytes of those sent after the first: with arrivals, they tell
	// whether the line delivers what it is sent.
	sentFirst, sentLast uint32
	sentBytes           int
	sentTimed           bool
}

// sendSpan is how long the window's received packets took to send.
func (w *feedbackWindow) sendSpan() time.Duration {
	if !w.sentTimed {
		return 0
	}
	return time.Duration(int32(w.sentLast-w.sentFirst)) * time.Microsecond
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
			if size, sent, ok := sizes.get(seq); ok {
				w.bytes += size
				w.sawSent(sent, size)
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

// sawSent adds a received packet's send time to the window.
func (w *feedbackWindow) sawSent(at uint32, size int) {
	switch {
	case !w.sentTimed:
		w.sentFirst, w.sentLast, w.sentTimed = at, at, true
		return
	case int32(at-w.sentFirst) < 0:
		w.sentFirst = at
	case int32(at-w.sentLast) > 0:
		w.sentLast = at
	}
	w.sentBytes += size
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
	// queueing says the window's packets took clearly longer to arrive
	// than to send: the line's queue grew meanwhile.
	queueing bool
}

// A window shows a growing queue when its packets, sent over a span,
// arrived over one longer by at least queueGrowth and by more than a share
// queueRatio of it. Windows are long (lineWindow and more) and the growth
// must be large: a busy receiver stamps a few packets late, which a
// delay-based detector reads as overuse, but not a quarter of a window.
const (
	queueGrowth = 20 * time.Millisecond
	queueRatio  = 0.25
)

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
	m.loss, m.through, m.queueing = 0, 0, false
	if w.reported >= lineLossPackets {
		m.loss = float64(w.lost) / float64(w.reported)
	}
	if span := time.Duration(w.last-w.first) * time.Microsecond; span > 0 {
		m.through = float64(w.bytes) * 8 / span.Seconds()
		p.probe.arrived(float64(w.bytes)*8, span)
		sent := w.sendSpan()
		m.queueing = span >= lineWindow && sent > 0 && span-sent >= queueGrowth && float64(span-sent) > queueRatio*float64(span)
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
// congestion waits for lineLoss, or its packets arrived over a span
// clearly longer than they were sent over (the queue grows: a probe above
// the line's rate shows so before the queue overflows). Only a probe under
// way heeds it: the probe ends at once. (GCC's delay-based overuse is no
// such sign: a busy receiver's late timestamps trip it, and probes that
// ended on it kept a line that came back from 0.5 to 5 Mbit/s at under 1
// Mbit/s.) Called with Room.mu held.
func (p *Peer) strained(now int64) bool {
	loss, _, known := p.line(now)
	return known && (loss > lineLossClear || p.lineNow.queueing)
}
