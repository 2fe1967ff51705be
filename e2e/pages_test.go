package e2e

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/worktogether/worktogether/internal/testpeer"
)

// pageJS is what a room page shows of its tiles now: the remote tiles on
// the page and off it, the pager's words, and for each participant off the
// page whether the people list names them with their microphone, and
// whether their audio arrives (packets) and plays.
const pageJS = `(async () => {
  const tiles = [...document.querySelectorAll('.tile:not(.self)')];
  const on = tiles.filter(t => !t.classList.contains('off-page')).map(t => t.dataset.participant);
  const off = tiles.filter(t => t.classList.contains('off-page')).map(t => t.dataset.participant);
  const nav = document.getElementById('pager');
  const out = {on, off, hidden: nav.hidden, label: nav.getAttribute('aria-label') || '',
    status: document.getElementById('page-of').textContent,
    prev: document.getElementById('page-prev').textContent, next: document.getElementById('page-next').textContent,
    listed: {}, audio: {}, playing: {},
    speaker: (tiles.find(t => t.classList.contains('speaking')) || {dataset: {}}).dataset.participant || '',
    pinned: (tiles.find(t => t.classList.contains('pinned')) || {dataset: {}}).dataset.participant || ''};
  const c = window.worktogether;
  const byTrack = new Map();
  for (const t of tiles) {
    const a = t.querySelector('audio');
    out.playing[t.dataset.participant] = !!a && !!a.srcObject && !a.paused && a.srcObject.getAudioTracks().length > 0;
    for (const tr of (a && a.srcObject ? a.srcObject.getAudioTracks() : [])) byTrack.set(tr, t.dataset.participant);
  }
  const mids = {};
  if (c && c.pc) for (const tr of c.pc.getTransceivers()) if (tr.mid && byTrack.has(tr.receiver.track)) mids[tr.mid] = byTrack.get(tr.receiver.track);
  if (c && c.pc) (await c.pc.getStats()).forEach(s => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio' && mids[s.mid]) out.audio[mids[s.mid]] = s.packetsReceived || 0;
  });
  const names = {};
  for (const t of tiles) names[t.dataset.participant] = t.querySelector('.name').textContent;
  for (const id of off) {
    const li = [...document.querySelectorAll('#people li.present')].find(li => li.querySelector('.who').firstChild.textContent === names[id]);
    out.listed[id] = li ? ((li.querySelector('.mic-mark') || {}).textContent || '').trim() : '';
  }
  return out;
})()`

type pageView struct {
	On      []string          `json:"on"`
	Off     []string          `json:"off"`
	Hidden  bool              `json:"hidden"`
	Label   string            `json:"label"`
	Status  string            `json:"status"`
	Prev    string            `json:"prev"`
	Next    string            `json:"next"`
	Listed  map[string]string `json:"listed"`
	Audio   map[string]int    `json:"audio"`
	Playing map[string]bool   `json:"playing"`
	Speaker string            `json:"speaker"` // a remote tile that speaks in the round now
	Pinned  string            `json:"pinned"`
}

// has says whether id is among ids.
func has(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// twelvePublishers puts n Pion peers in session sess, each publishing VP8
// and Opus and saying whether its mic is on (every other one).
func twelvePublishers(t *testing.T, srv *server, sess string, n int) {
	t.Helper()
	// The test binary may run from anywhere: the video is found next to
	// this file's package.
	_, here, _, _ := runtime.Caller(0)
	ivf := filepath.Join(filepath.Dir(here), "..", "testdata", "v180.ivf")
	api, err := testpeer.LoopbackAPI()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		link, err := url.Parse(srv.invite(t, sess, fmt.Sprintf("Peer %02d", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		ws := "ws://" + srv.addr + "/ws?" + url.Values{"token": {link.Query().Get("t")}, "session": {sess}}.Encode()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		p, err := testpeer.Dial(ctx, api, ws, testpeer.Options{IVF: ivf, Audio: true})
		if err != nil {
			cancel()
			t.Fatalf("peer %d: %v", i+1, err)
		}
		t.Cleanup(p.Close)
		if _, err := p.Expect(ctx, "welcome"); err != nil {
			cancel()
			t.Fatalf("peer %d welcome: %v", i+1, err)
		}
		cancel()
		if err := p.Send(map[string]any{"type": "status", "mic": i%2 == 0, "camera": true}); err != nil {
			t.Fatal(err)
		}
	}
}

// A room of twelve Pion publishers and two browsers (English and German):
// each browser shows one page of tiles that fit its stage, with "Page 1 of
// N" controls in its language; every tile on the page decodes video, the
// server sends none for the tiles off it (their bytes stand still) while
// their audio still arrives and plays, and the people list names them with
// their microphone. Turning the page by keyboard shows the others, whose
// video then decodes, and stops the first page's. A pinned tile stays on
// every page. axe-core finds nothing serious with the pager shown.
func TestBigRoomShowsPagesOfTiles(t *testing.T) {
	browser := newBrowser(t)
	axe := axeSource(t)
	srv := startServer(t)
	sess := srv.createSession(t)
	twelvePublishers(t, srv, sess, 12)
	type tab struct {
		ctx                             context.Context
		lang, status, prev, next, label string
	}
	tabs := []tab{
		{lang: "en", status: "Page 1 of ", prev: "Previous page", next: "Next page", label: "Pages of tiles"},
		{lang: "de", status: "Seite 1 von ", prev: "Vorige Seite", next: "Nächste Seite", label: "Seiten der Kacheln"},
	}
	for i := range tabs {
		tabs[i].ctx = newTab(t, browser)
		within(t, tabs[i].ctx, 30*time.Second,
			chromedp.EmulateViewport(1280, 800),
			chromedp.Navigate(srv.invite(t, sess, "Browser "+tabs[i].lang)+"&lang="+tabs[i].lang),
			chromedp.WaitEnabled("#join"),
			chromedp.Click("#join"),
			chromedp.WaitVisible("#inroom"),
		)
	}
	const remote = 13 // twelve peers and the other browser
	for _, tb := range tabs {
		v := poll(t, tb.ctx, 40*time.Second, tb.lang+": all remote tiles are there, a page of them shown", pageJS, func(v pageView) bool {
			return len(v.On)+len(v.Off) == remote && len(v.Off) > 0
		})
		// A laptop stage holds at most nine tiles, the own one among them.
		if len(v.On) > 8 || len(v.On) < 2 {
			t.Fatalf("%s: %d remote tiles on the page, want 2 to 8", tb.lang, len(v.On))
		}
		pages := (remote + len(v.On) - 1) / len(v.On)
		if v.Hidden || v.Status != fmt.Sprintf("%s%d", tb.status, pages) || v.Prev != tb.prev || v.Next != tb.next || v.Label != tb.label {
			t.Fatalf("%s: pager %+v, want %q%d, %q, %q, %q", tb.lang, v, tb.status, pages, tb.prev, tb.next, tb.label)
		}
		for _, id := range v.Off {
			if m := v.Listed[id]; m == "" {
				t.Fatalf("%s: %s is off the page and not listed with their mic: %+v", tb.lang, id, v.Listed)
			}
		}
		accessible(t, tb.ctx, axe, "big-room-"+tb.lang)
		screenshot(t, tb.ctx, "big-room-page1-"+tb.lang)
	}

	// decodesOnlyPage waits until, over one window, every tile on the page
	// decoded frames and no tile off it received a video byte, while the
	// off-page tiles' audio came on and played.
	decodesOnlyPage := func(ctx context.Context, what string) pageView {
		t.Helper()
		var v pageView
		var before map[string]recvTile
		deadline := time.Now().Add(40 * time.Second)
		for {
			v = evalJSON[pageView](t, ctx, pageJS)
			r := evalJSON[map[string]recvTile](t, ctx, recvStatsJS)
			ok := before != nil
			// The speaker in a round and the pinned tile are on every page.
			for _, id := range []string{v.Speaker, v.Pinned} {
				if id != "" && !has(v.On, id) {
					t.Fatalf("%s: %s (speaker %q, pinned %q) is off the page %v", what, id, v.Speaker, v.Pinned, v.On)
				}
			}
			for _, id := range v.On {
				if r[id].Frames < before[id].Frames+10 {
					ok = false
				}
			}
			for _, id := range v.Off {
				if r[id].Bytes != before[id].Bytes || !v.Playing[id] || v.Audio[id] == 0 {
					ok = false
				}
			}
			if ok {
				return v
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: after 40 s the page %v does not decode alone (off %v): before %+v, now %+v, audio %v, playing %v", what, v.On, v.Off, before, r, v.Audio, v.Playing)
			}
			before = r
			time.Sleep(2 * time.Second) // the window frames and bytes are counted in
		}
	}
	en := tabs[0].ctx
	first := decodesOnlyPage(en, "page 1")
	decodesOnlyPage(tabs[1].ctx, "German page 1")

	// The next page, by keyboard: the others are shown and decode.
	within(t, en, 5*time.Second, chromedp.Focus("#page-next"), chromedp.KeyEvent("\r"))
	waitText(t, en, "#page-of", "Page 2 of ", 5*time.Second)
	second := decodesOnlyPage(en, "page 2")
	t.Logf("page 1 %v, page 2 %v, speaker %q", first.On, second.On, second.Speaker)
	for _, id := range second.On {
		if has(first.On, id) && id != second.Speaker {
			t.Fatalf("%s is on page 1 and page 2 (nothing pinned, not speaking): %v, %v", id, first.On, second.On)
		}
	}
	if len(first.On)+len(second.On) < remote {
		// Two pages of a 13 tiles: together they show everyone.
		t.Fatalf("pages 1 and 2 show %d tiles of %d", len(first.On)+len(second.On), remote)
	}
	screenshot(t, en, "big-room-page2-en")

	// A tile pinned on page 2 stays on page 1.
	pinned := second.On[len(second.On)-1]
	within(t, en, 5*time.Second, chromedp.Click(fmt.Sprintf(`.tile[data-participant="%s"] button.pin`, pinned)))
	within(t, en, 5*time.Second, chromedp.Focus("#page-prev"), chromedp.KeyEvent("\r"))
	waitText(t, en, "#page-of", "Page 1 of ", 5*time.Second)
	back := decodesOnlyPage(en, "page 1 with a pinned tile")
	if !has(back.On, pinned) || back.Pinned != pinned {
		t.Fatalf("the pinned tile %s left the page: %v", pinned, back.On)
	}
	accessible(t, en, axe, "big-room-pinned")
}
