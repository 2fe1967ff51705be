package sfu

import "time"

// Probing. A subscriber's estimate (GCC's delay-based target) grows by
// about 8 % a second, and it only learns what the line takes from what is
// sent: a line that came back from 0.5 to 5 Mbit/s would take half a
// minute to be used again. So the allocator probes with the video itself:
// once the line has lost nothing for probeCalm while its tiles ask for
// more than the estimate gives, it spends up to probeGain times what it
// sends now; what it then sent for probeHold without loss becomes a floor
// under the estimate. A probe ends at the first sign that the line is full
// (a feedback window losing more than 2 %), before its queue overflows for
// long, and the next one waits twice as long
// as the last (from probeCalm up to maxProbeWait), so a line that is full
// stays calm most of the time; congestion makes what the line carried the
// floor. The first wait is long
// enough that a line which has just settled stays settled for a while
// (probes sooner broke the weak-line tests' counting windows).

const (
	probeCalm    = 3 * time.Second
	probeHold    = time.Second
	maxProbeWait = 40 * time.Second
	probeGain    = 1.5
	// A line first congested at about the most it ever carried has shown
	// no more to probe for: its first probe waits probeCalmFresh. One that
	// carried fellBy times more before has fallen, and may come back.
	probeCalmFresh = 12 * time.Second
	fellBy         = 1.5
)

// prober is one subscriber's probing state, owned by the allocator (under
// Room.mu).
type prober struct {
	floor   float64 // bits per second sent for probeHold without loss
	peak    float64 // the most a feedback window saw arrive, bits per second
	level   float64 // what the probe under way may send; 0: none
	since   int64   // when it began
	wait    time.Duration
	calmAt  int64   // when the next probe may begin
	sending float64 // what the last allocation chose, bits per second
	spend   float64 // what this allocation spends from, bits per second
}

// estimate is what the allocator spends from, given the estimator's e, at
// now: the estimate or the floor, and more while a probe is under way.
// congested says the line loses packets now, and carried what it carried
// meanwhile: that becomes the floor, the most the line is known to take.
// full is what everything asked would cost.
func (p *prober) estimate(e, full float64, congested bool, carried float64, now int64) float64 {
	if congested {
		switch {
		case p.wait == 0 && carried > 0 && p.peak < fellBy*carried:
			p.wait = probeCalmFresh // it never carried more
		case p.wait == 0:
			p.wait = probeCalm
		case p.level > 0:
			p.wait = min(2*p.wait, maxProbeWait) // the probe found the line's edge
		}
		if carried > 0 {
			p.floor = carried
		}
		p.level = 0
		p.calmAt = now + int64(p.wait)
		return max(e, p.floor)
	}
	if p.calmAt == 0 {
		p.wait, p.calmAt = probeCalm, now+int64(probeCalm)
	}
	base := max(e, p.floor)
	switch {
	case p.level > 0 && time.Duration(now-p.since) >= probeHold:
		// Held without loss: what was sent is proven, and the next probe
		// may follow at once.
		p.floor = max(p.floor, p.sending)
		p.level = 0
		base = max(e, p.floor)
	case p.level > 0:
		return max(base, p.level/headroom)
	}
	if now < p.calmAt || full <= base*headroom || p.sending == 0 {
		return base
	}
	p.level, p.since = p.sending*probeGain, now
	return max(base, p.level/headroom)
}

// abort ends the probe under way as failed, at the first sign that the line
// is full: the next waits twice as long.
func (p *prober) abort(now int64) {
	if p.level == 0 {
		return
	}
	p.wait = min(2*p.wait, maxProbeWait)
	p.level = 0
	p.calmAt = now + int64(p.wait)
}
