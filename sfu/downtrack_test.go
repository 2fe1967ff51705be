package sfu

import (
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// sentRecorder keeps every packet one subscriber was sent, parsed.
type sentRecorder struct {
	hdrs []rtp.Header
	vp8  []vp8Desc
}

func (s *sentRecorder) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	var d vp8Desc
	if err := parseVP8(payload, &d); err != nil {
		return 0, err
	}
	s.hdrs = append(s.hdrs, *h)
	s.vp8 = append(s.vp8, d)
	return len(payload), nil
}

func (s *sentRecorder) Write(b []byte) (int, error) { return len(b), nil }

// publisherLayer feeds one simulcast layer frame by frame, one packet a
// frame, with its own numbering as a browser's encoder would.
type publisherLayer struct {
	f          *forwarder
	l          *layer
	seq        uint16
	ts         uint32
	pic        uint16
	tl0        uint8
	frame      int
	temporal   bool // L1T3: temporal layers 0,2,1,2
	pkt        rtp.Packet
	lastPacket *rtp.Packet
}

var l1t3 = [4]uint8{0, 2, 1, 2}

func (p *publisherLayer) send(key bool) {
	var tid uint8
	if p.temporal {
		tid = l1t3[p.frame%4]
	}
	if key {
		tid = 0
	}
	if tid == 0 && p.frame > 0 {
		p.tl0++
	}
	raw, err := (&rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: uint32(100 + p.l.index), Marker: true},
		Payload: vp8Payload(true, p.pic, p.tl0, tid, key),
	}).Marshal()
	if err != nil {
		panic(err)
	}
	p.f.forward(p.l, raw, &p.pkt)
	p.seq++
	p.ts += 3000
	p.pic = (p.pic + 1) & 0x7fff
	p.frame++
}

func twoLayers(t *testing.T) (*forwarder, *publisherLayer, *publisherLayer) {
	t.Helper()
	f, _ := benchForwarder(0)
	f.layered = true
	f.layer(0).rid = "q"
	f.layers[1].Store(&layer{index: 1, rid: "h", cache: &packetCache{}})
	low := &publisherLayer{f: f, l: f.layer(0), seq: 65500, ts: 4294960000, pic: 32760, tl0: 254}
	high := &publisherLayer{f: f, l: f.layer(1), seq: 5000, ts: 777777, pic: 3000, tl0: 50}
	return f, low, high
}

// checkContinuous fails unless what was sent numbers on without a gap:
// sequence numbers, picture ids and TL0PICIDX (base-layer pictures only)
// each one more than before, timestamps rising, one SSRC.
func checkContinuous(t *testing.T, rec *sentRecorder) {
	t.Helper()
	for i := 1; i < len(rec.hdrs); i++ {
		prev, cur := rec.hdrs[i-1], rec.hdrs[i]
		if cur.SequenceNumber != prev.SequenceNumber+1 {
			t.Fatalf("packet %d: sequence %d after %d", i, cur.SequenceNumber, prev.SequenceNumber)
		}
		if d := cur.Timestamp - prev.Timestamp; d == 0 || d > 1<<31 {
			t.Fatalf("packet %d: timestamp %d after %d", i, cur.Timestamp, prev.Timestamp)
		}
		if cur.SSRC != prev.SSRC {
			t.Fatalf("packet %d: SSRC %d after %d", i, cur.SSRC, prev.SSRC)
		}
		if want := (rec.vp8[i-1].picID + 1) & 0x7fff; rec.vp8[i].picID != want {
			t.Fatalf("packet %d: picture id %d after %d", i, rec.vp8[i].picID, rec.vp8[i-1].picID)
		}
		if rec.vp8[i].tid == 0 && rec.vp8[i].tl0 != rec.vp8[i-1].tl0+1 && rec.vp8[i-1].tid == 0 {
			t.Fatalf("packet %d: TL0PICIDX %d after %d", i, rec.vp8[i].tl0, rec.vp8[i-1].tl0)
		}
	}
}

func TestLayerSwitchAtKeyframeIsSeamless(t *testing.T) {
	f, low, high := twoLayers(t)
	rec := &sentRecorder{}
	d := bindDown(f, 9000, rec)
	d.target.Store(0)

	high.send(true) // not the layer asked for
	low.send(false) // no keyframe yet: nothing to start from
	if len(rec.hdrs) != 0 {
		t.Fatalf("sent %d packets before a keyframe", len(rec.hdrs))
	}
	low.send(true)
	for range 5 {
		low.send(false)
		high.send(false)
	}
	if len(rec.hdrs) != 6 {
		t.Fatalf("sent %d packets of the low layer, want 6", len(rec.hdrs))
	}
	d.target.Store(1)
	low.send(false) // still the low layer until the high one's keyframe
	high.send(false)
	if len(rec.hdrs) != 7 {
		t.Fatalf("sent %d packets, want 7: the switch waits for a keyframe", len(rec.hdrs))
	}
	high.send(true)
	for range 5 {
		low.send(false)
		high.send(false)
	}
	if len(rec.hdrs) != 13 {
		t.Fatalf("sent %d packets, want 13", len(rec.hdrs))
	}
	for i, h := range rec.hdrs {
		if h.SSRC != 9000 {
			t.Fatalf("packet %d on SSRC %d", i, h.SSRC)
		}
	}
	checkContinuous(t, rec)
	if got := rec.vp8[7]; !got.keyframe || got.width != 640 {
		t.Fatalf("the switch did not start at the high layer's keyframe: %+v", got)
	}

	// A NACK for a packet from before the switch is answered from the low
	// layer's cache, with the numbers the subscriber saw.
	lost := rec.hdrs[3]
	rec.hdrs, rec.vp8 = nil, nil
	f.resend(d, &rtcp.TransportLayerNack{MediaSSRC: 9000, Nacks: []rtcp.NackPair{{PacketID: lost.SequenceNumber}}})
	if len(rec.hdrs) != 1 || rec.hdrs[0].SequenceNumber != lost.SequenceNumber || rec.hdrs[0].Timestamp != lost.Timestamp {
		t.Fatalf("resent %+v, want %+v", rec.hdrs, lost)
	}
}

func TestTemporalCapDropsFramesWithoutAGap(t *testing.T) {
	f, low, _ := twoLayers(t)
	low.temporal = true
	rec := &sentRecorder{}
	d := bindDown(f, 9000, rec)
	d.target.Store(0)
	d.maxTID.Store(0)
	low.send(true)
	for range 15 {
		low.send(false)
	}
	// Frames 0, 4, 8, 12 are the base layer.
	if len(rec.hdrs) != 4 {
		t.Fatalf("sent %d of 16 frames at temporal layer 0, want 4", len(rec.hdrs))
	}
	checkContinuous(t, rec)

	// Raising the cap waits for a base-layer picture, then lets all through.
	d.maxTID.Store(allTemporal)
	low.send(false) // frame 16: tid 0
	for range 7 {
		low.send(false)
	}
	if len(rec.hdrs) != 12 {
		t.Fatalf("sent %d frames, want 12", len(rec.hdrs))
	}
	checkContinuous(t, rec)
}

func TestPausedTileReceivesNothing(t *testing.T) {
	f, low, _ := twoLayers(t)
	rec := &sentRecorder{}
	d := bindDown(f, 9000, rec)
	low.send(true)
	low.send(false)
	d.target.Store(noLayer)
	for range 10 {
		low.send(false)
	}
	if len(rec.hdrs) != 2 {
		t.Fatalf("a hidden tile was sent %d packets, want 2", len(rec.hdrs))
	}
	// Shown again, it starts at the next keyframe and numbers on.
	d.target.Store(0)
	low.send(false)
	low.send(true)
	low.send(false)
	if len(rec.hdrs) != 4 {
		t.Fatalf("sent %d packets, want 4", len(rec.hdrs))
	}
	checkContinuous(t, rec)
}

func TestSingleLayerStartsAtAnyPicture(t *testing.T) {
	f, _ := benchForwarder(0)
	rec := &sentRecorder{}
	bindDown(f, 9000, rec)
	p := &publisherLayer{f: f, l: f.layer(0), seq: 10, ts: 1000, pic: 1}
	p.send(false)
	p.send(false)
	if len(rec.hdrs) != 2 {
		t.Fatalf("a one-layer publisher's subscriber got %d packets, want 2 (as before layers)", len(rec.hdrs))
	}
}

func TestParseVP8(t *testing.T) {
	var d vp8Desc
	if err := parseVP8(vp8Payload(true, 0x1234, 9, 2, true), &d); err != nil {
		t.Fatal(err)
	}
	if !d.start || !d.keyframe || d.picID != 0x1234 || !d.picID15 || d.tl0 != 9 || d.tid != 2 || d.width != 640 || d.height != 360 {
		t.Fatalf("parsed %+v", d)
	}
	if err := parseVP8(vp8Payload(true, 5, 9, 2, false), &d); err != nil || d.keyframe || d.tid != 2 {
		t.Fatalf("parsed %+v, %v", d, err)
	}
	for _, short := range [][]byte{{}, {0x80}, {0x80, 0x80}, {0x80, 0x80, 0x80}, {0x80, 0x40}, {0x80, 0x20}} {
		if err := parseVP8(short, &d); err == nil {
			t.Fatalf("parsed truncated %x", short)
		}
	}
	payload := vp8Payload(true, 0x1234, 9, 0, false)
	if err := parseVP8(payload, &d); err != nil {
		t.Fatal(err)
	}
	rewriteVP8(payload, &d, 0x0042, 200)
	if err := parseVP8(payload, &d); err != nil || d.picID != 0x42 || d.tl0 != 200 || !d.picID15 {
		t.Fatalf("rewritten %+v, %v", d, err)
	}
}
