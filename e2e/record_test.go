package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/worktogether/worktogether/links"
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
	sub := store.Subscriber{ID: "sub-dee", Email: "dee@example.org", Name: "Dee", Lang: "en", TZ: "Europe/Berlin"}
	if err := srv.store.Subscribe(ctx, sub, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	// What the mail's link would have done in the session, and its end.
	p := links.SubscriberParticipant(sub, id)
	srv.endWith(t, id, did{p.ID, p.Name, []string{"Draft the proposal", "Book the train"}, []bool{true, false}, "Train tomorrow", sub.ID})
	sess, err := srv.store.GetSession(ctx, id)
	if err != nil {
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
	mustContain(t, "ended page", text(t, tab, "#notice"), "This session has ended", "Draft the proposal")
	within(t, tab, 20*time.Second,
		chromedp.Click("#record-link"),
		chromedp.WaitVisible("main.record"),
	)
	mustContain(t, "record page", text(t, tab, "main.record"),
		"Your sessions, Dee", "1 session · 1 of 2 tasks done", "Browser test", "✓ Draft the proposal", "○ Book the train", "Train tomorrow",
		"Delete my subscription and this record")
	screenshot(t, tab, "record")
}
