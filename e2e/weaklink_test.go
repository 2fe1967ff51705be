package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/worktogether/worktogether/internal/testpeer"
	"github.com/worktogether/worktogether/relay"
)

// A browser forced through the relay, whose downlink there is shaped to a
// few hundred kbit/s, in a room with two simulcast publishers: once its
// estimate has settled, every tile either keeps decoding (at the low layer)
// or says its video is paused, and nothing freezes over and over.
func TestBrowserOnAWeakLineKeepsTilesMoving(t *testing.T) {
	browser := newBrowser(t)
	var rs *relay.Server
	line := testpeer.NewLinkShaper(testpeer.Link{Rate: 400_000, Queue: 200 * time.Millisecond, Delay: 30 * time.Millisecond})
	srv := startServerWith(t, withShapedRelay(&rs, true, line.Wrap))
	sess := srv.createSession(t)
	people := []string{"Ada", "Bo", "Weak"}
	tabs := make([]context.Context, len(people))
	for i, name := range people {
		link := srv.invite(t, sess, name)
		if name == "Weak" {
			link += "&relay=only"
		}
		tabs[i] = newTab(t, browser)
		within(t, tabs[i], 20*time.Second,
			chromedp.Navigate(link),
			chromedp.WaitEnabled("#join"),
			chromedp.Click("#join"),
			chromedp.WaitVisible("#inroom"),
		)
	}
	weak := tabs[2]
	lastDrops, since := uint64(0), time.Now()
	settled := func() bool {
		if d := line.Stats().TailDrops; d != lastDrops || d == 0 {
			lastDrops, since = d, time.Now()
		}
		return time.Since(since) >= 3*time.Second
	}
	// Two large tiles ask for the top layers, far more than the line takes:
	// the line overflows, the server holds Weak to its estimate.
	poll(t, weak, 40*time.Second, "the weak line overflows, then is held (no drops for 3 s, both tiles known)", recvStatsJS, func(v map[string]recvTile) bool {
		return settled() && len(v) == 2
	})
	before, lineBefore := evalJSON[map[string]recvTile](t, weak, recvStatsJS), line.Stats()
	time.Sleep(4 * time.Second) // the window the frames below are counted in
	after, lineAfter := evalJSON[map[string]recvTile](t, weak, recvStatsJS), line.Stats()
	for id, a := range after {
		b := before[id]
		switch {
		case a.Paused:
			// Says so on the tile; nothing to decode.
		case a.Frames-b.Frames < 8:
			t.Errorf("tile %s decoded %d frames in 4 s on the weak line (%+v then %+v)", id, a.Frames-b.Frames, b, a)
		}
		if a.Freezes-b.Freezes > 2 {
			t.Errorf("tile %s froze %d times in 4 s", id, a.Freezes-b.Freezes)
		}
	}
	// Which layers fit depends on what the publishers' encoders send (on a
	// busy machine Chrome's middle layer can be as cheap as 160 kbit/s), so
	// the test does not name a layer: whatever the server chose must fit the
	// line, which then drops (almost) nothing while the frames are counted.
	// Without the allocator the line drops a large share all the time.
	sent := lineAfter.Packets - lineBefore.Packets
	dropped := lineAfter.TailDrops - lineBefore.TailDrops
	if sent == 0 || dropped*50 > sent+dropped {
		t.Errorf("the weak line dropped %d of %d packets while frames were counted: the server sends more than it holds", dropped, sent+dropped)
	}
	screenshot(t, weak, "room-weak-line")
	if st := line.Stats(); st.Packets == 0 {
		t.Fatal("nothing crossed the shaped line: the weak browser did not use the relay")
	}
}
