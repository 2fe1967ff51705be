package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// sendStats is what a publishing page sends, by rid, from its publish
// connection's outbound-rtp stats.
type sendStats struct {
	RIDs map[string]ridStats `json:"rids"`
}

type ridStats struct {
	Bytes  int    `json:"bytes"`
	Width  int    `json:"width"`
	Active bool   `json:"active"`
	Why    string `json:"why"`
	Target int    `json:"target"`
}

const sendStatsJS = `(async () => {
  const c = window.worktogether;
  const out = {rids: {}};
  if (!c || !c.publisher) return out;
  (await c.publisher.pc.getStats()).forEach(s => {
    if (s.type !== 'outbound-rtp' || s.kind !== 'video' || !s.rid) return;
    out.rids[s.rid] = {bytes: s.bytesSent || 0, width: s.frameWidth || 0, active: s.active !== false, why: s.qualityLimitationReason || '', target: s.targetBitrate || 0};
  });
  return out;
})()`

// recvTile is what a page receives of one remote participant's video.
type recvTile struct {
	Frames  int     `json:"frames"`
	Width   int     `json:"width"`
	Bytes   int     `json:"bytes"`
	FPS     float64 `json:"fps"`
	Freezes int     `json:"freezes"` // as Chromium counts them
	Paused  bool    `json:"paused"`  // the tile says the server holds its video back
}

const recvStatsJS = `(async () => {
  const c = window.worktogether;
  const out = {};
  if (!c || !c.pc) return out;
  const byMid = {};
  for (const tr of c.pc.getTransceivers()) {
    const s = tr.receiver.track && [...document.querySelectorAll('.tile:not(.self)')]
      .find(t => t.querySelector('video').srcObject && t.querySelector('video').srcObject.getTracks().includes(tr.receiver.track));
    if (s && tr.mid) byMid[tr.mid] = s;
  }
  (await c.pc.getStats()).forEach(s => {
    if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
    const tile = byMid[s.mid];
    if (!tile) return;
    out[tile.dataset.participant] = {frames: s.framesDecoded || 0, width: s.frameWidth || 0, bytes: s.bytesReceived || 0,
      fps: s.framesPerSecond || 0, freezes: s.freezeCount || 0, paused: tile.classList.contains('bandwidth-paused')};
  });
  return out;
})()`

func evalJSON[T any](t *testing.T, tab context.Context, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	return v
}

// poll evaluates js until cond holds on its result.
func poll[T any](t *testing.T, tab context.Context, within time.Duration, what, js string, cond func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		v := evalJSON[T](t, tab, js)
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, %s: last %+v", within, what, v)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func TestBrowsersPublishSimulcastAndTilesPickLayers(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t)
	sess := srv.createSession(t)
	people := []string{"Ada", "Bo", "Cy"}
	tabs := make([]context.Context, len(people))
	// Cy hosts, so the test can start the work phase from the room.
	link := func(name string) string {
		if name != "Cy" {
			return srv.invite(t, sess, name)
		}
		var inv struct {
			URL string `json:"url"`
		}
		srv.post(t, "/api/sessions/"+sess+"/invites", map[string]any{"name": name, "role": "host"}, &inv)
		return inv.URL
	}
	for i, name := range people {
		tabs[i] = newTab(t, browser)
		// Everyone is on a narrow window (phone layout, two tiles a row):
		// tiles are small, an enlarged one spans the row.
		w, h := int64(480), int64(800)
		within(t, tabs[i], 20*time.Second,
			chromedp.EmulateViewport(w, h),
			chromedp.Navigate(link(name)),
			chromedp.WaitEnabled("#join"),
			chromedp.Click("#join"),
			chromedp.WaitVisible("#inroom"),
		)
	}
	ada, cy := tabs[0], tabs[2]

	// Every publisher sends three layers.
	for i, tab := range tabs[:2] {
		poll(t, tab, 20*time.Second, fmt.Sprintf("%s sends three simulcast layers", people[i]), sendStatsJS, func(s sendStats) bool {
			return len(s.RIDs) == 3
		})
	}

	// Cy's tiles are small: the low layer arrives, and keeps moving.
	small := poll(t, cy, 20*time.Second, "Cy's small tiles receive the low layer", recvStatsJS, func(r map[string]recvTile) bool {
		if len(r) != 2 {
			return false
		}
		for _, v := range r {
			if v.Frames < 10 || v.Width == 0 || v.Width > 320 {
				return false
			}
		}
		return true
	})
	t.Logf("small tiles: %+v", small)
	screenshot(t, cy, "simulcast-small-tiles")

	// Nobody shows Ada large: her top layer stops at her encoder.
	poll(t, ada, 10*time.Second, "Ada stops sending a layer nobody receives", sendStatsJS, func(s sendStats) bool {
		f, ok := s.RIDs["f"]
		return ok && !f.Active
	})

	// Cy enlarges Ada's tile: the server asks Ada for a layer above the low
	// one, and Cy's decoding never stops.
	adaID := evalJSON[string](t, ada, `window.worktogether.welcome.you.id`)
	before := evalJSON[map[string]recvTile](t, cy, recvStatsJS)
	within(t, cy, 5*time.Second, chromedp.Click(fmt.Sprintf(`.tile[data-participant="%s"]`, adaID)))
	sent := poll(t, ada, 10*time.Second, "Ada is asked for a higher layer once Cy enlarges her tile", sendStatsJS, func(s sendStats) bool {
		return s.RIDs["h"].Active || s.RIDs["f"].Active
	})
	t.Logf("Ada sends %+v", sent)
	after := poll(t, cy, 10*time.Second, "Cy keeps decoding Ada, now at a larger layer", recvStatsJS, func(r map[string]recvTile) bool {
		return r[adaID].Frames > before[adaID].Frames+20 && r[adaID].Width > small[adaID].Width
	})
	t.Logf("enlarged: %+v", after)
	screenshot(t, cy, "simulcast-enlarged")

	// The work phase brings presence video: less is received, fewer frames
	// a second, and every tile keeps decoding. Ada stays enlarged (pinned):
	// Bo's tile is the one that changes.
	boID := evalJSON[string](t, tabs[1], `window.worktogether.welcome.you.id`)
	rate := func(what string) (kbps, fps float64, frames int) {
		t.Helper()
		a := evalJSON[map[string]recvTile](t, cy, recvStatsJS)
		time.Sleep(3 * time.Second) // a measuring window, not a wait for an event
		b := evalJSON[map[string]recvTile](t, cy, recvStatsJS)
		kbps = float64(b[boID].Bytes-a[boID].Bytes) * 8 / 3 / 1000
		fps = float64(b[boID].Frames-a[boID].Frames) / 3
		for id, v := range b {
			if v.Frames <= a[id].Frames {
				t.Fatalf("%s: the tile of %s stopped decoding (%d frames)", what, id, v.Frames)
			}
		}
		return kbps, fps, b[boID].Frames
	}
	roundKbps, roundFPS, _ := rate("in the round")
	within(t, cy, 5*time.Second, chromedp.Click(`[data-host="advance"]`))
	within(t, cy, 5*time.Second, chromedp.WaitVisible("#banner"))
	waitText(t, cy, "#phase", "Focused work", 5*time.Second)
	time.Sleep(2 * time.Second) // let the switch down to the low layer settle
	workKbps, workFPS, _ := rate("in the work phase")
	t.Logf("Bo's tile at Cy: round %.0f kbit/s %.1f fps, work %.0f kbit/s %.1f fps", roundKbps, roundFPS, workKbps, workFPS)
	if workKbps >= roundKbps/2 || workFPS >= roundFPS*0.7 || workFPS < 1 {
		t.Fatalf("presence video: %.0f kbit/s at %.1f fps in work against %.0f kbit/s at %.1f fps in the round", workKbps, workFPS, roundKbps, roundFPS)
	}
	screenshot(t, cy, "simulcast-work-presence")
}
