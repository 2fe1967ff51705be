package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// value reads a form field's value (or checked state, as "true"/"false").
func value(t *testing.T, tab context.Context, js string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitValue waits until js gives want.
func waitValue(t *testing.T, tab context.Context, what, js, want string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, d)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`String(%s) === %q`, js, want))); err != nil {
		t.Fatalf("%s: want %q, got %q (%v)", what, want, value(t, tab, "String("+js+")"), err)
	}
}

// minutesLeft is the phase display's countdown in whole minutes.
const minutesLeft = `parseInt(document.querySelector('#phase').textContent.split('· ')[1])`

// TestDraftsSurvive: what someone typed but did not save is still there
// after the host extends and advances, after a reload and after the server
// restarts, and the page says it is not saved.
func TestDraftsSurvive(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t)
	plan := []map[string]any{{"kind": "commitment", "seconds": 600}, {"kind": "work", "seconds": 600}, {"kind": "closing", "seconds": 600}}
	var sess struct{ ID string }
	srv.post(t, "/api/sessions", map[string]any{"title": "Drafts", "starts_at": time.Now().UTC().Format(time.RFC3339), "plan": plan}, &sess)
	var host, bo struct{ URL string }
	srv.post(t, "/api/sessions/"+sess.ID+"/invites", map[string]any{"name": "Ada", "role": "host"}, &host)
	srv.post(t, "/api/sessions/"+sess.ID+"/invites", map[string]any{"name": "Bo"}, &bo)
	ada, bob := newTab(t, browser), newTab(t, browser)
	enter := func(tab context.Context, url string, form string) {
		t.Helper()
		within(t, tab, 20*time.Second,
			chromedp.Navigate(url),
			chromedp.WaitEnabled("#join"),
			chromedp.Click("#join"),
			chromedp.WaitVisible(form),
			chromedp.WaitVisible(`#status[data-status="connected"]`),
		)
	}
	enter(ada, host.URL, "#mine")
	enter(bob, bo.URL, "#commit-form")
	hostDoes := func(sel, kind string) {
		t.Helper()
		within(t, ada, 5*time.Second, chromedp.Click(sel))
		waitText(t, bob, "#phase", kind, 5*time.Second)
	}
	const tasks = "Write the draft test\nCall the bank"
	commitText := `document.querySelector('#commit-form textarea').value`
	// Typed, not saved, and the box left (the mic button takes the focus).
	within(t, bob, 5*time.Second, chromedp.SendKeys("#commit-form textarea", tasks), chromedp.Click("#mic"))
	waitText(t, bob, "#mine .saved", "Not saved yet", 5*time.Second)
	within(t, ada, 5*time.Second, chromedp.Click(`[data-host="extend"][data-seconds="300"]`))
	waitValue(t, bob, "10 min and 5 more", minutesLeft+" > 10", "true", 5*time.Second)
	waitValue(t, bob, "the commitment draft after +5 min", commitText, tasks, 5*time.Second)

	within(t, bob, 20*time.Second, chromedp.Reload(), chromedp.WaitEnabled("#join"), chromedp.Click("#join"), chromedp.WaitVisible("#commit-form"))
	waitValue(t, bob, "the commitment draft after a reload", commitText, tasks, 10*time.Second)
	waitText(t, bob, "#mine .saved", "Not saved yet", 5*time.Second)

	srv.stop()
	within(t, bob, 10*time.Second, chromedp.WaitVisible(`#status[data-status="reconnecting"]`))
	srv.start(t)
	within(t, bob, 30*time.Second, chromedp.WaitVisible(`#status[data-status="connected"]`))
	waitValue(t, bob, "the commitment draft after the server restarted", commitText, tasks, 5*time.Second)

	// Saved: the draft is gone, the page says so.
	within(t, bob, 5*time.Second, chromedp.Click("#commit-form button"))
	waitText(t, bob, "#mine .saved", "Saved", 5*time.Second)
	waitValue(t, bob, "no draft once saved", `localStorage.getItem('wt.draft.`+sess.ID+`.' + window.worktogether.welcome.you.id + '.commit')`, "null", 5*time.Second)

	hostDoes(`[data-host="advance"]`, "Focused work")
	hostDoes(`[data-host="advance"]`, "Closing round")
	within(t, bob, 10*time.Second, chromedp.WaitVisible("#report-form"),
		chromedp.Click(`#report-form input[data-task="1"]`),
		chromedp.SendKeys("#report-form textarea", "The bank was closed."),
		chromedp.Click("#mic"))
	waitText(t, bob, "#mine .saved", "Not saved yet", 5*time.Second)
	tick := `document.querySelector('#report-form input[data-task="1"]').checked`
	first := `document.querySelector('#report-form input[data-task="0"]').checked`
	note := `document.querySelector('#report-form textarea').value`
	check := func(when string) {
		t.Helper()
		waitValue(t, bob, "the ticked box "+when, tick, "true", 5*time.Second)
		waitValue(t, bob, "the unticked box "+when, first, "false", 5*time.Second)
		waitValue(t, bob, "the note "+when, note, "The bank was closed.", 5*time.Second)
		waitText(t, bob, "#mine .saved", "Not saved yet", 5*time.Second)
	}
	within(t, ada, 5*time.Second, chromedp.Click(`[data-host="extend"][data-seconds="900"]`))
	waitValue(t, bob, "10 min and 15 more", minutesLeft+" > 20", "true", 5*time.Second)
	check("after +15 min")
	within(t, bob, 20*time.Second, chromedp.Reload(), chromedp.WaitEnabled("#join"), chromedp.Click("#join"), chromedp.WaitVisible("#report-form"))
	check("after a reload")
	screenshot(t, bob, "draft-unsaved-report")
}
