package sfu

import "time"

// Tile is what a subscriber shows of one publisher's video.
type Tile struct {
	Visible bool
	// Width and Height are the tile's size in device pixels; 0 when not
	// known, which asks for the best layer.
	Width, Height int
	// Pinned is the tile the subscriber enlarged: in presence mode it still
	// gets the layer its size asks for.
	Pinned bool
}

// defaultTile is what a subscriber gets of a publisher it said nothing
// about: everything, as before tiles existed.
func defaultTile() Tile { return Tile{Visible: true} }

// allocInterval is how often a room looks again at what each subscriber
// should receive: layers start and stop at their publishers.
const allocInterval = 500 * time.Millisecond

// flowingFor is how long after its last packet a layer still counts as sent.
const flowingFor = 1500 * time.Millisecond

// presenceTID is the temporal layer presence mode keeps: the base layer, a
// quarter of the frame rate with the usual three temporal layers.
const presenceTID = 0

// smallTile and mediumTile are the widths, in device pixels, up to which a
// tile asks for the low and the middle layer when the layers' sizes are not
// yet known (Galène's rule of thumb: 320×240 or less is small).
const (
	smallTile  = 320
	mediumTile = 640
)

// desired is the layer and temporal cap tile asks of f, noLayer for none.
func (f *forwarder) desired(t Tile, presence bool) (layer, tid int) {
	if !t.Visible {
		return noLayer, allTemporal
	}
	top, low := -1, -1
	for i := range f.layers {
		if f.has(i) {
			if low < 0 {
				low = i
			}
			top = i
		}
	}
	if top < 0 {
		return noLayer, allTemporal
	}
	if presence && !t.Pinned {
		return low, presenceTID
	}
	if t.Width <= 0 {
		return top, allTemporal
	}
	// The smallest layer at least as wide as the tile, when sizes are known;
	// a layer not yet seen above ones too small is taken to be larger.
	known := false
	for i := low; i <= top; i++ {
		if !f.has(i) {
			continue
		}
		var w int
		if l := f.layers[i].Load(); l != nil {
			w = int(l.width.Load())
		}
		if w == 0 {
			if known {
				return i, allTemporal
			}
			return f.bySize(t.Width, low, top), allTemporal
		}
		known = true
		if w >= t.Width {
			return i, allTemporal
		}
	}
	return top, allTemporal
}

// bySize picks a layer for a tile width while the layers' sizes are unknown.
func (f *forwarder) bySize(width, low, top int) int {
	want := top
	switch {
	case width <= smallTile:
		want = 0
	case width <= mediumTile:
		want = 1
	}
	for i := max(want, low); i <= top; i++ {
		if f.has(i) {
			return i
		}
	}
	return top
}

// effective is the layer to forward for a wish: the wished layer when it
// flows, else the nearest one below that does, else above, else the wish
// (it will flow once its publisher starts it).
func (f *forwarder) effective(want int, now int64) int {
	if want == noLayer {
		return noLayer
	}
	if below := f.effectiveBelow(want, now); below != noLayer {
		return below
	}
	for i := want + 1; i < maxLayers; i++ {
		if f.flowing(i, now) {
			return i
		}
	}
	return want
}

// flowing tells whether layer i has sent a packet within flowingFor.
func (f *forwarder) flowing(i int, now int64) bool {
	l := f.layers[i].Load()
	return l != nil && now-l.lastPacket.Load() < int64(flowingFor)
}

// effectiveBelow is the layer to forward for a wish that must not be
// exceeded: the wished layer or the nearest below that flows, else nothing.
func (f *forwarder) effectiveBelow(want int, now int64) int {
	for i := want; i >= 0; i-- {
		if f.flowing(i, now) {
			return i
		}
	}
	return noLayer
}

// congestionCheck is how often a room looks for subscribers whose line has
// begun to lose packets: each such is allocated for at once, not at the
// next allocInterval (a line that falls loses most of what is sent until
// then).
const congestionCheck = 100 * time.Millisecond

// allocLoop looks again at every subscription now and then, and at once at
// a subscriber whose line has begun to lose packets, until the room closes.
func (r *Room) allocLoop() {
	t := time.NewTicker(congestionCheck)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-t.C:
			if n%int(allocInterval/congestionCheck) == 0 {
				r.allocate()
			} else {
				for _, p := range r.newlyCongested() {
					r.ReallocateFor(p)
				}
			}
		case <-r.stop:
			return
		}
	}
}

// newlyCongested lists the peers whose line loses packets while what they
// receive is not yet held to their estimate, and those whose probe has just
// met the line's edge (it ends here, and they go back to what they had).
func (r *Room) newlyCongested() []*Peer {
	now := time.Now().UnixNano()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Peer
	for _, p := range r.peers {
		congested, _ := p.lineState(now)
		switch {
		case congested && !p.limited:
			out = append(out, p)
		case !congested && p.probe.level > 0 && p.strained(now):
			p.probe.abort(now)
			out = append(out, p)
		}
	}
	return out
}

// layerNotice is what a publisher is told: the rids of its video that
// someone receives.
type layerNotice struct {
	to   *Peer
	rids []string
}

// pauseNotice is what a subscriber is told: the publishers whose video it
// does not get for lack of bandwidth.
type pauseNotice struct {
	to         *Peer
	publishers []string
}

// allocate sets what every subscriber receives of every published video
// from their tiles, the room's mode and their own bandwidth estimate, and
// tells each simulcast publisher which of its layers anyone receives.
func (r *Room) allocate() {
	now := time.Now().UnixNano()
	presence := r.presence.Load()
	var notices []layerNotice
	var pauses []pauseNotice
	var slotted []*slotNotice
	r.mu.Lock()
	used := make(map[*forwarder]*[maxLayers]bool, len(r.tracks))
	for f := range r.tracks {
		f.measure(now)
		if !f.audio {
			used[f] = &[maxLayers]bool{}
		}
	}
	for _, sub := range r.peers {
		if n := sub.assignSlots(now); n != nil {
			slotted = append(slotted, n)
		}
		if n, changed := r.allocateFor(sub, presence, now, used); changed {
			pauses = append(pauses, n)
		}
	}
	for f, u := range used {
		f.keepLowest(u)
		// A track announced but not yet arriving waits for its first layer
		// before its publisher is told anything.
		if *u != f.used && f.layered && f.live.Load() > 0 {
			f.used = *u
			notices = append(notices, layerNotice{to: f.publisher, rids: f.usedRIDs()})
		}
	}
	r.mu.Unlock()
	for _, n := range slotted {
		n.to.sig.SendSlots(n.slots)
	}
	for _, n := range notices {
		n.to.sig.SendLayers(n.rids)
	}
	for _, n := range pauses {
		n.to.sig.SendPaused(n.publishers)
	}
}

// ReallocateFor looks again at what one peer receives, after its tiles
// changed; what the others receive does not change with it. When it now
// needs a layer its publisher was told nobody receives, a whole allocation
// follows to start it. In a big room every join changes the tiles of many
// members at once: one peer's pass each keeps that linear in the room.
func (r *Room) ReallocateFor(p *Peer) {
	now := time.Now().UnixNano()
	presence := r.presence.Load()
	r.mu.Lock()
	if r.closed || r.peers[p.id] != p {
		r.mu.Unlock()
		return
	}
	slotted := p.assignSlots(now)
	used := make(map[*forwarder]*[maxLayers]bool, len(r.tracks))
	for f := range r.tracks {
		if !f.audio {
			used[f] = &[maxLayers]bool{}
		}
	}
	pause, paused := r.allocateFor(p, presence, now, used)
	stopped := false
	for f, u := range used {
		f.keepLowest(u)
		for i, on := range u {
			stopped = stopped || (on && !f.used[i] && f.layered)
		}
	}
	r.mu.Unlock()
	if slotted != nil {
		p.sig.SendSlots(slotted.slots)
	}
	if paused {
		p.sig.SendPaused(pause.publishers)
	}
	if stopped {
		r.allocate()
	}
}

// keepLowest marks f's lowest layer used whenever any of its layers is: a
// subscriber whose line falls steps down to it at its next keyframe, with no
// wait for its publisher to start it again (a browser takes a round trip and
// an encoder's start). It costs the publisher's uplink at most the low
// layer's 150 kbit/s.
func (f *forwarder) keepLowest(u *[maxLayers]bool) {
	inUse := false
	for _, on := range u {
		inUse = inUse || on
	}
	if !inUse {
		return
	}
	for i := range u {
		if f.has(i) {
			u[i] = true
			return
		}
	}
}

// usedRIDs lists the rids of f's layers someone receives, lowest first;
// never nil.
func (f *forwarder) usedRIDs() []string {
	rids := []string{}
	for i, u := range f.used {
		if u && f.has(i) {
			rids = append(rids, f.rids[i])
		}
	}
	return rids
}
