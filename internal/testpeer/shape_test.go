package testpeer

import (
	"net"
	"testing"
	"time"
)

// A burst far above the link's rate: the queue takes what fits in its time,
// the rest is dropped at the tail, and what passes comes no faster than the
// rate allows, after the delay.
func TestShapedLinkQueuesThenDropsAtTheTail(t *testing.T) {
	const (
		rate  = 1_000_000 // bits per second
		queue = 100 * time.Millisecond
		delay = 30 * time.Millisecond
		size  = 1200
		burst = 300
	)
	s, err := NewShapedSockets(0, Link{Rate: rate, Queue: queue, Delay: delay})
	if err != nil {
		t.Fatal(err)
	}
	rx, err := s.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()

	start := time.Now()
	payload := make([]byte, size)
	for range burst {
		if _, err := tx.WriteTo(payload, rx.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	sending := time.Since(start)
	perPacket := time.Duration(size * 8 * int64(time.Second) / rate)
	// What waits at most the queue's time, while the burst came in.
	fits := int(queue/perPacket) + 1
	most := int((queue+sending)/perPacket) + 1
	got, last := 0, time.Time{}
	buf := make([]byte, 1500)
	for {
		// The last packet is due after about queue + delay; a second more
		// of nothing ends it.
		_ = rx.SetReadDeadline(time.Now().Add(time.Second))
		n, _, err := rx.ReadFrom(buf)
		if err != nil {
			break
		}
		if n != size {
			t.Fatalf("a packet of %d bytes, sent %d", n, size)
		}
		got++
		last = time.Now()
	}
	st := s.LinkStats()
	// The kernel may drop some of the burst itself, before the shaper sees
	// it; what the shaper sees beyond the queue is dropped at the tail.
	if got < fits || got > most || st.Packets != uint64(got) || st.TailDrops == 0 || st.Packets+st.TailDrops > burst {
		t.Fatalf("delivered %d (shaper: %d), tail drops %d of a burst of %d; %d to %d fit the queue", got, st.Packets, st.TailDrops, burst, fits, most)
	}
	if least := time.Duration(got-1)*perPacket + delay; last.Sub(start) < least {
		t.Fatalf("%d packets came in %v, faster than the link's %v", got, last.Sub(start), least)
	}
	if st.MaxQueue > queue {
		t.Fatalf("a packet waited %v in a queue of %v", st.MaxQueue, queue)
	}
}

// Random loss takes about its share, the same share on every run.
func TestShapedLinkLoses(t *testing.T) {
	sh := newShaper(Link{Loss: 0.2})
	now := time.Now()
	for range 1000 {
		sh.admit(100, now)
	}
	st := sh.snapshot()
	if st.Lost < 150 || st.Lost > 250 || st.Packets+st.Lost != 1000 {
		t.Fatalf("lost %d and passed %d of 1000 at 20 %% loss", st.Lost, st.Packets)
	}
}
