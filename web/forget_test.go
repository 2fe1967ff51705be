package web

import (
	"context"
	"errors"
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
	"github.com/worktogether/worktogether/store"
)

// TestUnconfirmedSignupsAreForgotten: a sign-up nobody confirmed is deleted a
// day after its last confirmation link expired; confirmed subscribers, those
// who once confirmed, and sign-ups with a newer link stay.
func TestUnconfirmedSignupsAreForgotten(t *testing.T) {
	h := newMailHarness(t)
	signup := func(addr string) string {
		t.Helper()
		if code := h.do("POST", "/api/subscribe", "", map[string]string{"email": addr, "name": "X"}, nil); code != http.StatusAccepted {
			t.Fatalf("subscribe %s: %d", addr, code)
		}
		return h.nextMail(addr, "confirm").Link("/confirm?token=")
	}
	staleLink := signup("never@example.org")
	h.subscribed("yes@example.org")
	h.subscribed("left@example.org")
	// left@ unsubscribes, then signs up again and does not confirm this time.
	var unsub string
	for _, m := range h.smtp.All() {
		if m.To[0] == "left@example.org" {
			unsub = strings.Trim(m.Header.Get("List-Unsubscribe"), "<>")
		}
	}
	if code, _ := h.raw("POST", unsub, "", ""); code != 200 {
		t.Fatalf("unsubscribe: %d", code)
	}
	h.advanceClock(11 * time.Minute) // at most one confirmation mail in ten minutes
	signup("left@example.org")
	signup("later@example.org")
	pending := func() int { return h.counts().Subscribers["pending"] }
	if n := pending(); n != 3 {
		t.Fatalf("pending before: %d", n)
	}

	// Ten days on, later@ asks again: a new link, valid 14 more days.
	h.advanceClock(10 * 24 * time.Hour)
	signup("later@example.org")
	// Fourteen days and a few hours after the first links: nothing yet.
	h.advanceClock(4*24*time.Hour + 12*time.Hour)
	h.srv.ForgetUnconfirmed(context.Background())
	if n := pending(); n != 3 {
		t.Fatalf("pending within the grace day: %d", n)
	}
	// A day later never@ is gone; left@ (once confirmed) and later@ stay.
	h.advanceClock(24 * time.Hour)
	h.srv.ForgetUnconfirmed(context.Background())
	c := h.counts().Subscribers
	if c["pending"] != 2 || c["confirmed"] != 1 {
		t.Fatalf("after forgetting: %v", c)
	}
	if code, body := h.raw("POST", staleLink, "", ""); code != 400 || !strings.Contains(body, "expired") {
		t.Fatalf("the forgotten sign-up's link: %d", code)
	}
	// never@ may sign up afresh.
	signup("never@example.org")
	if n := pending(); n != 3 {
		t.Fatalf("pending after signing up again: %d", n)
	}
	// Once later@'s second link has expired too, it goes.
	h.advanceClock(14 * 24 * time.Hour)
	h.srv.ForgetUnconfirmed(context.Background())
	if c := h.counts().Subscribers; c["pending"] != 2 || c["unsubscribed"] != 0 {
		t.Fatalf("at the end: %v", c)
	}
}

// A subscriber who deletes everything while in a live room is out at once
// (bye removed), cannot come back with the same link, and what they send
// meanwhile is not stored.
func TestDeletionRemovesFromLiveRoom(t *testing.T) {
	h := newMailHarness(t)
	const addr = "dee@example.org"
	h.subscribed(addr)
	sess := h.createSession(h.now().Add(-time.Second), nil, 0)
	ann := h.nextMail(addr, "New Worktogether")
	jt, _ := url.Parse(ann.Link("/s/" + sess.ID + "?"))
	join := jt.Query().Get("t")
	host, _ := h.join(h.invite(sess.ID, "Hosting", "host").Token, testpeer.Options{})
	dee, wd := h.join(join, testpeer.Options{})
	dee.Send(map[string]any{"type": "commit", "tasks": []string{"before"}})
	expectCommit := func(p *testpeer.Peer) {
		t.Helper()
		if _, err := p.ExpectWhere(h.ctx(5*time.Second), "participant", func(m testpeer.Message) bool {
			var wp signaling.WireParticipant
			return m.Decode(&wp) == nil && wp.ID == wd.You.ID && wp.Commitment != nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	expectCommit(host)

	rec, _ := url.Parse(ann.Link("/record?token="))
	if code := h.do("DELETE", "/api/record?token="+url.QueryEscape(rec.Query().Get("token")), "", nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	msg, err := dee.Expect(h.ctx(5*time.Second), "bye")
	if err != nil || !strings.Contains(string(msg.Raw), `"removed"`) {
		t.Fatalf("bye: %v %s", err, msg.Raw)
	}
	// The others see them gone, with nothing of theirs.
	if _, err := host.ExpectWhere(h.ctx(5*time.Second), "participant", func(m testpeer.Message) bool {
		var wp signaling.WireParticipant
		return m.Decode(&wp) == nil && wp.ID == wd.You.ID && !wp.Present && wp.Commitment == nil && wp.Name == ""
	}); err != nil {
		t.Fatal(err)
	}
	dee.Send(map[string]any{"type": "commit", "tasks": []string{"after"}}) // too late: nobody listens
	refusedWith(t, h, h.wsURL(join), http.StatusUnauthorized)
	if _, err := h.store.GetParticipant(context.Background(), sess.ID, wd.You.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("their participant is still stored: %v", err)
	}
	// A newcomer's welcome does not list them.
	_, wn := h.join(h.invite(sess.ID, "Newcomer", "").Token, testpeer.Options{})
	for _, p := range wn.Participants {
		if p.ID == wd.You.ID {
			t.Fatalf("welcome still lists the deleted subscriber: %+v", p)
		}
	}
}
