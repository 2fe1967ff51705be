package web

import (
	"github.com/worktogether/worktogether/signaling"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/worktogether/worktogether/internal/testpeer"
)

// sectionsOf counts an offer's media sections that carry stream id's
// tracks, by kind.
func sectionsOf(t *testing.T, offer, id string) map[string]int {
	t.Helper()
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(offer); err != nil {
		t.Fatalf("offer is not SDP: %v", err)
	}
	kinds := map[string]int{}
	for _, m := range desc.MediaDescriptions {
		if msid, ok := m.Attribute("msid"); ok && strings.HasPrefix(msid, id+" ") {
			kinds[m.MediaName.Media]++
		}
	}
	return kinds
}

// A publisher's audio and video reach a member in one offer made from the
// publish offer, before any of its packets (here none ever arrive: the
// publisher never applies the answer), so that a join costs each member one
// renegotiation, made while the publisher's connection is still being set
// up. A section that stops sending before anything arrived is taken away.
func TestPublishOfferReachesMembersBeforeMedia(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	bo, _ := h.join(h.invite(sess.ID, "Bo", "").Token, testpeer.Options{})
	ada, aw := h.join(h.invite(sess.ID, "Ada", "").Token, testpeer.Options{})
	id := aw.You.ID

	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "a", "ada")
	if err != nil {
		t.Fatal(err)
	}
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "v", "ada")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(audio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	vt, err := pc.AddTransceiverFromTrack(video, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	publish := func() {
		t.Helper()
		offer, err := pc.CreateOffer(nil)
		if err == nil {
			err = pc.SetLocalDescription(offer)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := ada.Send(map[string]any{"type": "publish_offer", "sdp": offer.SDP}); err != nil {
			t.Fatal(err)
		}
		msg, err := ada.Expect(h.ctx(5*time.Second), "publish_answer")
		if err != nil {
			t.Fatal(err)
		}
		// Applied, but no candidate of either side reaches the other:
		// the connection never comes up.
		var answer signaling.MsgOffer
		if err := msg.Decode(&answer); err != nil {
			t.Fatal(err)
		}
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP}); err != nil {
			t.Fatal(err)
		}
	}
	// nextOffer answers Bo's offers until one passes check.
	nextOffer := func(what string, check func(map[string]int) bool) string {
		t.Helper()
		var o signaling.MsgOffer
		_, err := bo.ExpectWhere(h.ctx(5*time.Second), "offer", func(m testpeer.Message) bool {
			return m.Decode(&o) == nil && check(sectionsOf(t, o.SDP, id))
		})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return o.SDP
	}

	publish()
	nextOffer("Bo gets Ada's audio and video in one offer before her media flows", func(k map[string]int) bool {
		if k["audio"]+k["video"] == 0 {
			return false
		}
		if k["audio"] != 1 || k["video"] != 1 {
			t.Fatalf("the first offer with Ada's tracks has %d audio and %d video sections of hers, want 1 and 1", k["audio"], k["video"])
		}
		return true
	})
	if n := h.router.Stats().PacketsIn; n != 0 {
		t.Fatalf("%d packets arrived from a publisher that never connected", n)
	}

	// Her video stops before it sent anything: its section at Bo's waits,
	// idle, for the next video (nothing to renegotiate for it), and the
	// next video Bo receives, Cy's, is carried there: Bo's connection gains
	// a section for Cy's audio only, and no longer names Ada's video.
	sections := strings.Count(bo.PC().RemoteDescription().SDP, "\nm=")
	if err := pc.RemoveTrack(vt.Sender()); err != nil {
		t.Fatal(err)
	}
	publish()
	_, cw := h.join(h.invite(sess.ID, "Cy", "").Token, media)
	sdp := nextOffer("Cy's video reaches Bo in the section of Ada's", func(k map[string]int) bool {
		return k["audio"] == 1 && k["video"] == 0
	})
	if k := sectionsOf(t, sdp, cw.You.ID); k["audio"] != 1 || k["video"] != 1 {
		t.Errorf("Bo's offer has %d audio and %d video sections of Cy's, want 1 and 1", k["audio"], k["video"])
	}
	if n := strings.Count(sdp, "\nm="); n != sections+1 {
		t.Errorf("Bo's connection went from %d sections to %d, want one more (Cy's audio)", sections, n)
	}
}

// A simulcast publisher's tracks, announced in one offer, flow once it
// connects.
func TestAnnouncedSimulcastFlows(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	bo, _ := h.join(h.invite(sess.ID, "Bo", "").Token, testpeer.Options{})
	// Bo's own first offer, answered, before Ada comes.
	if _, err := bo.Expect(h.ctx(5*time.Second), "offer"); err != nil {
		t.Fatal(err)
	}
	_, aw := h.join(h.invite(sess.ID, "Ada", "").Token, testpeer.Options{Layers: simulcastLayers(t), Audio: true})
	ada := aw.You.ID

	msg, err := bo.ExpectWhere(h.ctx(5*time.Second), "offer", func(m testpeer.Message) bool {
		var o signaling.MsgOffer
		return m.Decode(&o) == nil && strings.Contains(o.SDP, "msid:"+ada)
	})
	if err != nil {
		t.Fatalf("Bo got no offer with Ada's tracks: %v", err)
	}
	var o signaling.MsgOffer
	if err := msg.Decode(&o); err != nil {
		t.Fatal(err)
	}
	if got := sectionsOf(t, o.SDP, ada); got["audio"] != 1 || got["video"] != 1 {
		t.Fatalf("the first offer with Ada's tracks has %d audio and %d video sections of hers, want 1 and 1", got["audio"], got["video"])
	}
	eventually(t, 5*time.Second, "Ada's audio and video reach Bo", func() bool {
		return bo.Packets(ada, "video") > 0 && bo.Packets(ada, "audio") > 0
	})
}

// A member's first video packet of a simulcast publisher starts a keyframe,
// also when its connection comes up long after the negotiation: nothing is
// sent before (Pion drops what is written earlier without a word, and the
// keyframe asked for at bind would be lost), and the keyframe is asked for
// when it is up.
func TestFirstVideoAMemberGetsIsAKeyframe(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	_, aw := h.join(h.invite(sess.ID, "Ada", "").Token, testpeer.Options{Layers: simulcastLayers(t)})
	for _, name := range []string{"Bo", "Cy"} {
		first := make(chan []byte, 1)
		h.join(h.invite(sess.ID, name, "").Token, testpeer.Options{HoldICE: 600 * time.Millisecond, OnTrack: func(stream, kind string) func(*rtp.Packet, time.Time) {
			if stream != aw.You.ID || kind != "video" {
				return nil
			}
			var once sync.Once
			return func(pkt *rtp.Packet, _ time.Time) {
				once.Do(func() { first <- append([]byte(nil), pkt.Payload...) })
			}
		}})
		select {
		case payload := <-first:
			var vp codecs.VP8Packet
			if _, err := vp.Unmarshal(payload); err != nil {
				t.Fatalf("%s: first video packet: %v", name, err)
			}
			if vp.S != 1 || vp.PID != 0 || len(vp.Payload) == 0 || vp.Payload[0]&1 != 0 {
				t.Fatalf("%s's first video packet is not the start of a keyframe (S=%d PID=%d)", name, vp.S, vp.PID)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s received no video", name)
		}
	}
}
