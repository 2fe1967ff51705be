package testpeer

import (
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Link is a shaped downlink, in user space (these machines have no netem):
// what arrives for a peer passes a bottleneck of Rate bits per second with a
// queue that holds at most Queue of waiting (what would wait longer is
// dropped at the tail, as a real bottleneck's buffer does), then Delay, and
// a random Loss. The zero Link passes everything at once.
type Link struct {
	Rate  int           // bits per second; 0 is unlimited
	Queue time.Duration // longest wait at the bottleneck; 0 means 200 ms
	Delay time.Duration // added to every packet, after the bottleneck
	Loss  float64       // fraction of packets lost at random, 0 to 1
}

// LinkStats counts what a shaped link did.
type LinkStats struct {
	Packets, Bytes   uint64        // delivered
	TailDrops, Lost  uint64        // dropped by the full queue, lost at random
	MaxQueue         time.Duration // the longest a packet waited at the bottleneck
	DeliveredAtAfter time.Duration // the longest a packet took, queue and delay
}

// shaper is the state of one Link, shared by the sockets of one network:
// one bottleneck for everything the peer receives, as a home line is.
type shaper struct {
	mu     sync.Mutex
	link   Link
	depart time.Time // when the bottleneck is free again
	stats  LinkStats
	rnd    *rand.Rand
}

func newShaper(l Link) *shaper {
	if l.Queue <= 0 {
		l.Queue = 200 * time.Millisecond
	}
	return &shaper{link: l, rnd: rand.New(rand.NewPCG(1, 2))}
}

// SetLink changes the link from now on (a line that gets worse or better).
func (s *shaper) setLink(l Link) {
	if l.Queue <= 0 {
		l.Queue = 200 * time.Millisecond
	}
	s.mu.Lock()
	s.link = l
	s.mu.Unlock()
}

// admit decides the fate of a packet of n bytes arriving now: the time to
// deliver it, or false when it is dropped.
func (s *shaper) admit(n int, now time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.link.Loss > 0 && s.rnd.Float64() < s.link.Loss {
		s.stats.Lost++
		return time.Time{}, false
	}
	at := now
	if s.link.Rate > 0 {
		start := now
		if s.depart.After(now) {
			start = s.depart
		}
		if wait := start.Sub(now); wait > s.link.Queue {
			s.stats.TailDrops++
			return time.Time{}, false
		}
		s.depart = start.Add(time.Duration(int64(n) * 8 * int64(time.Second) / int64(s.link.Rate)))
		at = s.depart
		s.stats.MaxQueue = max(s.stats.MaxQueue, start.Sub(now))
	}
	at = at.Add(s.link.Delay)
	s.stats.Packets++
	s.stats.Bytes += uint64(n)
	s.stats.DeliveredAtAfter = max(s.stats.DeliveredAtAfter, at.Sub(now))
	return at, true
}

func (s *shaper) snapshot() LinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// LinkShaper is one shaped link that any number of sockets can share: a
// relay's sockets toward one browser, say.
type LinkShaper struct{ s *shaper }

// NewLinkShaper makes a shaped link.
func NewLinkShaper(l Link) *LinkShaper { return &LinkShaper{newShaper(l)} }

// Wrap makes pc's reads pass the link: what pc receives is what crosses it.
func (ls *LinkShaper) Wrap(pc net.PacketConn) net.PacketConn {
	return &shapedPacketConn{PacketConn: pc, r: newShapedReader(pc, ls.s)}
}

// Set changes the link from now on.
func (ls *LinkShaper) Set(l Link) { ls.s.setLink(l) }

// Stats is what the link did so far.
func (ls *LinkShaper) Stats() LinkStats { return ls.s.snapshot() }

// shapedReader reads a socket as fast as packets come, admits each to the
// shaper and hands it on at its time.
type shapedReader struct {
	pc    net.PacketConn
	s     *shaper
	queue chan datagram // admitted, waiting for their time
	out   chan datagram // due
	done  chan struct{}
	once  sync.Once
}

type datagram struct {
	b    []byte
	from net.Addr
	at   time.Time
	err  error
}

// maxShapedQueue bounds the packets one socket holds for later: far more
// than any Queue setting lets wait at the rates a test uses.
const maxShapedQueue = 8192

func newShapedReader(pc net.PacketConn, s *shaper) *shapedReader {
	r := &shapedReader{pc: pc, s: s, queue: make(chan datagram, maxShapedQueue), out: make(chan datagram, 64), done: make(chan struct{})}
	go r.receive()
	go r.release()
	return r
}

func (r *shapedReader) receive() {
	defer close(r.queue)
	for {
		buf := make([]byte, 1500)
		n, from, err := r.pc.ReadFrom(buf)
		if err != nil {
			r.queue <- datagram{err: err}
			return
		}
		at, ok := r.s.admit(n, time.Now())
		if !ok {
			continue
		}
		select {
		case r.queue <- datagram{b: buf[:n], from: from, at: at}:
		default: // beyond any sane queue: dropped as the bottleneck would
		}
	}
}

func (r *shapedReader) release() {
	defer close(r.out)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for d := range r.queue {
		if wait := time.Until(d.at); d.err == nil && wait > 0 {
			t.Reset(wait)
			select {
			case <-t.C:
			case <-r.done:
				return
			}
		}
		select {
		case r.out <- d:
		case <-r.done:
			return
		}
	}
}

func (r *shapedReader) readFrom(b []byte) (int, net.Addr, error) {
	select {
	case d, ok := <-r.out:
		if !ok {
			return 0, nil, net.ErrClosed
		}
		if d.err != nil {
			return 0, nil, d.err
		}
		return copy(b, d.b), d.from, nil
	case <-r.done:
		return 0, nil, net.ErrClosed
	}
}

func (r *shapedReader) close() { r.once.Do(func() { close(r.done) }) }

// shapedPacketConn is any packet socket whose reads pass a shaper.
type shapedPacketConn struct {
	net.PacketConn
	r *shapedReader
}

func (c *shapedPacketConn) ReadFrom(b []byte) (int, net.Addr, error) { return c.r.readFrom(b) }

func (c *shapedPacketConn) Close() error {
	c.r.close()
	return c.PacketConn.Close()
}

// shapedConn is a UDP socket (as Pion's network hands them out) whose reads
// pass the shaper.
type shapedConn struct {
	*net.UDPConn
	r *shapedReader
}

func newShapedConn(c *net.UDPConn, s *shaper) *shapedConn {
	return &shapedConn{UDPConn: c, r: newShapedReader(c, s)}
}

func (c *shapedConn) ReadFrom(b []byte) (int, net.Addr, error) { return c.r.readFrom(b) }

func (c *shapedConn) ReadFromUDP(b []byte) (int, *net.UDPAddr, error) {
	n, from, err := c.r.readFrom(b)
	addr, _ := from.(*net.UDPAddr)
	return n, addr, err
}

func (c *shapedConn) Close() error {
	c.r.close()
	return c.UDPConn.Close()
}
