package sfu

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"go.uber.org/zap"
)

// offerLog is a Signaler that hands each offer to the test.
type offerLog struct{ offers chan string }

func (o *offerLog) SendOffer(sdp string)                         { o.offers <- sdp }
func (o *offerLog) SendCandidate(webrtc.ICECandidateInit)        {}
func (o *offerLog) SendPublishCandidate(webrtc.ICECandidateInit) {}
func (o *offerLog) SendLayers([]string)                          {}
func (o *offerLog) SendPaused([]string)                          {}
func (o *offerLog) SendSlots(map[string]string)                  {}
func (o *offerLog) PeerFailed()                                  {}

// client answers a peer's offers as a browser would, without connecting:
// negotiation needs no network.
type client struct {
	t  *testing.T
	pc *webrtc.PeerConnection
}

func newClient(t *testing.T) *client {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return &client{t: t, pc: pc}
}

func (c *client) answer(p *Peer, offer string) {
	c.t.Helper()
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		c.t.Fatal(err)
	}
	ans, err := c.pc.CreateAnswer(nil)
	if err == nil {
		err = c.pc.SetLocalDescription(ans)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	if err := p.HandleAnswer(ans.SDP); err != nil {
		c.t.Fatal(err)
	}
}

func nextOffer(t *testing.T, offers chan string, within time.Duration) (string, time.Time) {
	t.Helper()
	select {
	case sdp := <-offers:
		return sdp, time.Now()
	case <-time.After(within):
		t.Fatalf("no offer within %v", within)
		return "", time.Time{}
	}
}

// A burst of changes to what a peer receives costs it one more offer, not
// one per change, and that offer waits out minOfferGap after the last.
func TestChangesInsideTheGapShareOneOffer(t *testing.T) {
	router, err := NewRouter(Config{LoopbackOnly: true, DisableTCP: true}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = router.Close() })
	room := router.NewRoom("gap")
	sig := &offerLog{offers: make(chan string, 16)}
	p, err := room.Join("bo", sig)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t)
	p.Start()
	first, firstAt := nextOffer(t, sig.offers, 5*time.Second)
	c.answer(p, first)

	for range 5 {
		p.negotiate()
	}
	second, secondAt := nextOffer(t, sig.offers, 5*time.Second)
	if gap := secondAt.Sub(firstAt); gap < minOfferGap {
		t.Fatalf("the second offer came %v after the first, inside the %v gap", gap, minOfferGap)
	}
	c.answer(p, second)
	select {
	case sdp := <-sig.offers:
		t.Fatalf("five changes inside the gap made a third offer:\n%.200s", sdp)
	case <-time.After(2 * minOfferGap):
	}
	if got := router.Stats().Offers; got != 2 {
		t.Fatalf("offers counted: %d, want 2", got)
	}
	if !strings.Contains(second, "m=audio") {
		t.Fatal("the gathered offer lost the peer's own sections")
	}
}
