package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/worktogether/worktogether/static"
	"github.com/worktogether/worktogether/store"
)

// foreignJS lists the visible text on the page that is not from the catalog
// (cat: key → message, {name} placeholders match anything), the people's
// own data (user), numbers and clocks, time zone names, dates written for
// the page's language (dates: ISO times), or device names. Text nodes are
// checked one by one, and each part between " · " on its own; so are the
// values the page put in its text fields and the options of its menus
// (not the devices', which are the devices' own names).
const foreignJS = `((cat, user, dates) => {
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pats = Object.values(cat).map((v) => new RegExp('^' + v.trim().split(/\{\w+\}/).map(esc).join('.+?') + '$', 's'));
  const lang = document.documentElement.lang;
  const opts = { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' };
  const known = new Set([...user, 'Worktogether', ...dates.map((d) => new Date(d).toLocaleString(lang, opts))]);
  const zone = /^(UTC|[A-Z][A-Za-z]+(\/[A-Za-z_\-]+)+)$/;
  const ok = (s) => !s || known.has(s) || zone.test(s) || /^[\d\s:·.,+%%✓○()\-–?]*$/.test(s) || /^[A-ZÄÖÜ?]{1,2}$/.test(s) || pats.some((p) => p.test(s));
  const bad = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walk.nextNode());) {
    const e = n.parentElement;
    if (!e || e.closest('select, textarea, [hidden]') || !e.checkVisibility()) continue;
    const s = n.textContent.trim();
    if (ok(s)) continue;
    if (s.split(' · ').every((p) => ok(p.trim()))) continue;
    bad.push(s);
  }
  for (const e of document.querySelectorAll('[placeholder], [title], [aria-label]')) {
    if (!e.checkVisibility()) continue;
    for (const a of ['placeholder', 'title', 'aria-label']) {
      const v = e.getAttribute(a);
      if (v && !ok(v.trim())) bad.push(a + '=' + v);
    }
  }
  for (const e of document.querySelectorAll('input:not([type]), input[type="text"], input[type="email"], option')) {
    const box = e.tagName === 'OPTION' ? e.closest('select') : e;
    if (!box || box.matches('#camera, #microphone, #room-camera, #room-microphone') || box.closest('[hidden]') || !box.checkVisibility()) continue;
    const v = (e.tagName === 'OPTION' ? e.textContent : e.value).trim();
    if (!ok(v)) bad.push((e.tagName === 'OPTION' ? 'option=' : 'value=') + v);
  }
  if (lang !== %q) bad.push('<html lang="' + lang + '">');
  return bad;
})(%s, %s, %s)`

// TestEveryWordInTheCatalog walks the pages and the room's phases in a
// German and an English browser and fails on any visible text that is not
// from that language's catalog, and on any critical or serious axe-core
// violation in each of those states.
func TestEveryWordInTheCatalog(t *testing.T) {
	for _, tc := range []struct{ lang, chromium, accept, ended, tick, series string }{
		{"de", "de-DE", "de-DE,de", "Diese Session ist zu Ende", "Hak ab", "Schreibzeit: jeden Mittwoch, 9:00 Europe/Berlin"},
		{"en", "en-US", "en-US,en", "This session has ended", "Tick what got done", "Schreibzeit: every Wednesday, 9:00 Europe/Berlin"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			raw, err := fs.ReadFile(static.Files, "i18n/"+tc.lang+".json")
			if err != nil {
				t.Fatal(err)
			}
			axe := axeSource(t)
			browser := newBrowser(t, chromedp.Flag("lang", tc.chromium), chromedp.Flag("accept-lang", tc.accept))
			srv := startServer(t)
			plan := []map[string]any{{"kind": "commitment", "seconds": 600}, {"kind": "work", "seconds": 600},
				{"kind": "break", "seconds": 300}, {"kind": "work", "seconds": 600}, {"kind": "closing", "seconds": 600}}
			startsAt := time.Now().UTC().Format(time.RFC3339)
			var sess struct{ ID string }
			srv.post(t, "/api/sessions", map[string]any{"title": "Schreibzeit", "starts_at": startsAt, "plan": plan}, &sess)
			var series struct{ ID string }
			srv.post(t, "/api/series", map[string]any{"title": "Schreibzeit", "first": time.Now().Add(48*time.Hour).Format("2006-01-02") + "T09:00",
				"timezone": "Europe/Berlin", "rrule": "FREQ=WEEKLY;BYDAY=WE"}, &series)
			var host, guest struct{ URL string }
			srv.post(t, "/api/sessions/"+sess.ID+"/invites", map[string]any{"name": "Ada Lovelace", "role": "host"}, &host)
			srv.post(t, "/api/sessions/"+sess.ID+"/invites", map[string]any{"name": "Bo"}, &guest)
			user := []string{"Schreibzeit", "Ada Lovelace", "Bo", "Kapitel zwei", "Mails", "Lief gut.", "Dee", "dee@example.org"}
			userJSON, _ := json.Marshal(user)
			lobbyAt := time.Now().Add(5 * time.Minute).UTC().Format(time.RFC3339)
			datesJSON, _ := json.Marshal([]string{startsAt, lobbyAt})
			check := func(tab context.Context, state string) {
				t.Helper()
				ctx, cancel := context.WithTimeout(tab, 5*time.Second)
				defer cancel()
				bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(foreignJS, tc.lang, raw, userJSON, datesJSON)))
				if err != nil {
					t.Fatal(err)
				}
				if len(bad) > 0 {
					t.Errorf("%s: text not in the %s catalog: %q", state, tc.lang, bad)
				}
				screenshot(t, tab, "lang-"+tc.lang+"-"+state)
				accessible(t, tab, axe, tc.lang+"-"+state)
			}
			ada, bo := newTab(t, browser), newTab(t, browser)
			within(t, ada, 20*time.Second, chromedp.Navigate(srv.url+"/"), chromedp.WaitVisible(".session"))
			check(ada, "home")
			within(t, ada, 10*time.Second,
				chromedp.SendKeys(`#subscribe-form input[name="email"]`, "dee@example.org"),
				chromedp.SendKeys(`#subscribe-form input[name="name"]`, "Dee"),
				chromedp.Click("#subscribe-form button"),
				chromedp.WaitVisible("#subscribe-result.ok"))
			check(ada, "subscribed")
			hostSignIn(t, ada, srv, "#hosting")
			waitText(t, ada, "#list", "Schreibzeit", 10*time.Second)
			within(t, ada, 10*time.Second, chromedp.WaitVisible("#subscribers b"))
			waitText(t, ada, "#series-list", tc.series, 10*time.Second)
			check(ada, "host")
			within(t, ada, 20*time.Second, chromedp.Navigate(srv.url+"/s/"+sess.ID+"?t=nonsense"), chromedp.WaitVisible("#notice"))
			check(ada, "refused-link")
			within(t, bo, 20*time.Second, chromedp.Navigate(guest.URL), chromedp.WaitEnabled("#join"))
			check(bo, "prejoin")
			// The connection check, on a server with nothing to test against.
			within(t, bo, 20*time.Second, chromedp.Click("#check-run"), chromedp.WaitVisible(`#check-result[data-verdict="none"]`))
			check(bo, "connection-check")
			within(t, ada, 20*time.Second, chromedp.Navigate(host.URL), chromedp.WaitEnabled("#join"), chromedp.Click("#join"),
				chromedp.WaitVisible(`#status[data-status="connected"]`))
			within(t, bo, 20*time.Second, chromedp.Click("#join"), chromedp.WaitVisible("#commit-form"),
				chromedp.WaitVisible(`#status[data-status="connected"]`))
			waitText(t, bo, "#tiles", "Ada Lovelace", 10*time.Second)
			check(bo, "commitment")
			waitValue(t, bo, "the countdown in the tab title",
				`document.title.startsWith(document.querySelector('#phase').textContent.split(' · ')[0]) && /\d+:\d\d · Schreibzeit$/.test(document.title)`, "true", 5*time.Second)
			within(t, bo, 5*time.Second, chromedp.Click("#commit-form button"))
			within(t, bo, 5*time.Second, chromedp.WaitVisible("#mine .error"))
			check(bo, "commitment-refused")
			within(t, bo, 5*time.Second, chromedp.SendKeys("#commit-form textarea", "Kapitel zwei\nMails"), chromedp.Click("#commit-form button"))
			waitText(t, ada, "#people", "Kapitel zwei", 5*time.Second)
			check(ada, "commitment-host")
			advance := func(state string, tab context.Context) {
				t.Helper()
				before := text(t, bo, "#phase")
				within(t, ada, 5*time.Second, chromedp.Click(`[data-host="advance"]`))
				ctx, cancel := context.WithTimeout(bo, 5*time.Second)
				defer cancel()
				if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`!document.querySelector('#phase').innerText.startsWith(%q)`, strings.SplitN(before, " · ", 2)[0]))); err != nil {
					t.Fatalf("%s: the phase did not change from %q", state, before)
				}
				check(tab, state)
			}
			advance("work", bo)
			advance("break", bo)
			advance("work-2", ada)
			advance("closing", bo)
			waitText(t, bo, "#mine", tc.tick, 5*time.Second)
			within(t, bo, 5*time.Second, chromedp.Click(`#report-form input[data-task="0"]`),
				chromedp.SendKeys("#report-form textarea", "Lief gut."), chromedp.Click("#report-form button"))
			waitText(t, ada, "#people", "Lief gut.", 5*time.Second)
			check(ada, "closing-host")
			within(t, ada, 5*time.Second, chromedp.Click(`[data-host="advance"]`))
			waitText(t, bo, "#notice", tc.ended, 10*time.Second)
			check(bo, "ended")
			check(ada, "ended-host")
			within(t, ada, 20*time.Second, chromedp.Navigate(srv.url+"/host"), chromedp.WaitVisible("#past .session"),
				chromedp.Click("#past .session button"), chromedp.WaitVisible("#past .summary .history"))
			check(ada, "host-past")

			// The pages the server writes, for a subscriber who chose this language.
			sub := store.Subscriber{ID: "sub-dee", Email: "dee2@example.org", Name: "Dee", Lang: tc.lang, TZ: "Europe/Berlin"}
			if err := srv.store.Subscribe(context.Background(), sub, time.Now()); err != nil {
				t.Fatal(err)
			}
			confirm, err := srv.links.Confirm(sub, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			record, err := srv.links.Record(sub)
			if err != nil {
				t.Fatal(err)
			}
			unsub, err := srv.links.Unsubscribe(sub)
			if err != nil {
				t.Fatal(err)
			}
			tab := newTab(t, browser)
			expired, err := srv.links.Confirm(sub, time.Now().Add(-60*24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			for name, link := range map[string]string{"confirm": confirm, "record": record, "unsubscribe": unsub,
				"forget": strings.Replace(record, "/record?", "/forget?", 1), "bad-link": srv.url + "/record?token=nonsense",
				"expired-link": expired, "not-found": srv.url + "/no/such/page"} {
				within(t, tab, 10*time.Second, chromedp.Navigate(link), chromedp.WaitVisible("main h1"))
				check(tab, name)
			}

			// The lobby, the open link's name form, and the room's other
			// ways out: another tab took over, the session was cancelled,
			// the session is full.
			var later struct {
				ID      string
				OpenURL string `json:"open_url"`
			}
			srv.post(t, "/api/sessions", map[string]any{"title": "Schreibzeit", "starts_at": lobbyAt, "plan": plan, "capacity": 1}, &later)
			var dee, cy struct{ URL string }
			srv.post(t, "/api/sessions/"+later.ID+"/invites", map[string]any{"name": "Dee"}, &dee)
			srv.post(t, "/api/sessions/"+later.ID+"/invites", map[string]any{"name": "Bo"}, &cy)
			within(t, tab, 20*time.Second, chromedp.Navigate(later.OpenURL), chromedp.WaitVisible("#guest-name"))
			check(tab, "open-link")
			first, second, third := newTab(t, browser), newTab(t, browser), newTab(t, browser)
			within(t, first, 20*time.Second, chromedp.Navigate(dee.URL), chromedp.WaitEnabled("#join"), chromedp.Click("#join"),
				chromedp.WaitVisible(`#status[data-status="connected"]`), chromedp.WaitVisible("#commit-form"))
			waitText(t, first, "#phase", strings.SplitN(msgOf(t, raw, "room.lobby_left"), " ", 2)[0], 5*time.Second)
			check(first, "lobby")
			within(t, third, 20*time.Second, chromedp.Navigate(cy.URL), chromedp.WaitVisible("#notice"))
			waitText(t, third, "#notice", msgOf(t, raw, "room.full"), 5*time.Second)
			check(third, "full")
			within(t, second, 20*time.Second, chromedp.Navigate(dee.URL), chromedp.WaitEnabled("#join"), chromedp.Click("#join"),
				chromedp.WaitVisible(`#status[data-status="connected"]`))
			waitText(t, first, "#notice", msgOf(t, raw, "room.replaced"), 10*time.Second)
			check(first, "replaced")
			noCountdown(t, first, msgOf(t, raw, "room.replaced"))
			srv.do(t, "DELETE", "/api/sessions/"+later.ID)
			waitText(t, second, "#notice", msgOf(t, raw, "room.cancelled"), 10*time.Second)
			check(second, "cancelled")
			noCountdown(t, second, msgOf(t, raw, "room.cancelled"))
			within(t, third, 20*time.Second, chromedp.Reload(), chromedp.WaitVisible("#notice"))
			waitText(t, third, "#notice", msgOf(t, raw, "room.link_refused"), 10*time.Second)
			check(third, "cancelled-link")
		})
	}
}

// msgOf is key's message in the catalog raw (a language's JSON).
func msgOf(t *testing.T, raw []byte, key string) string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	v, ok := m[key]
	if !ok {
		t.Fatalf("no %s in the catalog", key)
	}
	return v
}

// noCountdown fails unless a room page that was left shows no countdown: the
// phase display hidden, and the tab's title the notice's (title), unchanged
// over the next two seconds of the page's own clock.
func noCountdown(t *testing.T, tab context.Context, title string) {
	t.Helper()
	want := title + " · Worktogether"
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(() => {
	  window.titleChanges = 0;
	  window.watchedSince = performance.now();
	  new MutationObserver(() => window.titleChanges++).observe(document.querySelector('title'), { childList: true, characterData: true, subtree: true });
	  return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	waitValue(t, tab, "no countdown once the room is left", fmt.Sprintf(
		`performance.now() - window.watchedSince > 2000 && window.titleChanges === 0 && document.title === %q && document.querySelector('#phase').hidden`, want),
		"true", 10*time.Second)
}
