package sfu

import (
	"sort"
	"time"
)

// How one subscriber's bandwidth estimate is shared across the videos it
// shows: the most important first (a pinned tile, then larger tiles), every
// shown video at least at its cheapest step (the low layer at its base
// frame rate) while that fits, the least important paused when even that
// does not, then what is left raises the most important videos toward what
// their tiles ask for, one step at a time. Nothing here knows of other
// subscribers: one weak line changes only what that line receives.

// headroom is the share of an estimate the allocator spends: the rest is
// for resends, RTCP and the estimate's own error.
const headroom = 0.85

// upgradeMargin is how much more than a step's cost must be free before a
// video goes up to it from what it had, and keepMargin how much less is
// enough to keep what it has: no flapping on an estimate that wavers (a
// keyframe's burst makes it dip for a moment).
const (
	upgradeMargin = 1.15
	keepMargin    = 0.85
)

// tidShare is the part of a layer's bitrate its temporal layers up to tid
// carry (VP8 with three temporal layers, as browsers send it in simulcast:
// the base layer at a quarter of the frame rate holds about half the bits).
var tidShare = [allTemporal + 1]float64{0.5, 0.75, 1, 1}

// defaultLayerRate is a layer's assumed bitrate, in bits per second, until
// its own is measured.
var defaultLayerRate = [maxLayers]float64{150_000, 500_000, 1_500_000}

// step is one choice for a video: a layer and a temporal cap.
type step struct {
	layer, tid int
}

// want is one video a subscriber shows, in the allocator's terms.
type want struct {
	f          *forwarder
	id         string // its publisher's: equals are taken in a fixed order
	down       *downTrack
	layer, tid int    // what the tile asks for (layer noLayer: nothing)
	priority   int    // higher first
	steps      []step // from the cheapest to what the tile asks for
	costs      []float64
	had        step // what it received before, noLayer for nothing
	paused     bool // paused for bandwidth before
	chosen     int  // index into steps, -1 for paused
}

// spatialUpEvery is the least time between two switches up to a higher
// layer for one subscriber: each costs a keyframe, a burst several times a
// picture's size, which a full line answers with loss; the estimate needs
// the time to see what the last one did.
const spatialUpEvery = 2 * time.Second

// provenUps is how many videos may go up a layer at once after a padding
// probe has shown the line takes more: the room the probe proved is spent
// on video at once rather than a tile every spatialUpEvery (with six tiles
// of three layers, that took 20 s). Not all at once: each costs a
// keyframe, and six keyframes together fill a line's queue.
const provenUps = 3

// fit chooses a step for every want within budget (bits per second); it
// returns the budget left and whether a video went up to a higher layer
// than it had, or came back from a pause. Wants are taken in order of
// priority, among equals those shown before those paused; at most ups go
// up a layer or come back (going up a temporal layer needs no keyframe and
// is always allowed). A paused video
// comes back only with the margin to spare: one on the edge of the budget
// would be paused and shown in turn, each time with a keyframe.
func fit(wants []*want, budget float64, ups int) (float64, bool) {
	left := ups
	sort.SliceStable(wants, func(i, j int) bool {
		a, b := wants[i], wants[j]
		switch {
		case a.priority != b.priority:
			return a.priority > b.priority
		case a.paused != b.paused:
			return !a.paused
		}
		return a.id < b.id
	})
	for _, w := range wants {
		w.chosen = -1
		if len(w.steps) == 0 {
			continue
		}
		if !w.paused && w.costs[0] <= budget {
			w.chosen = 0
			budget -= w.costs[0]
		} else if w.paused && left > 0 && w.costs[0]*upgradeMargin <= budget {
			w.chosen = 0
			budget -= w.costs[0]
			left--
		}
	}
	// Up, by priority; videos of the same priority a step each in turn, so
	// that equal tiles end up alike.
	for start := 0; start < len(wants); {
		end := start + 1
		for end < len(wants) && wants[end].priority == wants[start].priority {
			end++
		}
		for raised := true; raised; {
			raised = false
			for _, w := range wants[start:end] {
				if w.up(&budget, &left) {
					raised = true
				}
			}
		}
		start = end
	}
	return budget, left < ups
}

// up raises w one step if the budget has room for it (and the margin, when
// the step is above what it had).
func (w *want) up(budget *float64, ups *int) bool {
	next := w.chosen + 1
	if w.chosen < 0 || next >= len(w.steps) {
		return false
	}
	switching := w.had.layer != noLayer && w.steps[next].layer > max(w.had.layer, w.steps[w.chosen].layer)
	if switching && *ups == 0 {
		return false
	}
	extra := w.costs[next] - w.costs[w.chosen]
	need := extra * keepMargin
	if w.above(next) {
		need = w.costs[next]*upgradeMargin - w.costs[w.chosen]
	}
	if need > *budget {
		return false
	}
	*budget -= extra
	w.chosen = next
	if switching {
		*ups--
	}
	return true
}

// above tells whether steps[i] is more than the video had before: going up
// to it needs the margin.
func (w *want) above(i int) bool {
	s := w.steps[i]
	if w.had.layer == noLayer {
		return false
	}
	return s.layer > w.had.layer || (s.layer == w.had.layer && s.tid > w.had.tid)
}

// stepsTo lists f's steps from the cheapest up to layer at temporal cap
// tid, with their costs: each layer at its base temporal layer, then at
// all of them.
func (f *forwarder) stepsTo(layer, tid int) ([]step, []float64) {
	var steps []step
	var costs []float64
	for i := 0; i <= layer; i++ {
		if !f.has(i) {
			continue
		}
		rate := f.rate(i)
		for _, t := range []int{presenceTID, allTemporal} {
			if i == layer && t > tid {
				break
			}
			if len(steps) > 0 && costs[len(costs)-1] >= rate*tidShare[t] {
				continue // a lower layer that costs as much: skip to this one
			}
			steps = append(steps, step{i, t})
			costs = append(costs, rate*tidShare[t])
		}
	}
	return steps, costs
}

// rate is layer i's bitrate as measured, or its default until it is.
func (f *forwarder) rate(i int) float64 {
	if l := f.layer(i); l != nil && l.rate > 0 {
		return l.rate
	}
	return defaultLayerRate[i]
}
