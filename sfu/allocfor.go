package sfu

import (
	"slices"
	"time"
)

// audioRate is an audio track's assumed bitrate until its own is measured.
const audioRate = 40_000

// rateWindow is the least time between two measurements of a layer's
// bitrate; rateSmoothing the weight of the newest.
const (
	rateWindow    = 400 * time.Millisecond
	rateSmoothing = 0.5
)

// measure updates the bitrate of each of f's layers from what arrived since
// the last measurement. Called with Room.mu held.
func (f *forwarder) measure(now int64) {
	for i := range f.layers {
		l := f.layers[i].Load()
		if l == nil {
			continue
		}
		if l.lastAt == 0 {
			l.lastAt, l.lastBytes = now, l.bytesIn.Load()
			continue
		}
		elapsed := time.Duration(now - l.lastAt)
		if elapsed < rateWindow {
			continue
		}
		b := l.bytesIn.Load()
		rate := float64(b-l.lastBytes) * 8 / elapsed.Seconds()
		if l.rate == 0 {
			l.rate = rate
		} else {
			l.rate = rateSmoothing*rate + (1-rateSmoothing)*l.rate
		}
		l.lastAt, l.lastBytes = now, b
	}
}

// priorityOf ranks a tile: the pinned one first, then larger tiles before
// smaller; a tile of unknown size counts as large (a client that says
// nothing of its tiles).
func priorityOf(t Tile) int {
	switch {
	case t.Pinned:
		return 1 << 30
	case t.Width <= 0 || t.Height <= 0:
		return 1 << 24
	default:
		return min(t.Width*t.Height, 1<<24-1)
	}
}

// allocateFor sets what sub receives of every video it is sent: what its
// tiles ask for, within its bandwidth estimate once that is known. It
// returns a notice when the videos paused for its bandwidth changed.
// Called with Room.mu held; takes sub.mu.
func (r *Room) allocateFor(sub *Peer, presence bool, now int64, used map[*forwarder]*[maxLayers]bool) (pauseNotice, bool) {
	audioOn := !r.audioOff.Load()
	var wants []*want
	var audio float64
	sub.mu.Lock()
	before := sub.pausedForBandwidth
	for f, s := range sub.senders {
		if f.audio {
			if audioOn && !f.publisher.muted.Load() {
				audio += f.audioRate()
			}
			continue
		}
		tile, ok := sub.tiles[f.publisher.id]
		if !ok {
			tile = defaultTile()
		}
		layer, tid := f.desired(tile, presence)
		_, paused := slices.BinarySearch(before, f.publisher.id)
		wants = append(wants, &want{
			f: f, id: f.publisher.id, down: s.down, layer: layer, tid: tid, priority: priorityOf(tile),
			had: step{int(s.down.target.Load()), int(s.down.maxTID.Load())}, paused: paused,
		})
	}
	sub.mu.Unlock()

	full := audio
	for _, w := range wants {
		if w.layer != noLayer {
			w.steps, w.costs = w.f.stepsTo(w.layer, w.tid)
			if n := len(w.costs); n > 0 {
				full += w.costs[n-1]
			}
		}
	}
	limited := sub.limitedBy(full, now)
	if limited {
		estimate := sub.probe.spend
		ups := 0
		switch {
		case sub.probe.proven:
			ups = provenUps // the line has just been shown to take more
		case time.Duration(now-sub.lastSpatialUp) >= spatialUpEvery,
			sub.probe.level > 0 && !sub.probe.padded:
			ups = 1
		}
		sub.probe.proven = false
		if _, up := fit(wants, estimate*headroom-audio, ups); up {
			sub.lastSpatialUp = now
		}
		video := 0.0
		for _, w := range wants {
			if w.chosen >= 0 {
				video += w.costs[w.chosen]
			}
		}
		sub.probe.sending, sub.probe.video = audio+video, video
	}
	if limited {
		sub.egress.padding.set(sub.probe.padding() / 8)
	} else {
		sub.egress.padding.set(0)
	}
	var paused []string
	for _, w := range wants {
		layer, tid := w.layer, w.tid
		if limited && layer != noLayer {
			if w.chosen < 0 {
				layer = noLayer
				paused = append(paused, w.f.publisher.id)
			} else {
				layer, tid = w.steps[w.chosen].layer, w.steps[w.chosen].tid
			}
		}
		eff := w.f.effective(layer, now)
		if limited && eff > layer {
			// Held to its estimate: never more than chosen, even for the
			// moment the chosen layer takes to start at its publisher.
			eff = w.f.effectiveBelow(layer, now)
		}
		if old := int(w.down.target.Swap(int32(eff))); old != eff && eff != noLayer {
			w.f.requestKeyframe(eff)
		}
		w.down.maxTID.Store(int32(tid))
		u := used[w.f]
		if layer != noLayer {
			u[layer] = true
		}
		if eff != noLayer {
			u[eff] = true
		}
	}
	slices.Sort(paused)
	if slices.Equal(paused, before) {
		return pauseNotice{}, false
	}
	sub.mu.Lock()
	sub.pausedForBandwidth = paused
	sub.mu.Unlock()
	if paused == nil {
		paused = []string{}
	}
	return pauseNotice{to: sub, publishers: paused}, true
}

// calmFor is how long a subscriber's estimate must have room for all it
// asks before its videos are no longer held to it.
const calmFor = 5 * time.Second

// limitedBy tells whether what the peer receives is held to its estimate
// now, given what all it asks for would cost (full), in bits per second. An
// estimate only says what a line takes once the line is full: one that
// carries little (a work phase's presence video, or the first seconds) is
// estimated at about what it carries, and must not be held there. So a
// subscriber is held to its estimate once its line shows congestion (the
// estimator sees packets lost), and let go when the
// estimate has had room for everything it asks for during calmFor.
// Called with Room.mu held.
func (p *Peer) limitedBy(full float64, now int64) bool {
	estimate, known := p.Estimate()
	if !known {
		return false
	}
	congested, carried := p.lineState(now)
	if _, through, known := p.line(now); known && !congested {
		p.probe.peak = max(p.probe.peak, through)
	}
	if !congested && p.probe.level > 0 && p.strained(now) {
		p.probe.abort(now)
	}
	p.probe.spend = p.probe.estimate(float64(estimate), full, congested, carried, now)
	e := max(float64(estimate), p.probe.floor) // what the line is known to take
	// Resends: a share of it, half that while the line loses packets.
	if congested {
		p.egress.resends.set(e * resendShare / 2 / 8)
	} else {
		p.egress.resends.set(e * resendShare / 8)
	}
	switch {
	case !p.limited && congested:
		p.limited, p.calmSince = true, 0
	case p.limited && e*headroom >= full:
		if p.calmSince == 0 {
			p.calmSince = now
		} else if time.Duration(now-p.calmSince) >= calmFor {
			p.limited = false
		}
	case p.limited:
		p.calmSince = 0
	}
	return p.limited
}

// audioRate is f's bitrate as measured, or the assumed one.
func (f *forwarder) audioRate() float64 {
	if l := f.layer(0); l != nil && l.rate > 0 {
		return l.rate
	}
	return audioRate
}
