package sfu

import (
	"testing"
	"time"
)

func TestProbingRaisesTheFloorAndBacksOff(t *testing.T) {
	var p prober
	at := func(d time.Duration) int64 { return int64(d) }
	const full = 4e6
	// Loss at 0: no probe for probeCalm.
	if got := p.estimate(3e5, full, true, 0, at(0)); got != 3e5 {
		t.Fatalf("congested: %v", got)
	}
	p.sending = 3e5
	if got := p.estimate(3e5, full, false, 0, at(probeCalm-time.Second)); got != 3e5 {
		t.Fatalf("before probeCalm: %v, want the estimate", got)
	}
	// Calm long enough: a probe at probeGain times what is sent.
	got := p.estimate(3e5, full, false, 0, at(probeCalm))
	if want := 3e5 * probeGain / headroom; got != want {
		t.Fatalf("probe: %v, want %v", got, want)
	}
	// Held without loss: what was sent is the floor, and the next probe
	// starts from it.
	p.sending = 4.5e5
	got = p.estimate(3.1e5, full, false, 0, at(probeCalm+probeHold))
	if p.floor != 4.5e5 || got != 4.5e5*probeGain/headroom {
		t.Fatalf("after the probe held: floor %v, spend %v", p.floor, got)
	}
	// Nothing to probe for when all asked fits.
	p.level, p.sending = 0, 4.5e5
	if got := p.estimate(3.1e5, 3e5, false, 0, at(probeCalm+2*probeHold)); got != 4.5e5 {
		t.Fatalf("all fits: %v, want the floor", got)
	}
	// Loss: what the line carried meanwhile is the floor, and the next
	// probe waits twice as long.
	now := probeCalm + 3*probeHold
	p.estimate(3e5, full, false, 0, at(now)) // a probe under way
	if got := p.estimate(2e5, full, true, 3.5e5, at(now)); got != 3.5e5 || p.floor != 3.5e5 {
		t.Fatalf("loss: spend %v, floor %v", got, p.floor)
	}
	// More loss without a probe: the floor follows what got through, the
	// wait stays.
	if got := p.estimate(2e5, full, true, 1.5e5, at(now)); got != 2e5 || p.floor != 1.5e5 {
		t.Fatalf("loss again: spend %v, floor %v", got, p.floor)
	}
	if p.wait != 2*probeCalm {
		t.Fatalf("wait after a failed probe: %v, want %v", p.wait, 2*probeCalm)
	}
	if got := p.estimate(1e5, full, false, 0, at(now+2*probeCalm-time.Second)); got != 1.5e5 {
		t.Fatalf("inside the longer wait: %v", got)
	}
}

// A probe that meets the line's edge ends at once, without raising the
// floor, and the next one waits twice as long.
func TestAProbeEndsAtTheFirstSignOfAFullLine(t *testing.T) {
	// A line that never carried more than at its first congestion waits
	// longer for its first probe.
	var fresh prober
	fresh.peak = 3e5
	fresh.estimate(3e5, 4e6, true, 2.9e5, 0)
	if fresh.wait != probeCalmFresh {
		t.Fatalf("first wait of a line that never carried more: %v", fresh.wait)
	}
	// This one carried 1 Mbit/s before it fell.
	p := prober{peak: 1e6}
	at := func(d time.Duration) int64 { return int64(d) }
	const full = 4e6
	p.estimate(3e5, full, true, 2.9e5, at(0))
	p.sending = 3e5
	if got := p.estimate(3e5, full, false, 0, at(probeCalm)); got != 3e5*probeGain/headroom {
		t.Fatalf("no probe after probeCalm: %v", got)
	}
	p.abort(at(probeCalm + 200*time.Millisecond))
	if p.level != 0 || p.floor != 2.9e5 || p.wait != 2*probeCalm {
		t.Fatalf("after the abort: level %v, floor %v, wait %v", p.level, p.floor, p.wait)
	}
	if got := p.estimate(3e5, full, false, 0, at(probeCalm+probeHold)); got != 3e5 {
		t.Fatalf("the aborted probe is still spent: %v", got)
	}
	if got := p.estimate(3e5, full, false, 0, at(3*probeCalm+199*time.Millisecond)); got != 3e5 {
		t.Fatalf("probed again before twice the wait: %v", got)
	}
	if got := p.estimate(3e5, full, false, 0, at(3*probeCalm+200*time.Millisecond)); got == 3e5 {
		t.Fatal("no probe after twice the wait")
	}
	p.abort(at(4 * probeCalm)) // the probe under way ends once
	p.abort(at(4 * probeCalm))
	if p.wait != 4*probeCalm {
		t.Fatalf("a second abort of the same probe doubled the wait again: %v", p.wait)
	}
}
