package sfu

import (
	"errors"
	"fmt"
	"strings"
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
	desc, err := checkPublishOffer(offer)
	if err != nil {
		return "", err
	}
	pc, answer, err := p.answerPublish(offer)
	if err != nil {
		return "", err
	}
	p.room.announce(p, pc, desc)
	return answer, nil
}

// answerPublish applies a publish offer on the publish connection, made at
// the first offer, and returns the connection and its answer.
func (p *Peer) answerPublish(offer string) (*webrtc.PeerConnection, string, error) {
	c := &p.pub
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, "", ErrPeerClosed
	}
	if c.pc == nil {
		// What it receives needs no estimate: the publisher's own
		// estimator works from the server's feedback.
		pc, _, err := p.room.router.newPC()
		if err != nil {
			return nil, "", fmt.Errorf("new publish connection: %w", err)
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
		return nil, "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	answer, err := c.pc.CreateAnswer(nil)
	if err == nil {
		err = c.pc.SetLocalDescription(answer)
	}
	if err != nil {
		p.room.router.totals.negotiationFailures.Add(1)
		return nil, "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	c.candidates.remoteApplied(c.pc, p.log)
	return c.pc, answer.SDP, nil
}

// announce makes the forwarders of what a publish offer says p sends, before
// their first packet, so that every other member gets all of them in one
// renegotiation, made while the publisher's own connection is still being
// set up (its tracks arrive one by one, each layer on its own, much later).
// A section that no longer sends ends its forwarder if nothing arrived on it.
func (r *Room) announce(p *Peer, pc *webrtc.PeerConnection, desc *sdp.SessionDescription) {
	sections := make(map[string]*sdp.MediaDescription, len(desc.MediaDescriptions))
	for _, m := range desc.MediaDescriptions {
		if mid, ok := m.Attribute(sdp.AttrKeyMID); ok {
			sections[mid] = m
		}
	}
	r.mu.Lock()
	if r.closed || r.peers[p.id] != p {
		r.mu.Unlock()
		return
	}
	var fresh, silent []*forwarder
	for _, tr := range pc.GetTransceivers() {
		recv := tr.Receiver()
		m := sections[tr.Mid()]
		if recv == nil || m == nil {
			continue
		}
		f := r.trackOf(p, recv, tr.Kind())
		if f == nil {
			// Pion gives a section that stopped sending a new receiver.
			f = r.trackAt(pc, tr.Mid())
		}
		switch {
		case f == nil && sends(m):
			codec := codecOf(recv, tr.Kind())
			f = newForwarder(r, p, pc, recv, tr.Kind(), codec, sendRIDs(m))
			f.mid = tr.Mid()
			r.tracks[f] = struct{}{}
			fresh = append(fresh, f)
		case f != nil && !sends(m) && f.live.Load() == 0:
			silent = append(silent, f)
		}
	}
	var renegotiate []*Peer
	for _, sub := range r.peers {
		if sub == p {
			continue
		}
		added := false
		for _, f := range fresh {
			added = sub.addSender(f) || added
		}
		if added {
			renegotiate = append(renegotiate, sub)
		}
	}
	r.mu.Unlock()
	for _, f := range silent {
		r.unpublish(f)
	}
	for _, sub := range renegotiate {
		sub.negotiate()
	}
}

// sends tells whether the client sends on an offer's media section.
func sends(m *sdp.MediaDescription) bool {
	if m.MediaName.Port.Value == 0 {
		return false
	}
	for _, a := range m.Attributes {
		switch a.Key {
		case "sendonly", "sendrecv":
			return true
		case "recvonly", "inactive":
			return false
		}
	}
	return true // sendrecv is the default
}

// sendRIDs are the rids a media section sends, in order (RFC 8851).
func sendRIDs(m *sdp.MediaDescription) []string {
	var rids []string
	for _, a := range m.Attributes {
		if a.Key != "rid" {
			continue
		}
		f := strings.Fields(a.Value)
		if len(f) >= 2 && f[1] == "send" && len(rids) < maxLayers {
			rids = append(rids, f[0])
		}
	}
	return rids
}

// codecOf is the codec a receiver negotiated, or the one codec the router
// registers for its kind.
func codecOf(recv *webrtc.RTPReceiver, kind webrtc.RTPCodecType) webrtc.RTPCodecCapability {
	if cs := recv.GetParameters().Codecs; len(cs) > 0 {
		return cs[0].RTPCodecCapability
	}
	if kind == webrtc.RTPCodecTypeAudio {
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}
	}
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}
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
	return c.candidates.add(c.pc, cand, "offer", p.room.router.reach)
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
// more than one audio and one video track; else it returns the parsed offer.
func checkPublishOffer(offer string) (*sdp.SessionDescription, error) {
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(offer); err != nil {
		return nil, fmt.Errorf("%w: not SDP: %v", ErrBadOffer, err)
	}
	count := map[string]int{}
	for _, m := range desc.MediaDescriptions {
		count[m.MediaName.Media]++
	}
	if count["audio"] > 1 || count["video"] > 1 || len(desc.MediaDescriptions) > count["audio"]+count["video"] {
		return nil, fmt.Errorf("%w: publish at most one audio and one video section", ErrBadOffer)
	}
	return &desc, nil
}
