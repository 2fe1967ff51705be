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
