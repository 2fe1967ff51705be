package sfu

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"go.uber.org/zap"
)

// Errors a client's answer or candidate can meet.
var (
	ErrNoOffer    = errors.New("no offer is waiting for an answer")
	ErrBadAnswer  = errors.New("answer refused")
	ErrBadICE     = errors.New("candidate refused")
	ErrPeerClosed = errors.New("peer closed")
)

// minOfferGap is the least time between two offers to one peer. Changes
// inside it are gathered into the next offer: in a big room every join
// renegotiates every member, and an offer's size grows with the room, so
// joins arriving together cost one offer and answer each, not one per join.
const minOfferGap = 250 * time.Millisecond

// maxQueuedCandidates bounds the candidates held before the first answer.
const maxQueuedCandidates = 64

// Peer is one participant's connection: what they publish and what they
// receive.
//
// Negotiation is serialized per peer: while an offer waits for its answer, any
// further need to renegotiate is only noted, and one new offer follows the
// answer, at least minOfferGap after the last.
type Peer struct {
	room *Room
	id   string
	pc   *webrtc.PeerConnection
	sig  Signaler
	log  *zap.Logger

	muted atomic.Bool // host mute: this peer's audio is not forwarded

	mu            sync.Mutex
	closed        bool
	waitingAnswer bool
	pending       bool
	lastOffer     time.Time   // when the last offer was sent
	offerTimer    *time.Timer // sends the pending offer once minOfferGap has passed
	candidates    candidateQueue
	senders       map[*forwarder]*subscription
	tiles         map[string]Tile // by publisher id

	pub publishConn // what a v2 client publishes on its own connection
}

// subscription is one forwarded track this peer receives.
type subscription struct {
	sender *webrtc.RTPSender
	down   *downTrack
}

func newPeer(r *Room, id string, pc *webrtc.PeerConnection, sig Signaler) *Peer {
	p := &Peer{
		room:    r,
		id:      id,
		pc:      pc,
		sig:     sig,
		log:     r.log.With(zap.String("participant", id)),
		senders: make(map[*forwarder]*subscription),
		tiles:   make(map[string]Tile),
	}
	pc.OnTrack(func(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
		r.publish(p, pc, remote, receiver)
	})
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			sig.SendCandidate(c.ToJSON())
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		p.log.Debug("connection state", zap.String("state", s.String()))
		if s == webrtc.PeerConnectionStateFailed {
			sig.PeerFailed()
		}
	})
	return p
}

// SetMuted turns forwarding of this peer's audio off (true) or on.
func (p *Peer) SetMuted(m bool) { p.muted.Store(m) }

// Start sends the first offer.
func (p *Peer) Start() { p.negotiate() }

// negotiate sends an offer now, or after the answer to the one in flight.
func (p *Peer) negotiate() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if p.waitingAnswer {
		p.pending = true
		return
	}
	p.offerSoonLocked()
}

// offerSoonLocked offers now, or once minOfferGap has passed since the last
// offer; what changes until then goes into the same offer.
func (p *Peer) offerSoonLocked() {
	wait := time.Until(p.lastOffer.Add(minOfferGap))
	if wait <= 0 {
		p.offerLocked()
		return
	}
	p.pending = true
	if p.offerTimer == nil {
		p.offerTimer = time.AfterFunc(wait, func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.offerTimer = nil
			if !p.closed && !p.waitingAnswer && p.pending {
				p.offerLocked()
			}
		})
	}
}

func (p *Peer) offerLocked() {
	offer, err := p.pc.CreateOffer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(offer)
	}
	if err != nil {
		if !p.closed && p.pc.ConnectionState() != webrtc.PeerConnectionStateClosed {
			p.room.router.totals.negotiationFailures.Add(1)
			p.log.Warn("make offer", zap.Error(err))
		}
		return
	}
	p.waitingAnswer = true
	p.pending = false
	p.lastOffer = time.Now()
	p.room.router.totals.offers.Add(1)
	p.sig.SendOffer(offer.SDP)
}

// HandleAnswer applies the client's answer to the last offer.
func (p *Peer) HandleAnswer(sdp string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrPeerClosed
	}
	if !p.waitingAnswer {
		return ErrNoOffer
	}
	err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp})
	if err != nil {
		p.room.router.totals.negotiationFailures.Add(1)
		// Take the offer back and make a fresh one, so the client can answer
		// again; the connection stays usable.
		p.waitingAnswer = false
		if rbErr := p.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback}); rbErr == nil {
			p.offerLocked()
		} else {
			p.log.Warn("roll back offer", zap.Error(rbErr))
		}
		return fmt.Errorf("%w: %v", ErrBadAnswer, err)
	}
	p.waitingAnswer = false
	p.candidates.remoteApplied(p.pc, p.log)
	if p.pending {
		p.offerSoonLocked()
	}
	return nil
}

// AddCandidate adds a candidate the client trickled.
func (p *Peer) AddCandidate(c webrtc.ICECandidateInit) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrPeerClosed
	}
	return p.candidates.add(p.pc, c, "answer")
}

// addSender adds f's track to what this peer receives; the caller
// renegotiates when it returns true. Called with Room.mu held.
func (p *Peer) addSender(f *forwarder) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if _, ok := p.senders[f]; ok {
		return false
	}
	d := newDownTrack(f)
	tr, err := p.pc.AddTransceiverFromTrack(d, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		p.log.Warn("add forwarded track", zap.Error(err))
		return false
	}
	sender := tr.Sender()
	p.senders[f] = &subscription{sender: sender, down: d}
	f.addDown(d)
	go drainRTCP(sender, d)
	return true
}

// removeSender stops sending f's track; the caller renegotiates when it
// returns true. Called with Room.mu held.
func (p *Peer) removeSender(f *forwarder) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	sub, ok := p.senders[f]
	if !ok {
		return false
	}
	delete(p.senders, f)
	f.removeDown(sub.down)
	if p.closed {
		return false
	}
	if err := p.pc.RemoveTrack(sub.sender); err != nil {
		p.log.Debug("remove forwarded track", zap.Error(err))
	}
	return true
}

// subscription returns this peer's downTrack of f and the tile it shows of
// f's publisher; a nil downTrack when it does not receive f. Called with
// Room.mu held.
func (p *Peer) subscription(f *forwarder) (*downTrack, Tile) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sub := p.senders[f]
	if sub == nil {
		return nil, Tile{}
	}
	t, ok := p.tiles[f.publisher.id]
	if !ok {
		t = defaultTile()
	}
	return sub.down, t
}

// SetTiles records what this peer shows of each publisher, by participant
// id; publishers it does not name keep what they had. The room applies it
// at its next allocation (Room.Reallocate applies it at once).
func (p *Peer) SetTiles(tiles map[string]Tile) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, t := range tiles {
		if len(p.tiles) >= MaxTiles {
			if _, ok := p.tiles[id]; !ok {
				continue
			}
		}
		p.tiles[id] = t
	}
}

// MaxTiles bounds the tiles one peer may describe.
const MaxTiles = 1024

// drainRTCP reads what a subscriber says about a forwarded track: its NACKs
// are answered from the layer's cache, its keyframe requests turned into
// one to the publisher. It ends when the sender stops.
func drainRTCP(sender *webrtc.RTPSender, d *downTrack) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch p := pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				d.f.requestKeyframe(int(d.target.Load()))
			case *rtcp.TransportLayerNack:
				d.f.resend(d, p)
			}
		}
	}
}

func (p *Peer) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	if p.offerTimer != nil {
		p.offerTimer.Stop()
		p.offerTimer = nil
	}
	for f, sub := range p.senders {
		f.removeDown(sub.down)
	}
	p.senders = nil
	p.candidates = candidateQueue{}
	p.mu.Unlock()
	p.room.router.closePC(p.pc)
	p.pub.close(p.room.router)
}
