package sfu

import (
	"fmt"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// discard is a subscriber's writer that accepts and drops, so the benchmark
// measures the forwarding code itself (SRTP and the kernel are measured by
// the load tool).
type discard struct{ packets int }

func (d *discard) WriteRTP(_ *rtp.Header, payload []byte) (int, error) {
	d.packets++
	return len(payload), nil
}

func (d *discard) Write(b []byte) (int, error) { return len(b), nil }

// benchForwarder is a video forwarder with n subscribers bound.
func benchForwarder(n int) (*forwarder, []*discard) {
	router := &Router{log: zap.NewNop()}
	room := newRoom(router, "bench")
	pub := &Peer{room: room, id: "pub"}
	f := &forwarder{
		room:      room,
		publisher: pub,
		local:     newFanout(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, webrtc.RTPCodecTypeVideo, "v", "pub"),
		cache:     &packetCache{}, // as every video forwarder has
		resends:   rate.NewLimiter(maxResendsPerSecond, maxResendsPerSecond),
	}
	subs := make([]*discard, n)
	for i := range subs {
		subs[i] = &discard{}
		f.local.bindings = append(f.local.bindings, binding{id: fmt.Sprint(i), ssrc: uint32(1000 + i), payloadType: 96, writer: subs[i]})
	}
	return f, subs
}

// vp8Packet is a 1200-byte VP8 packet as a browser sends it, with a
// transport-wide sequence number extension.
func vp8Packet() []byte {
	p := rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, Timestamp: 90000, SSRC: 42, Marker: true},
		Payload: make([]byte, 1180),
	}
	if err := p.Header.SetExtension(3, []byte{0x01, 0x02}); err != nil {
		panic(err)
	}
	raw, err := p.Marshal()
	if err != nil {
		panic(err)
	}
	return raw
}

// BenchmarkForward is one packet in, fanned out to 1, 10 and 50 subscribers:
// ns per egress packet and allocations per forwarded packet.
func BenchmarkForward(b *testing.B) {
	raw := vp8Packet()
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			f, subs := benchForwarder(n)
			var pkt rtp.Packet
			b.ReportAllocs()
			b.SetBytes(int64(len(raw) * n))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f.forward(raw, &pkt)
			}
			b.StopTimer()
			if subs[n-1].packets != b.N {
				b.Fatalf("subscriber got %d of %d", subs[n-1].packets, b.N)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/egress")
		})
	}
}

// TestForwardAllocatesNothing holds the target of zero allocations per
// forwarded packet.
func TestForwardAllocatesNothing(t *testing.T) {
	raw := vp8Packet()
	f, subs := benchForwarder(10)
	var pkt rtp.Packet
	f.forward(raw, &pkt) // first use sizes the scratch packet
	allocs := testing.AllocsPerRun(1000, func() { f.forward(raw, &pkt) })
	if allocs != 0 {
		t.Fatalf("%.1f allocations per forwarded packet", allocs)
	}
	if subs[0].packets < 1001 || f.local.packets.Load() != uint64(10*subs[0].packets) {
		t.Fatalf("forwarded %d, counted %d", subs[0].packets, f.local.packets.Load())
	}
}

func TestQuietDropsAudioInTheForwardingLoop(t *testing.T) {
	f, subs := benchForwarder(3)
	f.audio, f.cache = true, nil
	var pkt rtp.Packet
	raw := vp8Packet()
	f.room.SetAudioForwarded(false)
	f.forward(raw, &pkt)
	f.publisher.SetMuted(true)
	f.room.SetAudioForwarded(true)
	f.forward(raw, &pkt)
	f.publisher.SetMuted(false)
	f.forward(raw, &pkt)
	if subs[0].packets != 1 || f.droppedQuiet.Load() != 1 || f.droppedMuted.Load() != 1 || f.in.Load() != 3 {
		t.Fatalf("forwarded %d, quiet %d, muted %d", subs[0].packets, f.droppedQuiet.Load(), f.droppedMuted.Load())
	}
}

// seqRecorder remembers what one subscriber was sent.
type seqRecorder struct {
	seqs  []uint16
	ssrcs []uint32
}

func (s *seqRecorder) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	s.seqs = append(s.seqs, h.SequenceNumber)
	s.ssrcs = append(s.ssrcs, h.SSRC)
	return len(payload), nil
}

func (s *seqRecorder) Write(b []byte) (int, error) { return len(b), nil }

func TestNACKsAreAnsweredFromTheSharedCache(t *testing.T) {
	f, _ := benchForwarder(0)
	a, b := &seqRecorder{}, &seqRecorder{}
	f.local.bindings = []binding{{id: "a", ssrc: 1001, payloadType: 96, writer: a}, {id: "b", ssrc: 1002, payloadType: 96, writer: b}}
	var pkt rtp.Packet
	for seq := uint16(65530); seq != 10; seq++ { // across the wrap of sequence numbers
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 100, SequenceNumber: seq, SSRC: 42}, Payload: []byte{byte(seq)}}
		raw, _ := p.Marshal()
		f.forward(raw, &pkt)
	}
	a.seqs, b.seqs = nil, nil
	// Bo lost 65534 and 3; 65000 was never sent (or is long gone).
	f.resend(&rtcp.TransportLayerNack{MediaSSRC: 1002, Nacks: []rtcp.NackPair{{PacketID: 65534}, {PacketID: 3}, {PacketID: 65000}}})
	if len(a.seqs) != 0 {
		t.Fatalf("Ada was sent %v", a.seqs)
	}
	if len(b.seqs) != 2 || b.seqs[0] != 65534 || b.seqs[1] != 3 || b.ssrcs[0] != 1002 {
		t.Fatalf("Bo was sent %v on %v", b.seqs, b.ssrcs)
	}
	// The cache keeps only the last cacheSize packets.
	c := &packetCache{}
	for seq := uint16(0); seq < 2*cacheSize; seq++ {
		c.store(&rtp.Packet{Header: rtp.Header{SequenceNumber: seq}})
	}
	if c.get(0, &pkt) || !c.get(2*cacheSize-1, &pkt) {
		t.Fatal("the cache keeps the wrong packets")
	}
}
