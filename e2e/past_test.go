package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/store"
)

// TestHostLooksBackAtPastSessions: once a session is over, the host page
// lists it with how it went, shows its summary, and saves it as CSV.
func TestHostLooksBackAtPastSessions(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t)
	ctx := context.Background()
	id := srv.createSession(t)
	sess, err := srv.store.GetSession(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	// What two people did in the session, then its end.
	for _, p := range []struct {
		id, name string
		tasks    []string
		done     []bool
	}{
		{"p-eve", "Eve", []string{"Ship the release", "Answer mail"}, []bool{true, false}},
		{"p-fay", "Fay", []string{"Sketch the logo"}, []bool{true}},
	} {
		if err := srv.store.MarkJoined(ctx, store.Participant{ID: p.id, SessionID: id, Name: p.name, Role: "participant"}, now); err != nil {
			t.Fatal(err)
		}
		if err := srv.store.SaveCommitment(ctx, id, p.id, p.tasks, now); err != nil {
			t.Fatal(err)
		}
		if err := srv.store.SaveReport(ctx, id, p.id, store.Report{Done: p.done, Note: p.name + " is happy"}, now); err != nil {
			t.Fatal(err)
		}
	}
	ended := session.State{Index: len(sess.Plan), Kind: session.Ended, StartedAt: now, EndsAt: now}
	if err := srv.store.SavePhase(ctx, id, ended, "end", now); err != nil {
		t.Fatal(err)
	}

	tab := newTab(t, browser)
	within(t, tab, 20*time.Second,
		chromedp.Navigate(srv.url+"/host"),
		chromedp.WaitVisible("#signin-form"),
		chromedp.SendKeys("#key", hostKey),
		chromedp.Click("#signin-form button"),
		chromedp.WaitVisible("#past .session"),
	)
	if got := text(t, tab, "#past .session"); !strings.Contains(got, "Browser test") || !strings.Contains(got, "2 people · 2 of 3 tasks done") {
		t.Fatalf("past session: %q", got)
	}
	if got := text(t, tab, "#list-state"); !strings.Contains(got, "Nothing scheduled") {
		t.Fatalf("an ended session is still among the upcoming ones: %q", got)
	}
	within(t, tab, 10*time.Second,
		chromedp.Click("#past .session button"),
		chromedp.WaitVisible("#past .summary .history"),
	)
	got := text(t, tab, "#past .summary")
	for _, want := range []string{"Eve", "✓ Ship the release", "○ Answer mail", "Fay", "✓ Sketch the logo", "Fay is happy"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	screenshot(t, tab, "host-past")

	// The CSV button fetches with the host key and hands the browser a file:
	// catch the file as the page makes it.
	csv, err := chromedp.Run(tab, chromedp.Evaluate[string](`new Promise((resolve) => {
		const make = URL.createObjectURL;
		URL.createObjectURL = (blob) => { blob.text().then(resolve); return make(blob); };
		[...document.querySelectorAll('#past .session button')].find((b) => b.textContent === 'Download CSV').click();
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv, "Ship the release") || !strings.Contains(csv, "Sketch the logo") || strings.Count(csv, "\n") != 4 {
		t.Fatalf("CSV from the page:\n%s", csv)
	}
}
