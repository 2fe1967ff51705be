package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/worktogether/worktogether/session"
)

// TestSeriesAndWhoFollowsThem makes a weekly series, extends it, lets a
// subscriber leave and follow it again, and cancels it.
func TestSeriesAndWhoFollowsThem(t *testing.T) { forEachEngine(t, testSeries) }

func testSeries(t *testing.T, db testDB) {
	ctx := context.Background()
	st := db.open(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	n := Notify{Now: now, Leads: []time.Duration{24 * time.Hour}}
	if err := st.Subscribe(ctx, Subscriber{ID: "ada", Email: "ada@example.org", Name: "Ada", Lang: "de", TZ: "Europe/Berlin"}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Confirm(ctx, "ada", n); err != nil {
		t.Fatal(err)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	first := time.Date(2026, 11, 26, 8, 30, 0, 0, berlin)
	occ := func(week int) Occurrence {
		id := "w" + string(rune('0'+week))
		return Occurrence{
			Session: Session{ID: id, Title: "Weekly", StartsAt: first.AddDate(0, 0, 7*week).UTC(), Plan: session.DefaultPlan(),
				Capacity: 8, LobbySeconds: 600, HostParticipant: "h" + id, CreatedAt: now, SeriesID: "ser"},
			Host: Participant{ID: "h" + id, SessionID: id, Name: "Host", Role: "host"},
		}
	}
	ser := Series{ID: "ser", Title: "Weekly", RRule: "FREQ=WEEKLY", First: first, TZ: "Europe/Berlin", Plan: session.DefaultPlan(),
		Capacity: 8, LobbySeconds: 600, CreatedAt: now, Horizon: first.AddDate(0, 0, 8)}
	if err := st.CreateSeries(ctx, ser, []Occurrence{occ(0), occ(1)}, &n); err != nil {
		t.Fatal(err)
	}
	if err := st.ExtendSeries(ctx, "ser", []Occurrence{occ(1), occ(2)}, first.AddDate(0, 0, 15), &n); err != nil {
		t.Fatal(err)
	}
	list, err := st.ListSeries(ctx)
	if err != nil || len(list) != 1 || !list[0].First.Equal(first) || list[0].First.Location().String() != "Europe/Berlin" ||
		!list[0].Horizon.Equal(first.AddDate(0, 0, 15)) || list[0].Private || list[0].WorkVideo != WorkVideoPresence {
		t.Fatalf("series: %+v %v", list, err)
	}
	if got, err := st.SeriesSessions(ctx, "ser", now); err != nil || len(got) != 3 || got[2].ID != "w2" {
		t.Fatalf("series sessions %+v %v", got, err)
	}
	if next, ok, err := st.NextOccurrence(ctx, "ser", first.Add(time.Minute), first.AddDate(0, 1, 0)); err != nil || !ok || next.ID != "w1" {
		t.Fatalf("next occurrence %+v %v %v", next, ok, err)
	}
	if _, ok, err := st.NextOccurrence(ctx, "ser", first.AddDate(0, 1, 0), first.AddDate(0, 2, 0)); err != nil || ok {
		t.Fatalf("next occurrence past the end: %v %v", ok, err)
	}
	queued := func() int {
		t.Helper()
		due, err := st.DueMails(ctx, first.AddDate(0, 1, 0), 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(due)
	}
	if q := queued(); q != 7 { // the confirmation, three announcements, three reminders
		t.Fatalf("%d mails queued, want 7", q)
	}
	following := func() bool {
		t.Helper()
		f, err := st.FollowedSeries(ctx, "ada")
		if err != nil || len(f) != 1 {
			t.Fatalf("followed series %+v %v", f, err)
		}
		return f[0].Following
	}
	if !following() {
		t.Fatal("Ada does not follow the series from the start")
	}
	for range 2 { // leaving twice is leaving once
		if err := st.SetFollowing(ctx, "ada", "ser", false, n); err != nil {
			t.Fatal(err)
		}
	}
	if following() || queued() != 1 {
		t.Fatalf("after leaving: following %v, %d queued", following(), queued())
	}
	if err := st.SetFollowing(ctx, "ada", "ser", true, n); err != nil {
		t.Fatal(err)
	}
	if !following() || queued() != 7 {
		t.Fatalf("after following again: following %v, %d queued", following(), queued())
	}
	if err := st.SetFollowing(ctx, "nobody", "ser", true, n); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown subscriber: %v", err)
	}
	if err := st.CancelSeries(ctx, "ser", now); err != nil {
		t.Fatal(err)
	}
	if err := st.CancelSeries(ctx, "ser", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancelled twice: %v", err)
	}
	if list, err := st.ListSeries(ctx); err != nil || len(list) != 0 {
		t.Fatalf("cancelled series listed: %+v %v", list, err)
	}
}
