package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// tileFramesJS is, for each remote tile, how many frames its video element
// has shown, and how many sections the page's receiving connection has.
const tileFramesJS = `(() => {
  const out = {sections: 0, tiles: {}};
  const c = window.worktogether;
  if (c && c.pc) out.sections = c.pc.getTransceivers().length;
  for (const t of document.querySelectorAll('.tile:not(.self)')) {
    const v = t.querySelector('video');
    out.tiles[t.dataset.participant] = v && v.srcObject && v.videoWidth > 0 ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
  }
  return out;
})()`

type tileFrames struct {
	Sections int            `json:"sections"`
	Tiles    map[string]int `json:"tiles"`
}

// When someone leaves, the sections that carried them wait for the next
// person: the one who comes back (the same stream id again) and a newcomer
// (a new one) are both seen in the page that stayed, whose connection keeps
// the number of sections it had.
func TestSectionsOfThoseWhoLeftCarryTheNext(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t)
	sess := srv.createSession(t)
	links := map[string]string{}
	ids := map[string]string{}
	tabs := map[string]context.Context{}
	join := func(name string) {
		if links[name] == "" {
			links[name] = srv.invite(t, sess, name)
		}
		if tabs[name] == nil {
			tabs[name] = newTab(t, browser)
		}
		within(t, tabs[name], 20*time.Second,
			chromedp.Navigate(links[name]),
			chromedp.WaitEnabled("#join"),
			chromedp.Click("#join"),
			chromedp.WaitVisible("#inroom"),
		)
		ctx, cancel := context.WithTimeout(tabs[name], 10*time.Second)
		defer cancel()
		id, err := chromedp.Run(ctx, chromedp.Poll[string](`window.worktogether && window.worktogether.welcome && window.worktogether.welcome.you.id`))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ids[name] = id
	}
	leave := func(name string) {
		within(t, tabs[name], 10*time.Second, chromedp.Navigate("about:blank"))
	}
	ada := func(what string, cond func(tileFrames) bool) tileFrames {
		t.Helper()
		return poll(t, tabs["Ada"], 30*time.Second, what, tileFramesJS, cond)
	}
	moving := func(name string) func(tileFrames) bool {
		return func(v tileFrames) bool { return v.Tiles[ids[name]] >= 15 }
	}
	join("Ada")
	join("Bo")
	first := ada("Ada sees Bo", moving("Bo"))

	leave("Bo")
	ada("Bo's tile goes", func(v tileFrames) bool { _, ok := v.Tiles[ids["Bo"]]; return !ok })
	join("Bo")
	ada("Ada sees Bo again", moving("Bo"))
	leave("Bo")
	join("Cy")
	last := ada("Ada sees Cy, who came after Bo left", moving("Cy"))
	if last.Sections != first.Sections {
		t.Errorf("Ada's connection went from %d sections to %d", first.Sections, last.Sections)
	}
	if _, ok := last.Tiles[ids["Bo"]]; ok {
		t.Errorf("Bo left but has a tile: %+v", last)
	}
}
