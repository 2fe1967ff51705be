package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/worktogether/worktogether/session"
)

// TestSubscriberRecordAcrossManySessions checks the record finds a
// subscriber's sessions among hundreds by their subscriber_id, newest first,
// and leaves out cancelled sessions and ones they never joined.
func TestSubscriberRecordAcrossManySessions(t *testing.T) { forEachEngine(t, testRecordAcrossMany) }

func testRecordAcrossMany(t *testing.T, db testDB) {
	ctx := context.Background()
	st := db.open(t)
	signup := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	if err := st.Subscribe(ctx, Subscriber{ID: "sub", Email: "a@example.org", Name: "Ada", Lang: "en", TZ: "UTC"}, signup); err != nil {
		t.Fatal(err)
	}
	mine := func(sessionID string) string { return SubscriberParticipantID("sub", sessionID) }
	joined := map[int]bool{3: true, 520: true} // and -1: cancelled
	for i := -1; i < 560; i++ {
		id := fmt.Sprintf("s%04d", i+1)
		start := signup.Add(time.Duration(i) * 6 * time.Hour)
		if i < 0 {
			start = signup.Add(-72 * time.Hour)
		}
		sess := Session{ID: id, Title: id, StartsAt: start, Plan: session.DefaultPlan(), Capacity: 10, LobbySeconds: 600, CreatedAt: signup}
		if err := st.CreateSession(ctx, sess, Participant{ID: "host-" + id, SessionID: id, Name: "Host", Role: "host"}, nil); err != nil {
			t.Fatal(err)
		}
		if i < 0 || joined[i] {
			p := Participant{ID: mine(id), SessionID: id, Name: "Ada", Role: "participant", SubscriberID: "sub"}
			if err := st.MarkJoined(ctx, p, start); err != nil {
				t.Fatal(err)
			}
			if err := st.SaveCommitment(ctx, id, p.ID, []string{"task of " + id}, start); err != nil {
				t.Fatal(err)
			}
		}
		// Someone else's row in every session, and an invite Ada never used.
		if err := st.MarkJoined(ctx, Participant{ID: "other-" + id, SessionID: id, Name: "Bo", Role: "participant"}, start); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AddParticipant(ctx, Participant{ID: mine("s0010"), SessionID: "s0010", Name: "Ada", Role: "participant", SubscriberID: "sub"}, signup); err != nil {
		t.Fatal(err)
	}
	if err := st.CancelSession(ctx, "s0000", signup, nil); err != nil {
		t.Fatal(err)
	}

	rec, err := st.SubscriberRecord(ctx, "sub")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range rec {
		if e.Participant.ID != mine(e.Session.ID) || len(e.Participant.Commitment) != 1 || e.Participant.Commitment[0] != "task of "+e.Session.ID {
			t.Errorf("entry %+v", e)
		}
		got = append(got, e.Session.ID)
	}
	if want := []string{"s0521", "s0004"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("record sessions %v, want %v", got, want)
	}
	if _, err := st.SubscriberRecord(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown subscriber: %v", err)
	}

	// Forgetting Ada deletes her rows in every session, and nobody else's.
	if err := st.ForgetSubscriber(ctx, "sub"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SubscriberRecord(ctx, "sub"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("record after forgetting: %v", err)
	}
	for _, id := range []string{"s0521", "s0004", "s0010", "s0000"} {
		if _, err := st.GetParticipant(ctx, id, mine(id)); !errors.Is(err, ErrNotFound) {
			t.Errorf("Ada in %s after forgetting: %v", id, err)
		}
		if _, err := st.GetParticipant(ctx, id, "other-"+id); err != nil {
			t.Errorf("Bo in %s after forgetting Ada: %v", id, err)
		}
	}
	var left int
	if err := st.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM commitments WHERE participant_id NOT IN (SELECT id FROM participants)) +
		(SELECT COUNT(*) FROM participants WHERE subscriber_id = 'sub') +
		(SELECT COUNT(*) FROM outbox WHERE subscriber_id = 'sub')`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d rows of Ada's left (%v)", left, err)
	}
	if err := st.ForgetSubscriber(ctx, "sub"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("forgetting twice: %v", err)
	}
}

// TestOutcomesAndMailCounts tallies several sessions at once, among more
// ids than one query takes.
func TestOutcomesAndMailCounts(t *testing.T) { forEachEngine(t, testOutcomesAndMailCounts) }

func testOutcomesAndMailCounts(t *testing.T, db testDB) {
	ctx := context.Background()
	st := db.open(t)
	now := time.Date(2027, 1, 5, 8, 0, 0, 0, time.UTC)
	for _, sub := range []string{"a", "b"} {
		if err := st.Subscribe(ctx, Subscriber{ID: sub, Email: sub + "@example.org", Name: sub, Lang: "en", TZ: "UTC"}, now); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Confirm(ctx, sub, Notify{Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	ids := []string{}
	for i := range inChunk + 100 {
		ids = append(ids, fmt.Sprintf("none-%d", i))
	}
	for i, id := range []string{"s1", "s2"} {
		sess := Session{ID: id, Title: id, StartsAt: now.Add(time.Duration(i+1) * time.Hour), Plan: session.DefaultPlan(), Capacity: 10, CreatedAt: now}
		if err := st.CreateSession(ctx, sess, Participant{ID: "h-" + id, SessionID: id, Name: "Host", Role: "host"}, &Notify{Now: now}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, p := range []string{"p1", "p2"} {
		if err := st.MarkJoined(ctx, Participant{ID: p, SessionID: "s1", Name: p, Role: "participant"}, now); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveCommitment(ctx, "s1", p, []string{"x", "y"}, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SaveReport(ctx, "s1", "p1", Report{Done: []bool{true, true}}, now); err != nil {
		t.Fatal(err)
	}
	out, err := st.Outcomes(ctx, []string{"s1", "s2"})
	if err != nil || out["s1"] != (Outcome{People: 2, Tasks: 4, TasksDone: 2}) || out["s2"] != (Outcome{}) {
		t.Fatalf("outcomes %+v %v", out, err)
	}
	mails, err := st.MailCountsOf(ctx, ids)
	if err != nil || len(mails) != len(ids) || mails["s1"]["queued"] != 2 || mails["s2"]["queued"] != 2 || mails["none-0"]["queued"] != 0 {
		t.Fatalf("mail counts %v %v", mails["s1"], err)
	}
}
