package testpeer

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Slots (protocol v2): a peer that asks for them receives a fixed set of
// tracks, slot-v0… and slot-a0…, and a slots message saying which
// participant each carries. The peer counts and hands on every packet as
// the participant's, so tests and the load tool see publishers, not slots.

// slotRoute is where a slot's packets go while it carries one participant.
type slotRoute struct {
	mu    sync.Mutex // a participant moved between slots may briefly arrive on two
	cnt   *Counter
	onRTP func(*rtp.Packet, time.Time)
}

// slotRoutes maps each slot to the participant it carries now.
type slotRoutes struct {
	mu     sync.Mutex
	bySlot map[string]*atomic.Pointer[slotRoute]
	routes map[string]*slotRoute // by "participant/kind", made once
	owner  map[string]string     // slot -> participant, as last told
}

func isSlot(stream string) bool { return strings.HasPrefix(stream, "slot-") }

// slotKind is the media kind of a slot, from its name.
func slotKind(name string) string {
	if strings.HasPrefix(name, "slot-a") {
		return "audio"
	}
	return "video"
}

// slot is the route pointer of one slot, made on first use.
func (p *Peer) slot(name string) *atomic.Pointer[slotRoute] {
	s := &p.slotRoutes
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bySlot == nil {
		s.bySlot = map[string]*atomic.Pointer[slotRoute]{}
		s.routes = map[string]*slotRoute{}
		s.owner = map[string]string{}
	}
	ptr := s.bySlot[name]
	if ptr == nil {
		ptr = &atomic.Pointer[slotRoute]{}
		s.bySlot[name] = ptr
	}
	return ptr
}

// slotsNotice applies a slots message.
func (p *Peer) slotsNotice(msg Message, onTrack func(string, string) func(*rtp.Packet, time.Time)) {
	var m struct {
		Slots map[string]*string `json:"slots"`
	}
	if msg.Decode(&m) != nil {
		return
	}
	for name, id := range m.Slots {
		ptr := p.slot(name)
		if id == nil {
			ptr.Store(nil)
			p.setOwner(name, "")
			continue
		}
		kind := slotKind(name)
		key := *id + "/" + kind
		p.slotRoutes.mu.Lock()
		r := p.slotRoutes.routes[key]
		p.slotRoutes.mu.Unlock()
		if r == nil {
			p.mu.Lock()
			cnt := p.received[key]
			if cnt == nil {
				cnt = &Counter{}
				p.received[key] = cnt
			}
			p.mu.Unlock()
			r = &slotRoute{cnt: cnt}
			if onTrack != nil {
				r.onRTP = onTrack(*id, kind)
			}
			p.slotRoutes.mu.Lock()
			p.slotRoutes.routes[key] = r
			p.slotRoutes.mu.Unlock()
		}
		ptr.Store(r)
		p.setOwner(name, *id)
	}
}

func (p *Peer) setOwner(name, id string) {
	p.slotRoutes.mu.Lock()
	defer p.slotRoutes.mu.Unlock()
	p.slotRoutes.owner[name] = id
}

// SlotOwners is which participant each slot carries, as the server last
// said ("" for none).
func (p *Peer) SlotOwners() map[string]string {
	p.slotRoutes.mu.Lock()
	defer p.slotRoutes.mu.Unlock()
	out := make(map[string]string, len(p.slotRoutes.owner))
	for k, v := range p.slotRoutes.owner {
		out[k] = v
	}
	return out
}

// readSlot reads one slot's track, handing each packet to the participant
// it carries now.
func (p *Peer) readSlot(name string, read func([]byte) (int, error)) {
	ptr := p.slot(name)
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, err := read(buf)
		if err != nil {
			return
		}
		r := ptr.Load()
		if r == nil {
			continue
		}
		now := time.Now()
		r.mu.Lock()
		r.cnt.First.CompareAndSwap(0, now.UnixNano())
		r.cnt.Packets.Add(1)
		r.cnt.Bytes.Add(uint64(n))
		if r.onRTP != nil && pkt.Unmarshal(buf[:n]) == nil {
			r.onRTP(&pkt, now)
		}
		r.mu.Unlock()
	}
}
