package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/worktogether/worktogether/session"
)

func TestSessionsAndParticipantsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data", "wt.db")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	sess := Session{ID: "s1", Title: "Morning", StartsAt: now.Add(time.Hour), Plan: session.DefaultPlan(),
		Capacity: 10, LobbySeconds: 600, HostParticipant: "h1", CreatedAt: now}
	host := Participant{ID: "h1", SessionID: "s1", Name: "Host", Role: "host"}
	if err := st.CreateSession(ctx, sess, host); err != nil {
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
	phase := session.State{Index: 1, StartedAt: now.Add(time.Hour), EndsAt: now.Add(2 * time.Hour)}
	if err := st.SavePhase(ctx, "s1", phase); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
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
	list, err := st.ListSessions(ctx, now)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %+v %v", list, err)
	}
	if err := st.CancelSession(ctx, "s1", now); err != nil {
		t.Fatal(err)
	}
	if err := st.CancelSession(ctx, "s1", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second cancel: %v", err)
	}
	if list, _ := st.ListSessions(ctx, now); len(list) != 0 {
		t.Fatalf("cancelled session still listed")
	}
	if _, err := st.GetSession(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing session: %v", err)
	}
}
