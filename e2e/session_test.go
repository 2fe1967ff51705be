package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// text returns the inner text of the first element matching sel.
func text(t *testing.T, tab context.Context, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {innerText: ''}).innerText`, sel)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitText waits until the element's text contains want.
func waitText(t *testing.T, tab context.Context, sel, want string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, within)
	defer cancel()
	js := fmt.Sprintf(`(document.querySelector(%q) || {innerText: ''}).innerText.includes(%q)`, sel, want)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js)); err != nil {
		t.Fatalf("%s never showed %q (shows %q): %v", sel, want, text(t, tab, sel), err)
	}
}

// mustContain fails unless got holds every one of wants.
func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, got)
		}
	}
}

// TestWholeSession runs a short Worktogether in three browsers: commitments,
// a quiet work phase driven by the server clock, reports, and the end.
func TestWholeSession(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t)
	plan := []map[string]any{{"kind": "commitment", "seconds": 600}, {"kind": "work", "seconds": 20}, {"kind": "closing", "seconds": 600}}
	var sess struct{ ID string }
	srv.post(t, "/api/sessions", map[string]any{"title": "Morning focus", "starts_at": time.Now().UTC().Format(time.RFC3339), "plan": plan}, &sess)
	people := []struct{ name, role, tasks string }{
		{"Ada", "host", "Write the intro\nSend the invoice"},
		{"Bo", "participant", "Fix the login bug"},
		{"Cy", "participant", "Plan the week\nCall the bank\nTidy the desk"},
	}
	tabs := make([]context.Context, len(people))
	for i, p := range people {
		var inv struct{ URL string }
		srv.post(t, "/api/sessions/"+sess.ID+"/invites", map[string]any{"name": p.name, "role": p.role}, &inv)
		tabs[i] = newTab(t, browser)
		within(t, tabs[i], 20*time.Second,
			chromedp.Navigate(inv.URL),
			chromedp.WaitEnabled("#join"),
			chromedp.Click("#join"),
			chromedp.WaitVisible("#commit-form"),
		)
	}
	for i, tab := range tabs {
		waitStats(t, tab, 20*time.Second, people[i].name+" sees and hears the other two", func(s mediaStats) bool {
			return s.RemoteTiles == 2 && s.FramesDecoded >= 20 && s.AudioPackets >= 40
		})
	}

	// Commitment round: an empty form is refused in the page; then each commits.
	within(t, tabs[1], 5*time.Second, chromedp.Click("#commit-form button"))
	waitText(t, tabs[1], "#mine .error", "at least one task", 5*time.Second)
	for i, p := range people {
		within(t, tabs[i], 10*time.Second,
			chromedp.SendKeys("#commit-form textarea", p.tasks),
			chromedp.Click("#commit-form button"),
		)
		waitText(t, tabs[i], "#mine .saved", "Saved", 5*time.Second)
	}
	for _, tab := range tabs {
		waitText(t, tab, "#people", "Call the bank", 5*time.Second)
		waitText(t, tab, "#people", "Fix the login bug", 5*time.Second)
	}
	waitText(t, tabs[2], "#round", "Speaking order", 5*time.Second)
	waitText(t, tabs[2], "#round", "Ada is speaking", 5*time.Second)
	if r := text(t, tabs[2], "#round"); strings.Contains(r, "null") || strings.Contains(r, "undefined") {
		t.Fatalf("speaking order shows junk: %q", r)
	}
	screenshot(t, tabs[2], "session-1-commitment")

	// The host mutes Bo from the people list, and takes it back.
	hostClicks := func(person, label string) {
		t.Helper()
		ok, err := chromedp.Run(tabs[0], chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
			const li = [...document.querySelectorAll('#people > li')].find((e) => e.querySelector('.who').firstChild.textContent === %q);
			const b = li && [...li.querySelectorAll('.actions button')].find((e) => e.textContent === %q);
			if (b) b.click();
			return !!b;
		})()`, person, label)))
		if err != nil || !ok {
			t.Fatalf("the host finds no %q button for %s: %v", label, person, err)
		}
	}
	hostClicks("Bo", "mute")
	waitText(t, tabs[1], "#toast", "The host muted you", 5*time.Second)
	waitText(t, tabs[2], "#tiles", "muted by host", 5*time.Second)
	hostClicks("Bo", "unmute")
	waitText(t, tabs[1], "#toast", "The host unmuted you", 5*time.Second)
	gone, cancel := context.WithTimeout(tabs[2], 5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(gone, chromedp.Poll[bool](`!document.querySelector('#tiles').innerText.includes('muted by host')`)); err != nil {
		t.Fatalf("Bo still shows as muted for Cy: %v", err)
	}

	// The host starts the work phase; the server's clock ends it.
	within(t, tabs[0], 5*time.Second, chromedp.Click(`[data-host="advance"]`))
	for _, tab := range tabs {
		within(t, tab, 5*time.Second, chromedp.WaitVisible("#banner"))
		waitText(t, tab, "#phase", "Focused work", 5*time.Second)
	}
	// From the moment work begins no page receives audio, while video keeps
	// coming. Count after a moment for what was already in flight.
	quiet := make([]mediaStats, len(tabs))
	for i, tab := range tabs {
		first := stats(t, tab)
		quiet[i] = waitStats(t, tab, 5*time.Second, "video goes on", func(s mediaStats) bool { return s.FramesDecoded > first.FramesDecoded+10 })
	}
	screenshot(t, tabs[1], "session-2-work")
	for i, tab := range tabs {
		s := waitStats(t, tab, 10*time.Second, people[i].name+" keeps decoding video during work", func(s mediaStats) bool {
			return s.FramesDecoded > quiet[i].FramesDecoded+40
		})
		// Counted inside the work phase: on a slow machine the closing
		// round (audio again) could otherwise begin before the last count.
		if phase := text(t, tab, "#phase"); !strings.Contains(phase, "Focused work") {
			t.Fatalf("the work phase ended (%q) before %s's video was counted: too slow a machine for a 20 s phase", phase, people[i].name)
		}
		if s.AudioPackets != quiet[i].AudioPackets {
			t.Fatalf("%s received %d audio packets during work", people[i].name, s.AudioPackets-quiet[i].AudioPackets)
		}
		if mic := text(t, tab, "#mic"); mic != "Mic off" {
			t.Fatalf("%s's mic button says %q during work", people[i].name, mic)
		}
	}

	// Closing round, by the clock: audio is back; each ticks what got done.
	for i, tab := range tabs {
		waitText(t, tab, "#phase", "Closing round", 25*time.Second)
		within(t, tab, 5*time.Second, chromedp.WaitVisible("#report-form"))
		// The microphones stay off until each turns theirs on again.
		within(t, tab, 5*time.Second, chromedp.Click("#mic"))
		waitStats(t, tab, 15*time.Second, people[i].name+" hears the others again", func(s mediaStats) bool {
			return s.AudioPackets > quiet[i].AudioPackets+40
		})
	}
	for i, tab := range tabs {
		within(t, tab, 10*time.Second,
			chromedp.Click(`#report-form input[data-task="0"]`),
			chromedp.SendKeys("#report-form textarea", fmt.Sprintf("%s: good morning", people[i].name)),
			chromedp.Click("#report-form button"),
		)
		waitText(t, tab, "#mine .saved", "Saved", 5*time.Second)
	}
	for _, tab := range tabs {
		waitText(t, tab, "#people", "Cy: good morning", 5*time.Second)
	}
	screenshot(t, tabs[2], "session-3-closing")

	// The host ends it: everyone sees what they set out to do and what got done.
	within(t, tabs[0], 5*time.Second, chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`), chromedp.Click(`[data-host="end"]`))
	for i, tab := range tabs {
		within(t, tab, 10*time.Second, chromedp.WaitVisible("#notice-history"))
		waitText(t, tab, "#notice-title", "ended", 5*time.Second)
		history := text(t, tab, "#notice-history")
		first := strings.Split(people[i].tasks, "\n")[0]
		if !strings.Contains(history, "✓ "+first) {
			t.Fatalf("%s's look back lacks their done task: %q", people[i].name, history)
		}
	}
	if h := text(t, tabs[0], "#notice-history"); !strings.Contains(h, "Fix the login bug") || !strings.Contains(h, "Tidy the desk") {
		t.Fatalf("the host does not see everyone: %q", h)
	}
	screenshot(t, tabs[0], "session-4-ended")
	if shown, err := chromedp.Run(tabs[0], chromedp.Evaluate[bool](`!document.querySelector('#status').hidden`)); err != nil || shown {
		t.Fatalf("the ended page still shows a connection status (%v)", err)
	}

	// Reloading the link later still shows the look back.
	within(t, tabs[1], 10*time.Second, chromedp.Reload(), chromedp.WaitVisible("#notice-history"))
	waitText(t, tabs[1], "#notice-history", "Fix the login bug", 5*time.Second)
}

// TestOneClockForAll: a computer whose clock is two minutes fast still shows
// the same time left as everyone else, because countdowns follow the
// server's clock.
func TestOneClockForAll(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t)
	sess := srv.createSession(t)
	skews := []int{0, 120000, -45000} // milliseconds each browser's clock is off
	tabs := make([]context.Context, len(skews))
	for i, skew := range skews {
		tabs[i] = newTab(t, browser)
		shift := fmt.Sprintf(`(() => { const real = Date.now; Date.now = () => real() + %d; })();`, skew)
		addScript := chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
			_, err := cdp.Call(ctx, tgt, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: shift})
			return err
		})
		within(t, tabs[i], 20*time.Second,
			addScript,
			chromedp.Navigate(srv.invite(t, sess, fmt.Sprintf("Person %d", i+1))),
			chromedp.WaitEnabled("#join"),
			chromedp.Click("#join"),
			chromedp.WaitVisible("#phase"),
		)
	}
	// Read every page's idea of the time left, and of the real time, at
	// nearly the same instant.
	const readJS = `(() => {
	  const c = window.worktogether;
	  const left = Date.parse(c.welcome.state.phase.ends_at) - c.serverNow();
	  return [left, Date.now()];
	})()`
	lefts := make([]float64, len(tabs))
	for i, tab := range tabs {
		v, err := chromedp.Run(tab, chromedp.Evaluate[[]float64](readJS))
		if err != nil {
			t.Fatal(err)
		}
		// Correct for the real time that passed between the readings.
		lefts[i] = v[0] + (v[1] - float64(skews[i]))
	}
	for i := range lefts {
		if d := lefts[i] - lefts[0]; d > 1000 || d < -1000 {
			t.Fatalf("page %d (clock off by %d ms) shows %.0f ms more time left than page 1", i+1, skews[i], d)
		}
	}
}
