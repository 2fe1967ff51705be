package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/worktogether/worktogether/session"
)

func TestSessionsAndParticipantsSurviveReopen(t *testing.T) { forEachEngine(t, testSurviveReopen) }

func testSurviveReopen(t *testing.T, db testDB) {
	ctx := context.Background()
	st := db.open(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	sess := Session{ID: "s1", Title: "Morning", StartsAt: now.Add(time.Hour), Plan: session.DefaultPlan(),
		Capacity: 10, LobbySeconds: 600, HostParticipant: "h1", CreatedAt: now}
	host := Participant{ID: "h1", SessionID: "s1", Name: "Host", Role: "host"}
	if err := st.CreateSession(ctx, sess, host, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.AddParticipant(ctx, Participant{ID: "p1", SessionID: "s1", Name: "Ada", Role: "participant"}, now); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkJoined(ctx, Participant{ID: "p1", SessionID: "s1", Name: "Ada", Role: "participant"}, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// A participant with no invite row (a subscriber's link) is added on join.
	if err := st.MarkJoined(ctx, Participant{ID: "p2", SessionID: "s1", Name: "Bo", Role: "participant"}, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	phase := session.State{Index: 1, Kind: session.Work, StartedAt: now.Add(time.Hour), EndsAt: now.Add(2 * time.Hour)}
	if err := st.SavePhase(ctx, "s1", phase, "advance", now); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveCommitment(ctx, "s1", "p1", []string{"a", "b"}, now); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveCommitment(ctx, "s1", "p1", []string{"draft", "mail"}, now); err != nil { // replaces
		t.Fatal(err)
	}
	if err := st.SaveReport(ctx, "s1", "p1", Report{Done: []bool{true, false}, Note: "half"}, now); err != nil {
		t.Fatal(err)
	}
	one := 1
	if err := st.SetMuted(ctx, "s1", "p2", &one); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st = db.open(t)
	got, err := st.GetSession(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Morning" || !got.StartsAt.Equal(sess.StartsAt) || len(got.Plan) != 5 || got.Phase == nil ||
		got.Phase.Index != 1 || !got.Phase.EndsAt.Equal(phase.EndsAt) {
		t.Fatalf("reopened session: %+v", got)
	}
	joined, err := st.JoinedParticipants(ctx, "s1")
	if err != nil || len(joined) != 2 || joined[0].Name != "Ada" || joined[1].Name != "Bo" {
		t.Fatalf("joined: %+v %v", joined, err)
	}
	ada, bo := joined[0], joined[1]
	if len(ada.Commitment) != 2 || ada.Commitment[0] != "draft" || ada.Report == nil || ada.Report.Note != "half" ||
		len(ada.Report.Done) != 2 || !ada.Report.Done[0] || ada.MutedPhase != nil {
		t.Fatalf("Ada's records: %+v", ada)
	}
	if bo.Commitment != nil || bo.Report != nil || bo.MutedPhase == nil || *bo.MutedPhase != 1 {
		t.Fatalf("Bo's records: %+v", bo)
	}
	if p, err := st.GetParticipant(ctx, "s1", "p1"); err != nil || p.Report == nil {
		t.Fatalf("get participant: %+v %v", p, err)
	}
	log, err := st.PhaseLog(ctx, "s1")
	if err != nil || len(log) != 1 || log[0].Kind != "work" || log[0].Cause != "advance" {
		t.Fatalf("phase log: %+v %v", log, err)
	}
	list, err := st.ListSessions(ctx, now)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %+v %v", list, err)
	}
	if err := st.CancelSession(ctx, "s1", now, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.CancelSession(ctx, "s1", now, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second cancel: %v", err)
	}
	if list, _ := st.ListSessions(ctx, now); len(list) != 0 {
		t.Fatalf("cancelled session still listed")
	}
	if _, err := st.GetSession(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing session: %v", err)
	}
}

// TestReadsGoOnBesideAWrite holds a write transaction open and reads from
// other goroutines meanwhile: the readers have their own connections (WAL,
// or PostgreSQL's snapshots), so they answer with the last committed data instead of queueing behind
// the writer.
func TestReadsGoOnBesideAWrite(t *testing.T) { forEachEngine(t, testReadsBesideAWrite) }

func testReadsBesideAWrite(t *testing.T, db testDB) {
	ctx := context.Background()
	st := db.open(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	sess := Session{ID: "s1", Title: "Morning", StartsAt: now.Add(time.Hour), Plan: session.DefaultPlan(),
		Capacity: 10, LobbySeconds: 600, HostParticipant: "h1", CreatedAt: now}
	if err := st.CreateSession(ctx, sess, Participant{ID: "h1", SessionID: "s1", Name: "Host", Role: "host"}, nil); err != nil {
		t.Fatal(err)
	}
	tx, err := st.db.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET title = 'Uncommitted' WHERE id = 's1'`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, ReadConns)
	for range ReadConns {
		go func() {
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			got, err := st.GetSession(rctx, "s1")
			if err == nil && got.Title != "Morning" {
				err = errors.New("read uncommitted title " + got.Title)
			}
			done <- err
		}()
	}
	for range ReadConns {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetSession(ctx, "s1"); err != nil || got.Title != "Uncommitted" {
		t.Fatalf("after commit: %q %v", got.Title, err)
	}
	// The readers cannot write.
	if _, err := st.rd.ExecContext(ctx, `DELETE FROM sessions`); err == nil {
		t.Fatal("the read pool accepted a write")
	}
}
