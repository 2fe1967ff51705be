package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// Feedback is read for what it says of each packet: received or lost, and
// when the received ones arrived; the sizes come from what was sent.
func TestFeedbackIsTallied(t *testing.T) {
	var sizes sentSizes
	for seq := uint16(65530); seq != 10; seq++ { // across the wrap
		sizes.put(seq, 1000, 0)
	}
	c := &countedBWE{}
	// 16 packets from 65530: 4 received, 2 lost, 2 received without a
	// delta, then a vector of 8: received, lost, alternating.
	vector := make([]uint16, 0, 8)
	for i := range 8 {
		vector = append(vector, []uint16{rtcp.TypeTCCPacketReceivedSmallDelta, rtcp.TypeTCCPacketNotReceived}[i%2])
	}
	fb := &rtcp.TransportLayerCC{
		BaseSequenceNumber: 65530,
		PacketStatusCount:  16,
		ReferenceTime:      10,
		PacketChunks: []rtcp.PacketStatusChunk{
			&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 4},
			&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketNotReceived, RunLength: 2},
			&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedWithoutDelta, RunLength: 2},
			&rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: vector},
		},
	}
	for range 8 { // 4 + 4 received with a delta, 10 ms apart
		fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 10_000})
	}
	c.tally(fb, &sizes)
	w, ok := c.take(16, 70*time.Millisecond, false)
	if !ok {
		t.Fatalf("window not taken: %+v", w)
	}
	if w.reported != 16 || w.lost != 6 || w.bytes != 10_000 {
		t.Fatalf("window %+v: want 16 reported, 6 lost, 10 000 bytes", w)
	}
	if span := w.last - w.first; span != 70_000 {
		t.Fatalf("arrivals over %d µs, want 70 000", span)
	}
	if w, ok := c.take(1, 0, false); ok || w.reported != 0 {
		t.Fatalf("a taken window starts again: %+v", w)
	}
	// A size that was overwritten by a later packet is not counted.
	sizes.put(uint16(65530+sizeRing-65536), 1000, 0)
	c.tally(&rtcp.TransportLayerCC{BaseSequenceNumber: 65530, PacketStatusCount: 1,
		PacketChunks: []rtcp.PacketStatusChunk{&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedWithoutDelta, RunLength: 1}}}, &sizes)
	if w, _ := c.take(0, 0, true); w.reported != 1 || w.bytes != 0 {
		t.Fatalf("overwritten size: %+v", w)
	}
}

// A peer's line is measured from windows of feedback: the share lost, and
// what arrived per second of the subscriber's clock.
func TestTheLineIsMeasuredFromItsFeedback(t *testing.T) {
	var p Peer
	c := &countedBWE{}
	p.bwe = c
	sizes := &p.egress.sizes
	// 100 packets of 1250 bytes, one every 2 ms, a quarter lost: 3.75 Mbit/s
	// arrive.
	var fb rtcp.TransportLayerCC
	fb.PacketStatusCount = 100
	for i := range 100 {
		sizes.put(uint16(i), 1250, 0)
		symbol := rtcp.TypeTCCPacketReceivedSmallDelta
		if i%4 == 3 {
			symbol = rtcp.TypeTCCPacketNotReceived
		} else {
			fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: symbol, Delta: 2000})
		}
		fb.PacketChunks = append(fb.PacketChunks, &rtcp.RunLengthChunk{PacketStatusSymbol: symbol, RunLength: 1})
	}
	now := time.Now().UnixNano()
	if _, _, known := p.line(now); known {
		t.Fatal("known before any feedback")
	}
	c.tally(&fb, sizes)
	loss, through, known := p.line(now + int64(10*time.Millisecond))
	if !known || loss != 0.25 {
		t.Fatalf("loss %v (known %v), want 0.25", loss, known)
	}
	// 75 received, 74 gaps of 2 ms between the first and the last.
	if want := 75 * 1250 * 8 / 0.148; through < want*0.99 || through > want*1.01 {
		t.Fatalf("through %.0f bit/s, want about %.0f", through, want)
	}
	if congested, carried := p.lineState(now + int64(20*time.Millisecond)); !congested || carried != through {
		t.Fatalf("a quarter lost: congested %v, carried %v", congested, carried)
	}
}

// A window whose packets arrive over a clearly longer span than they were
// sent over shows the line's queue growing: a probe under way heeds it
// before any packet is lost. One that arrives as it was sent does not.
func TestAGrowingQueueStrainsAProbe(t *testing.T) {
	for _, c := range []struct {
		name     string
		arriveUs int64 // between two arrivals; sent 2 ms apart
		strained bool
	}{
		{"arrives as sent", 2000, false},
		{"a busy receiver's few milliseconds", 2200, false},
		{"arrives at two thirds of the rate sent", 3000, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var p Peer
			cb := &countedBWE{}
			p.bwe = cb
			now := time.Now().UnixNano()
			p.probe.level = 1 // a probe is under way
			var fb rtcp.TransportLayerCC
			fb.PacketStatusCount = 60
			for i := range 60 {
				p.egress.sizes.put(uint16(i), 1000, now+int64(i)*2e6)
				fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: c.arriveUs})
				fb.PacketChunks = append(fb.PacketChunks, &rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 1})
			}
			cb.tally(&fb, &p.egress.sizes)
			at := now + int64(200*time.Millisecond)
			if got := p.strained(at); got != c.strained {
				t.Fatalf("strained %v, want %v (meter %+v)", got, c.strained, p.lineNow)
			}
			if loss, _, _ := p.line(at); loss != 0 {
				t.Fatalf("loss %v: none was lost", loss)
			}
		})
	}
}
