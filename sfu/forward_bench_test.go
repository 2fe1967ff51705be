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

// benchForwarder is a video forwarder of one layer with n subscribers bound.
func benchForwarder(n int) (*forwarder, []*discard) {
	router := &Router{log: zap.NewNop()}
	room := &Room{router: router, id: "bench", log: zap.NewNop(), peers: map[string]*Peer{}, tracks: map[*forwarder]struct{}{}}
	pub := &Peer{room: room, id: "pub"}
	f := &forwarder{
		room:      room,
		publisher: pub,
		id:        "v",
		kind:      webrtc.RTPCodecTypeVideo,
		codec:     webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		resends:   rate.NewLimiter(maxResendsPerSecond, maxResendsPerSecond),
	}
	f.downs.Store(&[]*downTrack{})
	f.layers[0].Store(&layer{index: 0, cache: &packetCache{}}) // as every video layer has
	subs := make([]*discard, n)
	for i := range subs {
		subs[i] = &discard{}
		bindDown(f, uint32(1000+i), subs[i])
	}
	return f, subs
}

// bindDown adds a subscriber to f as Pion's Bind would.
func bindDown(f *forwarder, ssrc uint32, w webrtc.TrackLocalWriter) *downTrack {
	conn := &egress{}
	conn.up.Store(true)
	d := newDownTrack(f, conn)
	d.twccID = 5 // as a subscriber that sends transport-wide feedback negotiates
	d.ssrc, d.payloadType, d.writer = ssrc, 96, w
	d.bound.Store(true)
	f.addDown(d)
	return d
}

// vp8Packet is a 1200-byte VP8 packet as a browser sends it in simulcast: a
// keyframe's first packet with a 15-bit picture id, TL0PICIDX and temporal
// layer 0, and a transport-wide sequence number extension.
func vp8Packet() []byte {
	payload := make([]byte, 1180)
	copy(payload, vp8Payload(true, 0x1234, 7, 0, true))
	p := rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, Timestamp: 90000, SSRC: 42, Marker: true},
		Payload: payload,
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

// vp8Payload is a VP8 payload descriptor (X, I with a 15-bit picture id, L,
// T) and the first bytes of a frame: a keyframe header of 640×360 when key.
func vp8Payload(start bool, pic uint16, tl0 uint8, tid uint8, key bool) []byte {
	b0 := byte(0x80)
	if start {
		b0 |= 0x10
	}
	out := []byte{b0, 0xe0, 0x80 | byte(pic>>8), byte(pic), tl0, tid << 6}
	if key {
		return append(out, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01)
	}
	return append(out, 0x01, 0x00, 0x00)
}

// BenchmarkForward is one packet in, fanned out to 1, 10 and 50 subscribers:
// ns per egress packet and allocations per forwarded packet.
func BenchmarkForward(b *testing.B) {
	raw := vp8Packet()
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			f, subs := benchForwarder(n)
			l := f.layer(0)
			var pkt rtp.Packet
			b.ReportAllocs()
			b.SetBytes(int64(len(raw) * n))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f.forward(l, raw, &pkt)
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
	l := f.layer(0)
	var pkt rtp.Packet
	f.forward(l, raw, &pkt) // first use sizes the scratch packet
	allocs := testing.AllocsPerRun(1000, func() { f.forward(l, raw, &pkt) })
	if allocs != 0 {
		t.Fatalf("%.1f allocations per forwarded packet", allocs)
	}
	if subs[0].packets < 1001 || f.packetsOut[0].Load() != uint64(10*subs[0].packets) {
		t.Fatalf("forwarded %d, counted %d", subs[0].packets, f.packetsOut[0].Load())
	}
}

func TestQuietDropsAudioInTheForwardingLoop(t *testing.T) {
	f, subs := benchForwarder(3)
	f.audio = true
	l := f.layer(0)
	var pkt rtp.Packet
	raw := vp8Packet()
	f.room.SetAudioForwarded(false)
	f.forward(l, raw, &pkt)
	f.publisher.SetMuted(true)
	f.room.SetAudioForwarded(true)
	f.forward(l, raw, &pkt)
	f.publisher.SetMuted(false)
	f.forward(l, raw, &pkt)
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
	l := f.layer(0)
	a, b := &seqRecorder{}, &seqRecorder{}
	bindDown(f, 1001, a)
	db := bindDown(f, 1002, b)
	var pkt rtp.Packet
	for seq := uint16(65530); seq != 10; seq++ { // across the wrap of sequence numbers
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 100, SequenceNumber: seq, SSRC: 42}, Payload: vp8Payload(true, seq, 0, 0, seq == 65530)}
		raw, _ := p.Marshal()
		f.forward(l, raw, &pkt)
	}
	a.seqs, b.seqs = nil, nil
	// Bo lost 65534 and 3; 65000 was never sent (or is long gone).
	f.resend(db, &rtcp.TransportLayerNack{MediaSSRC: 1002, Nacks: []rtcp.NackPair{{PacketID: 65534}, {PacketID: 3}, {PacketID: 65000}}})
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
