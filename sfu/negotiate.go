package sfu

import (
	"errors"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"
	"go.uber.org/zap"
)

// How a peer's receiving connection is negotiated: the server makes every
// offer. One offer is in flight at a time; what changes meanwhile is only
// noted, and one new offer follows the answer, at least minOfferGap after
// the last. Changes to what the peer receives (addSender, removeSender) are
// applied to the connection when the next offer is made, under negMu, so
// that the room never waits on Pion's SDP work.

// minOfferGap is the least time between two offers to one peer (more in a
// big room, see offerGapLocked). Changes inside it are gathered into the
// next offer: in a big room every join renegotiates every member, and an
// offer's size grows with the room, so joins arriving together cost one
// offer and answer each, not one per join. In a small room it is what a
// member waits at most to see a newcomer (250 ms made join p99 at 20 x 40
// about 350 ms; 100 ms makes it about 110 ms).
const minOfferGap = 100 * time.Millisecond

// gapPerSender is how much each track a peer receives adds to the gap
// between its offers: an offer and its answer cost both sides time in
// proportion to their sections (a few milliseconds each at a hundred
// members), and a burst of joins into a big room would otherwise take a
// core of the server's for renegotiation alone. With 100 members (about
// 200 tracks) offers are at least 0.8 s apart.
const gapPerSender = 4 * time.Millisecond

// offerGapLocked is the least time between two offers to p.
func (p *Peer) offerGapLocked() time.Duration {
	return max(minOfferGap, time.Duration(len(p.senders))*gapPerSender)
}

// Start sends the first offer.
func (p *Peer) Start() { p.negotiate() }

// negotiate asks for an offer: now, or after the answer to the one in
// flight, and not before minOfferGap since the last.
func (p *Peer) negotiate() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.pending = true
	now := p.dueLocked()
	p.mu.Unlock()
	if now {
		p.offer()
	}
}

// dueLocked tells whether a pending offer can be made now; when it must
// wait out the gap, a timer makes it then.
func (p *Peer) dueLocked() bool {
	if p.waitingAnswer || p.offerTimer != nil {
		return false
	}
	wait := time.Until(p.lastOffer.Add(p.offerGapLocked()))
	if wait <= 0 {
		return true
	}
	p.offerTimer = time.AfterFunc(wait, func() {
		p.mu.Lock()
		p.offerTimer = nil
		now := !p.closed && p.pending && p.dueLocked()
		p.mu.Unlock()
		if now {
			p.offer()
		}
	})
	return false
}

// added is a subscription waiting for its transceiver.
type added struct {
	f   *forwarder
	sub *subscription
}

// offer applies the noted changes to the connection and sends an offer, if
// one is still pending and none is in flight.
func (p *Peer) offer() {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	p.mu.Lock()
	if p.closed || p.waitingAnswer || !p.pending {
		p.mu.Unlock()
		return
	}
	p.waitingAnswer, p.pending = true, false
	var adds []added
	for f, sub := range p.senders {
		if sub.sender == nil {
			adds = append(adds, added{f, sub})
		}
	}
	p.mu.Unlock()

	for _, a := range adds {
		p.addTransceiver(a)
	}
	offer, err := p.pc.CreateOffer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(offer)
	}
	p.mu.Lock()
	closed := p.closed
	if err != nil {
		p.waitingAnswer = false
	} else {
		p.lastOffer = time.Now()
	}
	p.mu.Unlock()
	switch {
	case err != nil && !closed && !errors.Is(err, webrtc.ErrConnectionClosed):
		p.room.router.totals.negotiationFailures.Add(1)
		p.log.Warn("make offer", zap.Error(err))
	case err == nil && !closed:
		p.room.router.totals.offers.Add(1)
		p.sig.SendOffer(offer.SDP)
	}
}

// addTransceiver gives a new subscription its sender on the connection.
// Called with negMu held.
func (p *Peer) addTransceiver(a added) {
	tr, sender, err := p.sendOn(a.sub.down)
	p.mu.Lock()
	current := !p.closed && p.senders[a.f] == a.sub
	switch {
	case err != nil && current:
		// Not retried: the track stays away from this peer.
		delete(p.senders, a.f)
		a.f.removeDown(a.sub.down)
	case err == nil && current:
		a.sub.tr, a.sub.sender = tr, sender
	case err == nil && !p.closed:
		// Taken away again while it was being added: idle at once.
		p.parkLocked(&subscription{tr: tr, sender: sender, down: a.sub.down})
	}
	closed := p.closed
	p.mu.Unlock()
	switch {
	case err != nil:
		p.log.Warn("add forwarded track", zap.Error(err))
	case closed:
		// The connection closed meanwhile: a sender set on a reused
		// section after it closed is stopped by nobody else, and its
		// RTCP reader would wait for ever.
		_ = sender.Stop()
	default:
		go drainRTCP(sender, a.sub.down)
	}
}

// HandleAnswer applies the client's answer to the last offer.
func (p *Peer) HandleAnswer(sdp string) error {
	p.negMu.Lock()
	p.mu.Lock()
	closed, waiting := p.closed, p.waitingAnswer
	p.mu.Unlock()
	if closed || !waiting {
		p.negMu.Unlock()
		if closed {
			return ErrPeerClosed
		}
		return ErrNoOffer
	}
	err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp})
	if err != nil {
		p.room.router.totals.negotiationFailures.Add(1)
		// Take the offer back and make a fresh one at once, so the client
		// can answer again; the connection stays usable.
		rbErr := p.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
		p.mu.Lock()
		p.waitingAnswer, p.pending = false, true
		p.mu.Unlock()
		p.negMu.Unlock()
		if rbErr == nil {
			p.offer()
		} else {
			p.log.Warn("roll back offer", zap.Error(rbErr))
		}
		return fmt.Errorf("%w: %v", ErrBadAnswer, err)
	}
	p.candidates.remoteApplied(p.pc, p.log)
	p.mu.Lock()
	p.waitingAnswer = false
	now := !p.closed && p.pending && p.dueLocked()
	p.mu.Unlock()
	p.negMu.Unlock()
	if now {
		p.offer()
	}
	return nil
}

// AddCandidate adds a candidate the client trickled.
func (p *Peer) AddCandidate(c webrtc.ICECandidateInit) error {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return ErrPeerClosed
	}
	return p.candidates.add(p.pc, c, "answer", p.room.router.reach)
}
