package sfu

import (
	"fmt"

	"github.com/pion/webrtc/v4"
)

// Sections are reused. A v1 subscriber receives each published track in an
// m-section of its own. When the track ends, its section is kept as it is,
// idle: it sends nothing, and nothing is renegotiated for it. The next track
// of the same kind this subscriber is to receive takes an idle section over
// instead of adding one: a new sender on the same transceiver, so the next
// offer gives the section a new SSRC and the new publisher's stream id.
// Clients see a new track in that section (Pion fires OnTrack for the new
// SSRC, browsers fire track for the new stream; a participant who comes
// back keeps their stream id, and browsers then keep the same MediaStream).
// A subscriber's sections are then as many as the tracks it received at
// once, not every track it ever received: reconnects and churn do not grow
// its SDP, and a leave costs the others no offer at all.
//
// An idle section is not made inactive: Pion as an answerer stops a
// transceiver the offer makes inactive, for good, so the section could
// never carry a track again.

// parkLocked keeps sub's section for a later track. Called with p.mu held.
func (p *Peer) parkLocked(sub *subscription) {
	sub.down.retarget(nil)
	p.idle = append(p.idle, sub)
}

// takeIdle returns an idle section of kind, nil when there is none.
func (p *Peer) takeIdle(kind webrtc.RTPCodecType) *subscription {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, sub := range p.idle {
		if sub.down.kind == kind {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return sub
		}
	}
	return nil
}

// sendOn puts track on the connection: in an idle section of its kind, else
// in a new one. Called with negMu held.
func (p *Peer) sendOn(track *downTrack) (*webrtc.RTPTransceiver, *webrtc.RTPSender, error) {
	for {
		old := p.takeIdle(track.kind)
		if old == nil {
			break
		}
		s, err := p.room.router.api.NewRTPSender(track, p.pc.SCTP().Transport())
		if err == nil {
			if err = old.tr.SetSender(s, track); err != nil {
				_ = s.Stop()
			}
		}
		// The old sender stops either way (its RTCP reader with it).
		_ = old.sender.Stop()
		if err == nil {
			return old.tr, s, nil
		}
	}
	tr, err := p.pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return nil, nil, fmt.Errorf("add transceiver: %w", err)
	}
	return tr, tr.Sender(), nil
}
