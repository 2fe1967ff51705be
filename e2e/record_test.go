package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/worktogether/worktogether/links"
	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/store"
)

// TestSubscriberRecordFromTheRoom opens a subscriber's link from a mail after
// the session ended: the room shows what they set out to do and what got
// done, and a button to all their sessions, whose page lists it.
func TestSubscriberRecordFromTheRoom(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t)
	ctx := context.Background()
	id := srv.createSession(t)
	now := time.Now()
	sub := store.Subscriber{ID: "sub-dee", Email: "dee@example.org", Name: "Dee", Lang: "en", TZ: "Europe/Berlin"}
	if err := srv.store.Subscribe(ctx, sub, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	sess, err := srv.store.GetSession(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// What the mail's link would have done in the session, and its end.
	p := links.SubscriberParticipant(sub, id)
	if err := srv.store.MarkJoined(ctx, p, now); err != nil {
		t.Fatal(err)
	}
	if err := srv.store.SaveCommitment(ctx, id, p.ID, []string{"Draft the proposal", "Book the train"}, now); err != nil {
		t.Fatal(err)
	}
	if err := srv.store.SaveReport(ctx, id, p.ID, store.Report{Done: []bool{true, false}, Note: "Train tomorrow"}, now); err != nil {
		t.Fatal(err)
	}
	ended := session.State{Index: len(sess.Plan), Kind: session.Ended, StartedAt: now, EndsAt: now}
	if err := srv.store.SavePhase(ctx, id, ended, "end", now); err != nil {
		t.Fatal(err)
	}
	join, err := srv.links.SubscriberJoin(sess, sub)
	if err != nil {
		t.Fatal(err)
	}

	tab := newTab(t, browser)
	within(t, tab, 20*time.Second,
		chromedp.Navigate(join),
		chromedp.WaitVisible("#record-link"),
	)
	if got := text(t, tab, "#notice"); !strings.Contains(got, "This session has ended") || !strings.Contains(got, "Draft the proposal") {
		t.Fatalf("ended page: %q", got)
	}
	within(t, tab, 20*time.Second,
		chromedp.Click("#record-link"),
		chromedp.WaitVisible("main.record"),
	)
	got := text(t, tab, "main.record")
	for _, want := range []string{"Your sessions, Dee", "1 session · 1 of 2 tasks done", "Browser test", "✓ Draft the proposal", "○ Book the train", "Train tomorrow"} {
		if !strings.Contains(got, want) {
			t.Errorf("record page lacks %q:\n%s", want, got)
		}
	}
	screenshot(t, tab, "record")
}
