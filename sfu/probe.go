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
	// padGain is the gain of a padding probe that follows one that held:
	// a line that has just taken more may well take much more (it came
	// back), and one that fails loses padding, not pictures. The first
	// probe after a calm asks for probeGain only: on a line at its edge,
	// a probe that asks for twice overflows its queue before its loss shows.
	padGain = 2.0
	// provedMore is how much more than the floor a probe must prove for the
	// next to ask for padGain: one whose padding the line did not carry
	// (too few pictures to follow, or a full line) proves nothing new.
	provedMore = 1.1
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
	video   float64 // the video part of it
	spend   float64 // what this allocation spends from, bits per second
	// padded says the probe under way sends padding beside the video
	// (padding.go) rather than raising layers: so does every probe while
	// video is sent. got and gotFor are what arrived meanwhile, from the
	// line's feedback windows.
	padded bool
	got    float64 // bits
	gotFor time.Duration
	// proven says a probe has just held: videos may go up a layer at
	// once. held counts the probes that held in a row.
	proven bool
	held   int
}

// estimate is what the allocator spends from, given the estimator's e, at
// now: the estimate or the floor, and more while a probe raises layers.
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
		p.level, p.held = 0, 0
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
		proved := p.proved()
		if proved > p.floor*provedMore {
			p.held++ // it found more: the next may ask for more still
		} else {
			p.held = 0
		}
		p.floor = max(p.floor, proved)
		p.level, p.proven = 0, true
		base = max(e, p.floor)
	case p.level > 0:
		return p.during(base)
	}
	if now < p.calmAt || full <= base*headroom || p.sending == 0 {
		return base
	}
	p.padded = p.video > 0
	gain := probeGain
	if p.padded && p.held > 0 {
		gain = padGain
	}
	// At most what everything asked costs with the margin a video needs
	// to go up a layer: a floor proven that high lets every tile up.
	p.level = min(max(p.sending, p.floor)*gain, full*upgradeMargin/headroom)
	p.since, p.got, p.gotFor = now, 0, 0
	return p.during(base)
}

// during is what a probe under way spends from: the base when it pads (the
// layers stay), its level when it raises layers.
func (p *prober) during(base float64) float64 {
	if p.padded {
		return base
	}
	return max(base, p.level/headroom)
}

// proved is what a probe that held without loss proved the line takes: what
// was sent, or for one that padded, what arrived (the video may have left
// the padding too few pictures to follow), at most its level.
func (p *prober) proved() float64 {
	if !p.padded {
		return p.sending
	}
	if p.gotFor < probeHold/2 {
		return p.sending
	}
	return min(p.level, max(p.sending, p.got/p.gotFor.Seconds()))
}

// arrived adds a feedback window of the line to the probe under way.
func (p *prober) arrived(bits float64, span time.Duration) {
	if p.level > 0 {
		p.got += bits
		p.gotFor += span
	}
}

// padding is what the probe under way adds to what the allocation chose to
// send, in bits per second: 0 unless it pads.
func (p *prober) padding() float64 {
	if p.level == 0 || !p.padded {
		return 0
	}
	return max(p.level-p.sending, 0)
}

// abort ends the probe under way as failed, at the first sign that the line
// is full: the next waits twice as long.
func (p *prober) abort(now int64) {
	if p.level == 0 {
		return
	}
	p.wait = min(2*p.wait, maxProbeWait)
	p.level, p.held = 0, 0
	p.calmAt = now + int64(p.wait)
}
