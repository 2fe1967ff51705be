package sfu

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pion/webrtc/v4"
	"go.uber.org/zap"
)

// ErrClosed is returned when joining a room that was closed.
var ErrClosed = errors.New("room closed")

// Signaler carries the SFU's half of the signaling to one participant. Its
// methods must not block: they queue.
type Signaler interface {
	SendOffer(sdp string)
	SendCandidate(c webrtc.ICECandidateInit)
	// SendPublishCandidate carries a candidate of the publish connection.
	SendPublishCandidate(c webrtc.ICECandidateInit)
	// SendLayers tells a simulcast publisher which of its video's layers
	// (by rid) anyone receives; it may stop encoding the others.
	SendLayers(rids []string)
	// SendPaused tells a subscriber whose videos it does not receive
	// because its connection has no room for them (by publisher id; empty
	// when it gets all again).
	SendPaused(publishers []string)
	// SendSlots tells a slot subscriber which publisher each of its slots
	// carries now (by slot stream id; "" for none).
	SendSlots(slots map[string]string)
	// PeerFailed says a media connection died (ICE failed); the participant
	// should reconnect.
	PeerFailed()
}

// Room forwards every published track to every other peer in it.
//
// Lock order: Room.mu, then Peer.mu. Offers are made outside Room.mu.
type Room struct {
	router *Router
	id     string
	log    *zap.Logger

	audioOff atomic.Bool   // the quiet of the work phase
	trackSeq atomic.Uint64 // numbers the room's forwarders, for their track ids
	presence atomic.Bool   // presence video: low layers at a low frame rate
	stop     chan struct{}

	mu     sync.Mutex
	peers  map[string]*Peer
	tracks map[*forwarder]struct{}
	closed bool
}

func newRoom(r *Router, id string) *Room {
	room := &Room{
		router: r,
		id:     id,
		log:    r.log.With(zap.String("room", id)),
		peers:  make(map[string]*Peer),
		tracks: make(map[*forwarder]struct{}),
		stop:   make(chan struct{}),
	}
	r.totals.addRoom(room)
	go room.allocLoop()
	return room
}

// SetPresence turns presence video on or off: on, every subscriber receives
// each publisher's lowest layer at its base frame rate, except the tile it
// pinned. The change applies at once (a switch up waits for a keyframe,
// which is asked for).
func (r *Room) SetPresence(on bool) {
	if r.presence.Swap(on) != on {
		r.allocate()
	}
}

// SetAudioForwarded turns forwarding of everyone's audio on or off. Off, every
// audio packet is dropped in the forwarding loop, whatever clients send.
func (r *Room) SetAudioForwarded(on bool) { r.audioOff.Store(!on) }

// Join adds a peer for participant id. It makes the peer connection and adds
// every track already published, but sends no offer until Start, so the
// caller can hand the peer to whoever routes answers first. A participant
// already in the room must Leave first.
func (r *Room) Join(id string, sig Signaler) (*Peer, error) {
	return r.JoinWithSlots(id, sig, Slots{})
}

// JoinWithSlots is Join for a subscriber that asked for slots (see
// slots.go); Slots{} is Join.
func (r *Room) JoinWithSlots(id string, sig Signaler, slots Slots) (*Peer, error) {
	slots, err := slots.Check()
	if err != nil {
		return nil, err
	}
	pc, bwe, err := r.router.newPC()
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	p := newPeer(r, id, pc, sig)
	p.bwe = bwe
	if c, ok := bwe.(*countedBWE); ok {
		c.sizes.Store(&p.egress.sizes)
	}
	if slots.Video > 0 {
		if err := p.addSlots(slots); err != nil {
			r.router.closePC(pc)
			return nil, err
		}
	}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		_, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		if err != nil {
			r.router.closePC(pc)
			return nil, fmt.Errorf("add %s receiver: %w", kind, err)
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		r.router.closePC(pc)
		return nil, ErrClosed
	}
	if old := r.peers[id]; old != nil {
		r.router.closePC(pc)
		return nil, fmt.Errorf("participant %s already has a peer", id)
	}
	r.peers[id] = p
	for f := range r.tracks {
		if f.publisher != p {
			p.addSender(f)
		}
	}
	return p, nil
}

// Reallocate looks again at what everyone receives, after a peer's tiles
// changed.
func (r *Room) Reallocate() { r.allocate() }

// Leave removes a peer, stops what it published and closes its connection.
func (r *Room) Leave(p *Peer) {
	r.mu.Lock()
	if r.peers[p.id] == p {
		delete(r.peers, p.id)
	}
	var gone []*forwarder
	for f := range r.tracks {
		if f.publisher == p {
			gone = append(gone, f)
		}
	}
	r.mu.Unlock()
	for _, f := range gone {
		r.unpublish(f)
	}
	p.close()
}

// Close removes every peer. A closed room takes no new peers.
func (r *Room) Close() {
	r.mu.Lock()
	if !r.closed {
		close(r.stop)
	}
	r.closed = true
	peers := make([]*Peer, 0, len(r.peers))
	for _, p := range r.peers {
		peers = append(peers, p)
	}
	r.mu.Unlock()
	for _, p := range peers {
		r.Leave(p)
	}
	r.router.totals.removeRoom(r)
}

// publish starts forwarding a track that p sends on pc: every other peer
// gets it. The layers of one simulcast track arrive one by one, on the same
// receiver, and join the same forwarder.
func (r *Room) publish(p *Peer, pc *webrtc.PeerConnection, remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	r.mu.Lock()
	if r.closed || r.peers[p.id] != p {
		r.mu.Unlock()
		return
	}
	f := r.trackOf(p, receiver, remote.Kind())
	fresh := f == nil
	if fresh {
		f = newForwarder(r, p, pc, receiver, remote.Kind(), remote.Codec().RTPCodecCapability, receivedRIDs(receiver, remote))
	}
	l, ok := f.addLayer(remote)
	if !ok {
		r.mu.Unlock()
		r.log.Warn("cannot place layer", zap.String("participant", p.id), zap.String("rid", remote.RID()))
		return
	}
	var renegotiate []*Peer
	if fresh {
		r.tracks[f] = struct{}{}
		for _, sub := range r.peers {
			if sub != p && sub.addSender(f) {
				renegotiate = append(renegotiate, sub)
			}
		}
	}
	r.mu.Unlock()
	r.log.Debug("track published", zap.String("participant", p.id), zap.String("kind", remote.Kind().String()), zap.String("rid", remote.RID()))
	go f.run(l)
	for _, sub := range renegotiate {
		sub.negotiate()
	}
	r.allocate()
}

// trackOf is the forwarder of what p publishes on receiver, nil when there
// is none yet. Called with r.mu held.
func (r *Room) trackOf(p *Peer, receiver *webrtc.RTPReceiver, kind webrtc.RTPCodecType) *forwarder {
	for t := range r.tracks {
		if t.receiver == receiver && t.publisher == p && t.kind == kind {
			return t
		}
	}
	return nil
}

// trackAt is the forwarder announced for media section mid of pc, nil when
// there is none. Called with r.mu held.
func (r *Room) trackAt(pc *webrtc.PeerConnection, mid string) *forwarder {
	for t := range r.tracks {
		if t.pc == pc && t.mid != "" && t.mid == mid {
			return t
		}
	}
	return nil
}

// unpublish stops forwarding f and removes it from every subscriber. It is
// safe to call more than once.
func (r *Room) unpublish(f *forwarder) {
	// The router's totals lock is taken first, as Stats does, so the
	// forwarder is counted either live or ended, never both or neither.
	r.router.totals.mu.Lock()
	r.mu.Lock()
	if _, ok := r.tracks[f]; !ok {
		r.mu.Unlock()
		r.router.totals.mu.Unlock()
		return
	}
	delete(r.tracks, f)
	r.router.totals.ended.addForwarder(f)
	r.router.totals.mu.Unlock()
	var renegotiate []*Peer
	for _, sub := range r.peers {
		if sub.removeSender(f) {
			renegotiate = append(renegotiate, sub)
		}
	}
	r.mu.Unlock()
	for _, sub := range renegotiate {
		sub.negotiate()
	}
}
