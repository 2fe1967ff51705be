package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/worktogether/worktogether/i18n"
	"github.com/worktogether/worktogether/links"
	"github.com/worktogether/worktogether/static"
	"github.com/worktogether/worktogether/store"
)

// A phone's viewport, in CSS pixels.
const phoneW, phoneH = 390, 844

// widerJS names what sticks out to the right of the viewport: the page's
// own width beyond it, and the first few elements whose box does.
// The phone's width is given (a mobile browser widens its layout viewport
// to the content, so innerWidth would hide the overflow).
const widerJS = `((vw) => {
  const out = [];
  if (document.documentElement.scrollWidth > vw) out.push('page ' + document.documentElement.scrollWidth + 'px');
  for (const e of document.querySelectorAll('body *')) {
    if (!e.checkVisibility()) continue;
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 1) {
      out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '') + ' to ' + Math.round(r.right) + 'px');
      if (out.length > 5) break;
    }
  }
  return out;
})(%d)`

// clippedJS names the words on the page cut off by their box (an "…" or
// a hidden overflow), but for a session's own title in the header, which
// may be as long as a host likes.
const clippedJS = `(() => {
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    if (!e.checkVisibility() || e.closest('select, textarea, .bar .title, .visually-hidden')) continue;
    const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (own && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible') out.push(e.textContent.trim());
  }
  return out;
})()`

// onPhone checks the page in tab as it is now: a screenshot kept in the
// artifacts, and a failure when anything is wider than the phone or has
// its words cut off.
func onPhone(t *testing.T, tab context.Context, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(widerJS, phoneW)))
	if err != nil {
		t.Fatal(err)
	}
	if len(wide) > 0 {
		t.Errorf("%s is wider than a %d px phone: %s", name, phoneW, strings.Join(wide, "; "))
	}
	clipped, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](clippedJS))
	if err != nil {
		t.Fatal(err)
	}
	if len(clipped) > 0 {
		t.Errorf("%s cuts words off on a %d px phone: %q", name, phoneW, clipped)
	}
	screenshot(t, tab, "phone-"+name)
	// A full-page screenshot changes the metrics for a moment: back to the phone.
	within(t, tab, 5*time.Second, chromedp.EmulateViewport(phoneW, phoneH, chromedp.EmulateScale(2), chromedp.EmulateMobile))
}

// TestEveryPageFitsAPhone opens every page on a 390 × 844 screen, in
// English and in German (whose words are longer), keeps a screenshot of
// each (WT_ARTIFACTS), and fails when one is wider than the screen.
func TestEveryPageFitsAPhone(t *testing.T) {
	text, err := i18n.Load(static.Files, "i18n", "en", "de")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, chromium, wednesday, friday string }{
		{"en", "en-US", "Wednesday", "Friday"},
		{"de", "de-DE", "Mittwoch", "Freitag"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			msg := func(key string, args ...any) string { return text.T(tc.lang, key, args...) }
			everyPageOnAPhone(t, tc.lang, tc.chromium, msg, tc.wednesday, tc.friday)
		})
	}
}

// everyPageOnAPhone is TestEveryPageFitsAPhone in one language: msg gives
// its catalog's words.
func everyPageOnAPhone(t *testing.T, lang, chromium string, msg func(string, ...any) string, wednesday, friday string) {
	browser := newBrowser(t, chromedp.Flag("lang", chromium), chromedp.Flag("accept-lang", chromium+","+lang))
	srv := startServer(t)
	plan := []map[string]any{{"kind": "commitment", "seconds": 600}, {"kind": "work", "seconds": 600}, {"kind": "closing", "seconds": 600}}
	var sess struct {
		ID      string
		OpenURL string `json:"open_url"`
	}
	srv.post(t, "/api/sessions", map[string]any{"title": "A session with a rather long title for a small screen", "starts_at": time.Now().UTC().Format(time.RFC3339), "plan": plan, "capacity": 2}, &sess)
	for i := 0; i < 7; i++ {
		var more struct{ ID string }
		srv.post(t, "/api/sessions", map[string]any{"title": fmt.Sprintf("Later %d", i), "starts_at": time.Now().Add(time.Duration(i+1) * 24 * time.Hour).UTC().Format(time.RFC3339)}, &more)
	}
	var series struct{ ID string }
	first := time.Now().Add(48*time.Hour).Format("2006-01-02") + "T09:00"
	srv.post(t, "/api/series", map[string]any{"title": "Wednesday mornings", "first": first, "timezone": "Europe/Berlin", "rrule": "FREQ=WEEKLY;BYDAY=WE"}, &series)
	ended := srv.createSession(t)
	srv.endWith(t, ended, did{"p-1", "Dee", []string{"Write"}, []bool{true}, "ok", ""})
	var host, guest, third struct{ URL string }
	srv.post(t, "/api/sessions/"+sess.ID+"/invites", map[string]any{"name": "Ada", "role": "host"}, &host)
	srv.post(t, "/api/sessions/"+sess.ID+"/invites", map[string]any{"name": "Bo"}, &guest)
	srv.post(t, "/api/sessions/"+sess.ID+"/invites", map[string]any{"name": "Cy"}, &third)
	// Each screenshot is named for its language too.
	shot := func(t *testing.T, tab context.Context, name string) { t.Helper(); onPhone(t, tab, lang+"-"+name) }

	phone := func() context.Context {
		tab := newTab(t, browser)
		within(t, tab, 5*time.Second, chromedp.EmulateViewport(phoneW, phoneH, chromedp.EmulateScale(2), chromedp.EmulateMobile))
		return tab
	}
	tab := phone()
	within(t, tab, 20*time.Second, chromedp.Navigate(srv.url+"/"), chromedp.WaitVisible(".session"))
	shot(t, tab, "home")
	within(t, tab, 20*time.Second, chromedp.Navigate(srv.url+"/host"), chromedp.WaitVisible("#signin-form"))
	shot(t, tab, "host-signin")
	hostSignIn(t, tab, srv, "#hosting")
	waitText(t, tab, "#list", "A session with a rather long title", 10*time.Second)
	within(t, tab, 10*time.Second, chromedp.WaitVisible("#past .session"), chromedp.WaitVisible("#series-list li"))
	shot(t, tab, "host")
	// The series in words, the default title naming the weekday, times with
	// their zone, and the upcoming sessions a page at a time.
	waitText(t, tab, "#series-list", msg("host.series_words", "title", "Wednesday mornings", "rule", msg("host.rule_weekly", "day", wednesday, "time", "9:00", "zone", "Europe/Berlin")), 5*time.Second)
	is(t, tab, "the zone of the times", fmt.Sprintf(`document.querySelector('#create-zone').textContent === %q.replace('{zone}', Intl.DateTimeFormat().resolvedOptions().timeZone)`, msg("host.in_zone")))
	is(t, tab, "a Friday series is called so", fmt.Sprintf(`(() => {
	  const f = document.querySelector('#series-form'); const first = f.elements.namedItem('first');
	  first.value = '2026-12-04T09:00'; first.dispatchEvent(new Event('input'));
	  return f.elements.namedItem('title').value === %q;
	})()`, msg("host.series_default_title", "day", friday)))
	pageOf := func(n int) string { return strings.SplitN(msg("host.page_of", "n", n), "{m}", 2)[0] }
	is(t, tab, "five upcoming sessions on the first page", fmt.Sprintf(`document.querySelectorAll('#list > .session').length === 5 && document.querySelector('#list-pages').innerText.includes(%q)`, pageOf(1)))
	first5 := value(t, tab, `document.querySelector('#list').innerText`)
	within(t, tab, 5*time.Second, chromedp.Click(`#list-pages button:last-child`))
	is(t, tab, "more on the second", fmt.Sprintf(`document.querySelectorAll('#list > .session').length > 0 && document.querySelector('#list-pages').innerText.includes(%q) && document.querySelector('#list').innerText !== %q`, pageOf(2), first5))
	is(t, tab, "past sessions apart", `document.querySelectorAll('#past > .session').length === 1 && !document.querySelector('#list').innerText.includes('Browser test')`)
	for name, link := range map[string]string{"refused-link": srv.url + "/s/" + sess.ID + "?t=nonsense", "incomplete-link": srv.url + "/s/" + sess.ID} {
		within(t, tab, 20*time.Second, chromedp.Navigate(link), chromedp.WaitVisible("#notice"))
		shot(t, tab, name)
	}
	// The open link's name form.
	within(t, tab, 20*time.Second, chromedp.Navigate(sess.OpenURL), chromedp.WaitVisible("#guest-name"))
	shot(t, tab, "open-link")

	// Pages the server writes, for a subscriber.
	sub := store.Subscriber{ID: "sub-dee", Email: "dee@example.org", Name: "Dee", Lang: lang, TZ: "Europe/Berlin"}
	if err := srv.store.Subscribe(context.Background(), sub, time.Now()); err != nil {
		t.Fatal(err)
	}
	confirm, _ := srv.links.Confirm(sub, time.Now())
	record, _ := srv.links.Record(sub)
	unsub, _ := srv.links.Unsubscribe(sub)
	expired, err := srv.links.Confirm(sub, time.Now().Add(-60*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []struct{ name, link string }{
		{"confirm", confirm}, {"record", record}, {"unsubscribe", unsub},
		{"forget", strings.Replace(record, "/record?", "/forget?", 1)},
		{"bad-link", srv.url + "/record?token=nonsense"}, {"expired-link", expired}, {"not-found", srv.url + "/no/such/page"},
	} {
		within(t, tab, 10*time.Second, chromedp.Navigate(page.link), chromedp.WaitVisible("main h1"))
		shot(t, tab, page.name)
	}
	endedSess, err := srv.store.GetSession(context.Background(), ended)
	if err != nil {
		t.Fatal(err)
	}
	p := links.SubscriberParticipant(sub, ended)
	srv.endWith(t, ended, did{p.ID, p.Name, []string{"Draft the proposal"}, []bool{true}, "done", ""})
	join, err := srv.links.SubscriberJoin(endedSess, sub)
	if err != nil {
		t.Fatal(err)
	}
	within(t, tab, 20*time.Second, chromedp.Navigate(join), chromedp.WaitVisible("#record-link"))
	shot(t, tab, "room-ended")

	// The room: pre-join, then in the room with a second person.
	ada, bo := phone(), phone()
	within(t, ada, 20*time.Second, chromedp.Navigate(host.URL), chromedp.WaitEnabled("#join"))
	is(t, ada, "the preview shows", `document.querySelector('#preview').videoWidth > 0`)
	shot(t, ada, "prejoin")
	within(t, ada, 10*time.Second, chromedp.Click("#join"), chromedp.WaitVisible(`#status[data-status="connected"]`))
	within(t, bo, 20*time.Second, chromedp.Navigate(guest.URL), chromedp.WaitEnabled("#join"), chromedp.Click("#join"),
		chromedp.WaitVisible(`#status[data-status="connected"]`))
	waitText(t, ada, "#tiles", "Bo", 10*time.Second)
	shot(t, ada, "room-commitment-host")
	shot(t, bo, "room-commitment")
	within(t, ada, 5*time.Second, chromedp.Click(`[data-host="advance"]`))
	waitText(t, bo, "#phase", msg("phase.work"), 10*time.Second)
	shot(t, bo, "room-work")

	// Full: the third person hears it before the camera opens.
	cy := phone()
	within(t, cy, 20*time.Second, chromedp.Navigate(third.URL), chromedp.WaitVisible("#notice"))
	waitText(t, cy, "#notice", msg("room.full"), 5*time.Second)
	is(t, cy, "no camera for a full room", `!document.querySelector('#preview').srcObject`)
	shot(t, cy, "room-full")

	within(t, bo, 5*time.Second, chromedp.Click("#leave"), chromedp.WaitVisible("#notice"))
	shot(t, bo, "room-left")
}
