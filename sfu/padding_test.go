package sfu

import (
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// padRecorder keeps every packet one subscriber was sent, padding too.
type padRecorder struct{ hdrs []rtp.Header }

func (s *padRecorder) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if !h.Padding {
		var d vp8Desc
		if err := parseVP8(payload, &d); err != nil {
			return 0, err
		}
	} else if len(payload) != 0 {
		return 0, errShortVP8
	}
	s.hdrs = append(s.hdrs, *h)
	return len(payload), nil
}

func (s *padRecorder) Write(b []byte) (int, error) { return len(b), nil }

// A probe's padding follows a picture's last packet, numbered on in the
// stream with the picture's timestamp; the pictures after it number on
// from it; it is never resent; and it stops at once when the probe ends.
func TestPaddingFollowsAPictureAndNumbersOn(t *testing.T) {
	f, low, _ := twoLayers(t)
	rec := &padRecorder{}
	d := bindDown(f, 9000, rec)
	d.target.Store(0)
	low.send(true)
	low.send(false)

	// A budget of exactly padPerPicture packets, full.
	pad := &d.conn.padding
	pad.set(padPerPicture * (padSize + rtpOverhead) / padBurst)
	pad.mu.Lock()
	pad.b.tokens = pad.b.size
	pad.mu.Unlock()
	low.send(false)
	pad.set(0)
	low.send(false)
	low.send(false)

	if want := 5 + padPerPicture; len(rec.hdrs) != want {
		t.Fatalf("sent %d packets, want %d", len(rec.hdrs), want)
	}
	for i := 1; i < len(rec.hdrs); i++ {
		if rec.hdrs[i].SequenceNumber != rec.hdrs[i-1].SequenceNumber+1 {
			t.Fatalf("packet %d: sequence %d after %d", i, rec.hdrs[i].SequenceNumber, rec.hdrs[i-1].SequenceNumber)
		}
	}
	picture := rec.hdrs[2]
	for i, h := range rec.hdrs[3 : 3+padPerPicture] {
		if !h.Padding || h.PaddingSize != padSize || h.Marker || h.Timestamp != picture.Timestamp || h.SSRC != 9000 || h.PayloadType != 96 {
			t.Fatalf("padding %d: %+v after picture %+v", i, h, picture)
		}
		if len(h.Extensions) != 1 {
			t.Fatalf("padding %d carries no transport-wide number: %+v", i, h.Extensions)
		}
	}
	for i, h := range rec.hdrs[3+padPerPicture:] {
		if h.Padding {
			t.Fatalf("padding after the probe ended: packet %d", i)
		}
	}
	if got := pad.Sent(); got != padPerPicture*padSize {
		t.Fatalf("padding counted %d bytes, want %d", got, padPerPicture*padSize)
	}

	// A NACK for padding is not answered; one for the picture after it is,
	// with the number the subscriber saw.
	padSeq, after := rec.hdrs[4].SequenceNumber, rec.hdrs[3+padPerPicture]
	rec.hdrs = nil
	f.resend(d, &rtcp.TransportLayerNack{MediaSSRC: 9000, Nacks: []rtcp.NackPair{{PacketID: padSeq}}})
	if len(rec.hdrs) != 0 {
		t.Fatalf("padding resent: %+v", rec.hdrs)
	}
	f.resend(d, &rtcp.TransportLayerNack{MediaSSRC: 9000, Nacks: []rtcp.NackPair{{PacketID: after.SequenceNumber}}})
	if len(rec.hdrs) != 1 || rec.hdrs[0].SequenceNumber != after.SequenceNumber || rec.hdrs[0].Timestamp != after.Timestamp {
		t.Fatalf("resent %+v, want %+v", rec.hdrs, after)
	}
}

// A probe while video is sent pads beside it and keeps the layers; it
// proves what arrived, and a layer probe (nothing but audio sent) raises
// layers as before.
func TestAProbeBesideVideoPadsAndProvesWhatArrived(t *testing.T) {
	at := func(ms int) int64 { return int64(ms) * 1e6 }
	const full = 4e6
	p := prober{}
	p.estimate(3e5, full, true, 3e5, at(0))
	p.sending, p.video = 3e5, 2.6e5
	calm := int(p.wait.Milliseconds())
	if got := p.estimate(3e5, full, false, 0, at(calm)); got != 3e5 {
		t.Fatalf("a padded probe spends %v, want the estimate: its layers stay", got)
	}
	if !p.padded || p.padding() != 3e5*probeGain-3e5 {
		t.Fatalf("padded %v, padding %v", p.padded, p.padding())
	}
	// Of the 4.5e5 bits/s it may send, 4e5 arrived.
	p.arrived(2e5, 500e6)
	p.arrived(2e5, 500e6)
	p.estimate(3e5, full, false, 0, at(calm+int(probeHold.Milliseconds())))
	if p.floor != 4e5 || !p.proven {
		t.Fatalf("floor %v (want what arrived, 4e5), proven %v", p.floor, p.proven)
	}
	// The next follows at once, and asks for more after one that held.
	p.estimate(3e5, full, false, 0, at(calm+int(probeHold.Milliseconds())+100))
	if p.level != 4e5*padGain {
		t.Fatalf("the probe after one that held asks for %v, want %v", p.level, 4e5*padGain)
	}
	// One that fails: the next waits, and asks for probeGain again.
	p.abort(at(calm + int(probeHold.Milliseconds()) + 200))
	p.sending = 4e5
	p.estimate(3e5, full, false, 0, at(calm+int(probeHold.Milliseconds())+200)+int64(p.wait))
	if p.level != 4e5*probeGain {
		t.Fatalf("the probe after one that failed asks for %v, want %v", p.level, 4e5*probeGain)
	}

	// Nothing but audio: the probe raises layers.
	q := prober{}
	q.estimate(1e5, full, true, 1e5, at(0))
	q.sending, q.video = 4e4, 0
	calm = int(q.wait.Milliseconds())
	if got := q.estimate(1e5, full, false, 0, at(calm)); q.padded || got != 1e5*probeGain/headroom {
		t.Fatalf("a layer probe spends %v (padded %v)", got, q.padded)
	}
	if q.padding() != 0 {
		t.Fatalf("a layer probe pads %v", q.padding())
	}
}
