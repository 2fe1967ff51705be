package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/worktogether/worktogether/session"
)

// TestMailFollowsTheSessionsLife takes one session through its life with a
// subscriber on the list: announced, reminded, retried, moved, sent again
// by hand, postponed, cancelled; then the list changes. Each step's mails
// are checked by kind and status.
func TestMailFollowsTheSessionsLife(t *testing.T) { forEachEngine(t, testMailLife) }

func testMailLife(t *testing.T, db testDB) {
	ctx := context.Background()
	st := db.open(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	n := Notify{Now: now, Leads: []time.Duration{24 * time.Hour, 15 * time.Minute}}
	for _, id := range []string{"ada", "bo"} {
		if err := st.Subscribe(ctx, Subscriber{ID: id, Email: id + "@example.org", Name: id, Lang: "en", TZ: "UTC"}, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Confirm(ctx, "ada", n); err != nil {
		t.Fatal(err)
	}
	// Both confirmation mails go out.
	due, err := st.DueMails(ctx, now, 10)
	if err != nil || len(due) != 2 || due[0].Kind != KindConfirm {
		t.Fatalf("confirmations: %+v %v", due, err)
	}
	for _, m := range due {
		if err := st.MarkSent(ctx, m.ID, now); err != nil {
			t.Fatal(err)
		}
	}
	counts := func(want map[string]int) {
		t.Helper()
		got, err := st.MailCounts(ctx, "s1")
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("mails of s1: %v, want %v", got, want)
			}
		}
	}

	sess := Session{ID: "s1", Title: "Morning", StartsAt: now.Add(48 * time.Hour), Plan: session.DefaultPlan(),
		Capacity: 10, LobbySeconds: 600, HostParticipant: "h1", CreatedAt: now}
	if err := st.CreateSession(ctx, sess, Participant{ID: "h1", SessionID: "s1", Name: "Host", Role: "host"}, &n); err != nil {
		t.Fatal(err)
	}
	counts(map[string]int{"queued": 3}) // Ada's announcement and two reminders
	if next, ok, err := st.NextDue(ctx); err != nil || !ok || !next.Equal(now) {
		t.Fatalf("next due %v %v %v", next, ok, err)
	}
	due, err = st.DueMails(ctx, now, 10)
	if err != nil || len(due) != 1 || due[0].Kind != KindAnnounce || due[0].SubscriberID != "ada" {
		t.Fatalf("due now: %+v %v", due, err)
	}
	if err := st.MarkSent(ctx, due[0].ID, now); err != nil {
		t.Fatal(err)
	}
	due, err = st.DueMails(ctx, sess.StartsAt, 10)
	if err != nil || len(due) != 2 || due[0].Kind != KindReminder || due[0].Lead != 24*time.Hour || due[1].Lead != 15*time.Minute {
		t.Fatalf("reminders: %+v %v", due, err)
	}
	if err := st.MarkRetry(ctx, due[0].ID, sess.StartsAt.Add(-23*time.Hour), "try later"); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkDone(ctx, due[1].ID, "failed", "gave up"); err != nil {
		t.Fatal(err)
	}
	counts(map[string]int{"queued": 1, "sent": 1, "failed": 1})

	// Moved: the queued reminder is dropped, Ada hears of the new time and
	// gets new reminders.
	moved, err := st.RescheduleSession(ctx, "s1", "Moved", now.Add(72*time.Hour), &n)
	if err != nil || moved.Sequence != 1 || moved.Title != "Moved" || moved.Phase != nil {
		t.Fatalf("rescheduled: %+v %v", moved, err)
	}
	counts(map[string]int{"queued": 3, "sent": 1, "failed": 1, "skipped": 1})
	if err := st.QueueResend(ctx, "s1", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	due, err = st.DueMails(ctx, now.Add(time.Minute), 10)
	if err != nil || len(due) != 2 || due[0].Kind != KindUpdate || due[0].Sequence != 1 || due[1].Kind != KindResend {
		t.Fatalf("update and resend: %+v %v", due, err)
	}
	if err := st.Postpone(ctx, due[0].ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if due, err = st.DueMails(ctx, now.Add(time.Minute), 10); err != nil || len(due) != 1 || due[0].Kind != KindResend {
		t.Fatalf("after postponing the update: %+v %v", due, err)
	}
	if err := st.MarkSent(ctx, due[0].ID, now); err != nil {
		t.Fatal(err)
	}

	// Cancelled: what waits is dropped, and Ada, who was told, hears of it.
	if err := st.CancelSession(ctx, "s1", now.Add(2*time.Minute), &n); err != nil {
		t.Fatal(err)
	}
	due, err = st.DueMails(ctx, now.Add(2*time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].Kind != KindCancel || due[0].SubscriberID != "ada" {
		t.Fatalf("cancellation: %+v %v", due, err)
	}
	if err := st.CancelSession(ctx, "s1", now, &n); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancelled twice: %v", err)
	}

	// Ada leaves, Bo never confirmed and is forgotten.
	if err := st.Unsubscribe(ctx, "ada", now); err != nil {
		t.Fatal(err)
	}
	counts(map[string]int{"queued": 0, "sent": 2})
	if got, err := st.SubscriberCounts(ctx); err != nil || got[StatusPending] != 1 || got[StatusUnsubscribed] != 1 || got[StatusConfirmed] != 0 {
		t.Fatalf("subscriber counts %v %v", got, err)
	}
	if n, err := st.ForgetUnconfirmed(ctx, now.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("forgot %d (%v), want 1", n, err)
	}
	if _, err := st.GetSubscriber(ctx, "bo"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Bo after forgetting: %v", err)
	}
	if err := st.Unsubscribe(ctx, "bo", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unsubscribe unknown: %v", err)
	}
	if all, err := st.MailCounts(ctx, ""); err != nil || all["sent"] != 4 {
		t.Fatalf("all mails %v %v", all, err)
	}
}

// TestInviteesAndRemovals counts the seats kept for invitees and follows a
// removal.
func TestInviteesAndRemovals(t *testing.T) { forEachEngine(t, testInvitees) }

func testInvitees(t *testing.T, db testDB) {
	ctx := context.Background()
	st := db.open(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	sess := Session{ID: "s1", Title: "T", StartsAt: now, Plan: session.DefaultPlan(), Capacity: 3, HostParticipant: "h1", CreatedAt: now, Private: true, WorkVideo: WorkVideoFull}
	if err := st.CreateSession(ctx, sess, Participant{ID: "h1", SessionID: "s1", Name: "Host", Role: "host"}, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetSession(ctx, "s1"); err != nil || !got.Private || got.WorkVideo != WorkVideoFull || got.Announced() {
		t.Fatalf("private session: %+v %v", got, err)
	}
	for _, id := range []string{"p1", "p2"} {
		if err := st.AddParticipant(ctx, Participant{ID: id, SessionID: "s1", Name: id, Role: "participant"}, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.MarkJoined(ctx, Participant{ID: "p1", SessionID: "s1", Role: "participant"}, now); err != nil {
		t.Fatal(err)
	}
	if n, err := st.PendingInvitees(ctx, "s1"); err != nil || n != 1 {
		t.Fatalf("pending %d %v", n, err)
	}
	if removed, err := st.IsRemoved(ctx, "s1", "p2"); err != nil || removed {
		t.Fatalf("removed before: %v %v", removed, err)
	}
	if err := st.SetRemoved(ctx, "s1", "p2", now); err != nil {
		t.Fatal(err)
	}
	if removed, err := st.IsRemoved(ctx, "s1", "p2"); err != nil || !removed {
		t.Fatalf("removed after: %v %v", removed, err)
	}
	if n, err := st.PendingInvitees(ctx, "s1"); err != nil || n != 0 {
		t.Fatalf("pending after removal %d %v", n, err)
	}
	if err := st.SetMuted(ctx, "s1", "p1", nil); err != nil {
		t.Fatal(err)
	}
	if past, err := st.PastSessions(ctx, now.Add(time.Minute), 10); err != nil || len(past) != 1 {
		t.Fatalf("past sessions %+v %v", past, err)
	}
	if err := st.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
