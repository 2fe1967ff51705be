package sfu

import (
	"errors"
	"fmt"
	"sync"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"go.uber.org/zap"
)

// ErrBadOffer is a client's publish offer that was refused.
var ErrBadOffer = errors.New("publish offer refused")

// publishConn is the connection a client makes to publish on (its offer, the
// server's answer): how a browser sends simulcast, which Pion can receive
// only as the answerer. Subscriptions stay on the peer's main connection,
// where the server makes every offer.
type publishConn struct {
	mu         sync.Mutex
	pc         *webrtc.PeerConnection
	closed     bool
	candidates candidateQueue
}

// HandlePublishOffer applies the client's offer for what it publishes (at
// most one audio and one video section, simulcast allowed) and returns the
// answer. A later offer renegotiates the same connection.
func (p *Peer) HandlePublishOffer(offer string) (string, error) {
	if err := checkPublishOffer(offer); err != nil {
		return "", err
	}
	c := &p.pub
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return "", ErrPeerClosed
	}
	if c.pc == nil {
		pc, err := p.room.router.api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			return "", fmt.Errorf("new publish connection: %w", err)
		}
		pc.OnTrack(func(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
			p.room.publish(p, pc, remote, receiver)
		})
		pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
			if cand != nil {
				p.sig.SendPublishCandidate(cand.ToJSON())
			}
		})
		pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
			p.log.Debug("publish connection state", zap.String("state", s.String()))
			if s == webrtc.PeerConnectionStateFailed {
				p.sig.PeerFailed()
			}
		})
		c.pc = pc
	}
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		p.room.router.totals.negotiationFailures.Add(1)
		return "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	answer, err := c.pc.CreateAnswer(nil)
	if err == nil {
		err = c.pc.SetLocalDescription(answer)
	}
	if err != nil {
		p.room.router.totals.negotiationFailures.Add(1)
		return "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	c.candidates.remoteApplied(c.pc, p.log)
	return answer.SDP, nil
}

// AddPublishCandidate adds a candidate the client trickled for its publish
// connection.
func (p *Peer) AddPublishCandidate(cand webrtc.ICECandidateInit) error {
	c := &p.pub
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrPeerClosed
	}
	return c.candidates.add(c.pc, cand, "offer")
}

func (c *publishConn) close(r *Router) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	c.candidates = candidateQueue{}
	if c.pc != nil {
		r.closePC(c.pc)
	}
}

// checkPublishOffer refuses an offer that is not SDP or that would publish
// more than one audio and one video track.
func checkPublishOffer(offer string) error {
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(offer); err != nil {
		return fmt.Errorf("%w: not SDP: %v", ErrBadOffer, err)
	}
	count := map[string]int{}
	for _, m := range desc.MediaDescriptions {
		count[m.MediaName.Media]++
	}
	if count["audio"] > 1 || count["video"] > 1 || len(desc.MediaDescriptions) > count["audio"]+count["video"] {
		return fmt.Errorf("%w: publish at most one audio and one video section", ErrBadOffer)
	}
	return nil
}
