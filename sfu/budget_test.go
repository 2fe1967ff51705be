package sfu

import (
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
)

// wantOf is a want of a video with steps costing costs, at priority.
func wantOf(priority int, had step, costs ...float64) *want {
	w := &want{priority: priority, had: had, costs: costs}
	for i := range costs {
		w.steps = append(w.steps, step{layer: i / 2, tid: []int{presenceTID, allTemporal}[i%2]})
	}
	return w
}

// pausedWant marks w paused for bandwidth before.
func pausedWant(w *want) *want {
	w.paused = true
	return w
}

func TestFitSharesTheBudgetByPriority(t *testing.T) {
	none := step{noLayer, allTemporal}
	cases := []struct {
		name   string
		budget float64
		wants  []*want
		chosen []int // by position in wants as given
		ups    int   // how many may go up a layer or come back
		wentUp bool
	}{
		{"no switch up a layer when it is not the time", 10_000,
			[]*want{wantOf(1, step{0, allTemporal}, 100, 200, 500, 600)}, []int{1}, 0, false},
		{"one switch up a layer at a time", 10_000,
			[]*want{wantOf(2, step{0, allTemporal}, 100, 200, 500, 600), wantOf(1, step{0, allTemporal}, 100, 200, 500, 600)}, []int{3, 1}, 1, true},
		{"room for everything", 10_000,
			[]*want{wantOf(1, none, 100, 200, 500), wantOf(2, none, 100, 200, 500)}, []int{2, 2}, 0, false},
		{"everyone at the cheapest, the rest to the most important", 700,
			[]*want{wantOf(1, none, 100, 200, 500), wantOf(2, none, 100, 200, 500)}, []int{1, 2}, 0, false},
		{"the most important as far as it goes first", 600,
			[]*want{wantOf(1, none, 100, 200, 500), wantOf(2, none, 100, 200, 500)}, []int{0, 2}, 0, false},
		{"equal tiles a step each in turn", 600,
			[]*want{wantOf(3, none, 100, 200, 500), wantOf(3, none, 100, 200, 500), wantOf(3, none, 100, 200, 500)}, []int{1, 1, 1}, 0, false},
		{"not even the cheapest for all: the least important paused", 150,
			[]*want{wantOf(1, none, 100, 200), wantOf(5, none, 100, 200)}, []int{-1, 0}, 0, false},
		{"pinned first, however small", 300,
			[]*want{wantOf(1<<24, none, 100, 200), wantOf(1<<30, none, 100, 200)}, []int{0, 1}, 0, false},
		{"nothing at all", 50,
			[]*want{wantOf(1, none, 100)}, []int{-1}, 0, false},
		{"going up from what it had needs the margin", 210,
			[]*want{wantOf(1, step{0, presenceTID}, 100, 200)}, []int{0}, 0, false},
		{"keeping what it had needs less than its cost", 190,
			[]*want{wantOf(1, step{0, allTemporal}, 100, 200)}, []int{1}, 0, false},
		{"among equals, the shown before the paused", 150,
			[]*want{pausedWant(wantOf(1, none, 100)), wantOf(1, step{0, presenceTID}, 100)}, []int{-1, 0}, 1, false},
		{"a paused video comes back only with the margin", 110,
			[]*want{pausedWant(wantOf(1, none, 100))}, []int{-1}, 1, false},
		{"a paused video comes back when it is the time", 200,
			[]*want{pausedWant(wantOf(1, none, 100))}, []int{0}, 1, true},
		{"not when it is not the time", 200,
			[]*want{pausedWant(wantOf(1, none, 100))}, []int{-1}, 0, false},
		{"after a proven probe, as many switches up a layer as allowed", 10_000,
			[]*want{wantOf(4, step{0, allTemporal}, 100, 200, 500, 600), wantOf(3, step{0, allTemporal}, 100, 200, 500, 600),
				wantOf(2, step{0, allTemporal}, 100, 200, 500, 600), wantOf(1, step{0, allTemporal}, 100, 200, 500, 600)}, []int{3, 3, 1, 1}, 2, true},
		{"and as many come back", 1000,
			[]*want{pausedWant(wantOf(1, none, 100)), pausedWant(wantOf(1, none, 100)), pausedWant(wantOf(1, none, 100))}, []int{0, 0, -1}, 2, true},
		{"one comes back at a time", 1000,
			[]*want{pausedWant(wantOf(1, none, 100)), pausedWant(wantOf(1, none, 100))}, []int{0, -1}, 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wants := append([]*want(nil), c.wants...)
			if _, up := fit(wants, c.budget, c.ups); up != c.wentUp {
				t.Errorf("went up a layer: %v, expected %v", up, c.wentUp)
			}
			for i, w := range c.wants {
				if w.chosen != c.chosen[i] {
					t.Errorf("want %d: step %d, expected %d", i, w.chosen, c.chosen[i])
				}
			}
		})
	}
}

func TestStepsGoFromTheCheapestUp(t *testing.T) {
	f := layeredForwarder(240, 480, 960)
	f.layers[0].Load().rate = 100_000
	f.layers[1].Load().rate = 300_000
	f.layers[2].Load().rate = 1_000_000
	steps, costs := f.stepsTo(2, allTemporal)
	want := []step{{0, presenceTID}, {0, allTemporal}, {1, presenceTID}, {1, allTemporal}, {2, presenceTID}, {2, allTemporal}}
	if len(steps) != len(want) {
		t.Fatalf("steps %v", steps)
	}
	for i := range want {
		if steps[i] != want[i] || (i > 0 && costs[i] <= costs[i-1]) {
			t.Fatalf("step %d: %v costing %v (steps %v, costs %v)", i, steps[i], costs[i], steps, costs)
		}
	}
	if steps, _ := f.stepsTo(0, presenceTID); len(steps) != 1 || steps[0] != (step{0, presenceTID}) {
		t.Fatalf("presence asks only for the low layer's base: %v", steps)
	}
}

// fakeBWE is an estimator whose figures the test sets.
type fakeBWE struct {
	delay int
	loss  float64
	usage string
}

func (f *fakeBWE) AddStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return w
}
func (f *fakeBWE) WriteRTCP([]rtcp.Packet, interceptor.Attributes) error { return nil }
func (f *fakeBWE) GetTargetBitrate() int                                 { return f.delay }
func (f *fakeBWE) OnTargetBitrateChange(func(int))                       {}
func (f *fakeBWE) Close() error                                          { return nil }
func (f *fakeBWE) GetStats() map[string]any {
	return map[string]any{"delayTargetBitrate": f.delay, "averageLoss": f.loss, "usage": f.usage}
}

// A subscriber is held to its estimate from its line's first congestion
// until the estimate has had room for all it asks for a while; an estimate
// that is low only because little was sent holds nothing.
func TestHeldToTheEstimateFromCongestionUntilCalm(t *testing.T) {
	bwe := &fakeBWE{delay: 300_000, usage: "normal"}
	p := &Peer{bwe: bwe}
	p.egress.feedback.Store(true)
	sec := int64(time.Second)
	if p.limitedBy(3_000_000, 0) {
		t.Fatal("held by an estimate of a line that shows no congestion")
	}
	bwe.usage = "overuse"
	if p.limitedBy(3_000_000, sec/2) {
		t.Fatal("held for growing delay alone")
	}
	bwe.loss = 0.1
	if !p.limitedBy(3_000_000, 1*sec) {
		t.Fatal("not held once the line loses packets")
	}
	bwe.loss = 0
	bwe.usage, bwe.delay = "normal", 4_000_000
	if !p.limitedBy(3_000_000, 2*sec) || !p.limitedBy(3_000_000, 2*sec+int64(calmFor)/2) {
		t.Fatal("let go before the estimate had room for a while")
	}
	bwe.delay = 1_000_000 // a dip starts the calm again
	p.limitedBy(3_000_000, 3*sec)
	bwe.delay = 4_000_000
	if !p.limitedBy(3_000_000, 4*sec) || !p.limitedBy(3_000_000, 4*sec+int64(calmFor)-1) {
		t.Fatal("a dip did not start the calm again")
	}
	if p.limitedBy(3_000_000, 4*sec+int64(calmFor)) {
		t.Fatal("still held after the estimate had room for everything during calmFor")
	}
	bwe.loss = 0.2
	if !p.limitedBy(3_000_000, 20*sec) {
		t.Fatal("a fifth of the packets lost is congestion")
	}
	if e, _ := p.Estimate(); e != 3_200_000 {
		t.Fatalf("estimate %d: the delay-based target less the share lost is 3.2 Mbit/s", e)
	}
}
