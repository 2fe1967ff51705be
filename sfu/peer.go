package sfu

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor/pkg/cc"
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

// maxQueuedCandidates bounds the candidates held before the first answer.
const maxQueuedCandidates = 64

// Peer is one participant's connection: what they publish and what they
// receive.
//
// Negotiation is serialized per peer (see negotiate.go). Its lock, negMu, is
// held across Pion's slow work on the connection (offers, answers,
// transceivers); mu only across quick changes to the peer's state, so that
// the room, which takes mu of every peer under its own lock, never waits for
// a peer's SDP.
type Peer struct {
	room *Room
	id   string
	pc   *webrtc.PeerConnection
	sig  Signaler
	log  *zap.Logger

	muted   atomic.Bool           // host mute: this peer's audio is not forwarded
	ingress *ingress              // what it may publish (ingress.go)
	egress  egress                // what its downTracks share: connection up, transport-wide numbering
	bwe     cc.BandwidthEstimator // of its receiving connection; nil when none

	negMu      sync.Mutex     // serializes work on pc; taken before mu, never under Room.mu
	candidates candidateQueue // under negMu

	mu            sync.Mutex
	closed        bool
	waitingAnswer bool
	pending       bool
	lastOffer     time.Time   // when the last offer was sent
	offerTimer    *time.Timer // sends the pending offer once minOfferGap has passed
	senders       map[*forwarder]*subscription
	idle          []*subscription // sections whose track ended, to reuse (reuse.go)
	tiles         map[string]Tile // by publisher id
	// pausedForBandwidth are the publishers whose video it does not get
	// because its estimate has no room for them, sorted; what it was told.
	pausedForBandwidth []string

	// Whether its videos are held to its estimate, and since when the
	// estimate has had room for all it asks (owned by the allocator, under
	// Room.mu).
	limited       bool
	calmSince     int64
	lastSpatialUp int64 // when a video last went up a layer, held
	probe         prober
	lineNow       lineMeter // its line lately (line.go)

	pub publishConn // what a v2 client publishes on its own connection

	slots *slotSet // nil unless it asked for slots; set before it joins
}

// subscription is one forwarded track this peer receives. Its sender and
// transceiver are nil until the next offer adds it to the connection.
type subscription struct {
	tr     *webrtc.RTPTransceiver
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
		ingress: newIngress(r.router.publishBitrate),
	}
	p.egress.padding.total = &r.router.totals.padding
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
		switch s {
		case webrtc.PeerConnectionStateConnected:
			p.connectedNow()
		case webrtc.PeerConnectionStateFailed:
			sig.PeerFailed()
		}
	})
	return p
}

// connectedNow lets media through once the receiving connection is up,
// and asks for a keyframe of every video it receives: what was written
// before went nowhere.
func (p *Peer) connectedNow() {
	if p.egress.up.Swap(true) {
		return
	}
	p.mu.Lock()
	downs := make([]*downTrack, 0, len(p.senders))
	for _, sub := range p.senders {
		if !sub.down.audio {
			downs = append(downs, sub.down)
		}
	}
	p.mu.Unlock()
	for _, d := range downs {
		d.requestKeyframe()
	}
}

// SetMuted turns forwarding of this peer's audio off (true) or on.
func (p *Peer) SetMuted(m bool) { p.muted.Store(m) }

// addSender adds f's track to what this peer receives, from its next offer;
// the caller renegotiates when it returns true. Called with Room.mu held: it
// only notes the change.
func (p *Peer) addSender(f *forwarder) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if p.slots != nil {
		// Placed in a slot by the next allocation; nothing to negotiate.
		p.slots.offered[f] = struct{}{}
		return false
	}
	if _, ok := p.senders[f]; ok {
		return false
	}
	d := newDownTrack(f, &p.egress)
	p.senders[f] = &subscription{down: d}
	f.addDown(d)
	return true
}

// removeSender stops sending f's track; its section waits, idle, for the
// next track (reuse.go), so nothing is renegotiated: it returns false but
// for a slot peer. Called with Room.mu held.
func (p *Peer) removeSender(f *forwarder) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.slots != nil {
		if !p.closed {
			p.dropFromSlotsLocked(f)
		}
		return false
	}
	sub, ok := p.senders[f]
	if !ok {
		return false
	}
	delete(p.senders, f)
	f.removeDown(sub.down)
	if !p.closed && sub.sender != nil {
		p.parkLocked(sub)
	}
	return false
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
				d.requestKeyframe()
			case *rtcp.TransportLayerNack:
				if f := d.source(); f != nil {
					f.resend(d, p)
				}
			case *rtcp.TransportLayerCC:
				d.conn.feedback.Store(true)
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
	p.idle = nil
	p.mu.Unlock()
	p.room.router.closePC(p.pc)
	p.pub.close(p.room.router)
}
