package web

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/worktogether/worktogether/internal/testpeer"
)

// frameLog records when each picture of one publisher's video arrives.
type frameLog struct {
	mu     sync.Mutex
	frames []time.Time
}

func (l *frameLog) add(pkt *rtp.Packet, at time.Time) {
	if !pkt.Marker {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frames = append(l.frames, at)
}

// pausedLog records when the server said which tiles it holds back.
type pausedLog struct {
	mu    sync.Mutex
	spans map[string][][2]time.Time // per publisher: from, to (zero: still)
}

func (l *pausedLog) follow(ctx context.Context, p *testpeer.Peer) {
	for {
		m, err := p.ExpectWhere(ctx, "paused", nil)
		if err != nil {
			return
		}
		var msg struct {
			Participants []string `json:"participants"`
		}
		if m.Decode(&msg) != nil {
			continue
		}
		now := time.Now()
		l.mu.Lock()
		on := map[string]bool{}
		for _, id := range msg.Participants {
			on[id] = true
		}
		for id, spans := range l.spans {
			if n := len(spans); n > 0 && spans[n-1][1].IsZero() && !on[id] {
				spans[n-1][1] = now
			}
		}
		for id := range on {
			spans := l.spans[id]
			if n := len(spans); n == 0 || !spans[n-1][1].IsZero() {
				l.spans[id] = append(spans, [2]time.Time{now, {}})
			}
		}
		l.mu.Unlock()
	}
}

// pausedIn tells whether id was said to be paused at some time in [from, to].
func (l *pausedLog) pausedIn(id string, from, to time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.spans[id] {
		if s[0].Before(to) && (s[1].IsZero() || s[1].After(from)) {
			return true
		}
	}
	return false
}

// gaps lists the spans longer than d without a picture in [from, to].
func (l *frameLog) gaps(d time.Duration, from, to time.Time) [][2]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out [][2]time.Time
	last := from
	for _, f := range l.frames {
		if f.Before(from) {
			continue
		}
		if f.After(to) {
			break
		}
		if f.Sub(last) > d {
			out = append(out, [2]time.Time{last, f})
		}
		last = f
	}
	if to.Sub(last) > d {
		out = append(out, [2]time.Time{last, to})
	}
	return out
}

// A subscriber whose line falls from 5 to 0.5 Mbit/s and comes back:
// within 2 s the server sends no more than the line takes (its bottleneck
// stops dropping, and stays so); on the way down no tile stands still for
// more than a second unless the subscriber was told it is paused; 15 s
// after the line came back the server sends at least backUp of what it
// sent before the fall. Resends count within the line's estimate: without
// that, the subscriber's NACKs for what the fall lost filled the line for
// 4 s.
func TestALineThatFallsIsSteppedDownWithin2s(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	for _, name := range []string{"Ada", "Bea", "Cem", "Dan", "Eva", "Fay"} {
		h.join(h.invite(sess.ID, name, "").Token, testpeer.Options{Layers: simulcastLayers(t)})
	}
	fast := testpeer.Link{Rate: 5_000_000, Queue: 200 * time.Millisecond, Delay: 30 * time.Millisecond}
	slow := fast
	slow.Rate = 500_000
	api, link, err := testpeer.ShapedAPI(fast)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	logs := map[string]*frameLog{}
	onTrack := func(id, kind string) func(*rtp.Packet, time.Time) {
		if kind != "video" {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		l := &frameLog{}
		logs[id] = l
		return l.add
	}
	sub, _ := h.joinWith(api, h.invite(sess.ID, "Step", "").Token, testpeer.Options{OnTrack: onTrack})
	paused := &pausedLog{spans: map[string][][2]time.Time{}}
	go paused.follow(h.ctx(90*time.Second), sub)

	// Every 250 ms: what crossed the line and what it dropped.
	type sample struct {
		at           time.Time
		bytes, drops uint64
		packets      uint64
		padding      uint64 // bytes of padding the server had sent, on the wire
	}
	var samples []sample
	tick := func() {
		from := time.Now()
		eventually(t, time.Second, "a tick", func() bool { return time.Since(from) >= 250*time.Millisecond })
		st := link.LinkStats()
		// A padding packet's 255 bytes cross the line with about 60 of
		// headers.
		pad := h.router.Stats().PaddingBytesOut * (255 + 60) / 255
		samples = append(samples, sample{time.Now(), st.Bytes, st.TailDrops, st.Packets, pad})
	}
	// What crossed the line besides padding, in bits per second.
	rate := func(from, to int) float64 {
		a, b := samples[from], samples[to]
		return float64(b.bytes-a.bytes-(b.padding-a.padding)) * 8 / b.at.Sub(a.at).Seconds()
	}
	// Settled on the fast line: 4 s without a drop.
	eventually(t, 30*time.Second, "Step receives all six", func() bool { mu.Lock(); defer mu.Unlock(); return len(logs) == 6 })
	calm := 0
	for calm < 16 {
		tick()
		if n := len(samples); n > 1 && samples[n-1].drops == samples[n-2].drops {
			calm++
		} else {
			calm = 0
		}
		if len(samples) > 160 {
			t.Fatal("the fast line never ran 4 s without a drop")
		}
	}
	fastRate := rate(len(samples)-16, len(samples)-1)

	link.SetLink(slow)
	down, stepped := len(samples), time.Duration(0)
	for len(samples)-down < 32 { // 8 s
		tick()
		n := len(samples)
		if stepped == 0 && n-down >= 2 && samples[n-1].drops-samples[n-2].drops <= (samples[n-1].packets-samples[n-2].packets)/100 {
			// From here on the line must stay (nearly) free of drops.
			stepped = samples[n-2].at.Sub(samples[down-1].at)
		}
	}
	after := samples[len(samples)-1]
	t.Logf("fast line %.2f Mbit/s; after the fall: drops stop after %v, then %d dropped in %v", fastRate/1e6, stepped,
		after.drops-samples[down+int(stepped/(250*time.Millisecond))+1].drops, after.at.Sub(samples[down].at))
	if stepped == 0 || stepped > 2*time.Second {
		t.Errorf("the server stepped down after %v, want within 2 s", stepped)
	}
	fell, now := samples[down-1].at, after.at
	mu.Lock()
	longest := time.Duration(0) // of the stand-stills not announced
	for id, l := range logs {
		for _, g := range l.gaps(200*time.Millisecond, fell, now) {
			still := g[1].Sub(g[0])
			if paused.pausedIn(id, g[0], g[1]) {
				continue
			}
			longest = max(longest, still)
			if still > time.Second {
				t.Errorf("tile %s stood still for %v from %v after the fall, and was not said to be paused", id[:8], still.Round(time.Millisecond), g[0].Sub(fell).Round(time.Millisecond))
			}
		}
	}
	mu.Unlock()
	t.Logf("on the way down the longest a tile stood still unannounced: %v", longest.Round(time.Millisecond))

	link.SetLink(fast)
	back := len(samples)
	for len(samples)-back < 60 { // 15 s
		tick()
	}
	// The way back up is probed with padding beside the video, not by
	// raising layers the line may not take.
	padded := samples[len(samples)-1].padding - samples[back].padding
	t.Logf("probes padded %d kB on the way back up", padded/1000)
	if padded == 0 {
		t.Error("the line came back without a probe that padded")
	}
	last := rate(len(samples)-5, len(samples)-1)
	t.Logf("the line back at 5 Mbit/s: the server sends %.2f Mbit/s (besides padding) in its first second, %.2f in its 15th (%.2f before the fall)",
		rate(back, back+4)/1e6, last/1e6, fastRate/1e6)
	if last < fastRate*backUp {
		t.Errorf("15 s after the line came back the server sends %.2f Mbit/s, less than %.0f %% of the %.2f before the fall",
			last/1e6, backUp*100, fastRate/1e6)
	}
}

// backUp is the share of what a line carried before it fell that the
// server sends again 15 s after it came back.
const backUp = 0.8
