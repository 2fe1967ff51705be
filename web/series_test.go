package web

import (
	"context"
	"github.com/worktogether/worktogether/signaling"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
)

func TestRecurringSeriesAcrossDST(t *testing.T) {
	h := newMailHarness(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	// Early March 2027: summer time begins on 28 March.
	h.advanceClock(time.Until(time.Date(2027, 3, 8, 12, 0, 0, 0, berlin)))
	const addr = "di@example.org"
	h.subscribed(addr)

	body := map[string]any{"title": "Tuesday focus", "first": "2027-03-16T09:00", "timezone": "Europe/Berlin",
		"rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=4"}
	var ser wireSeries
	if code := h.do("POST", "/api/series", testHostKey, body, &ser); code != 201 || len(ser.Sessions) != 4 {
		t.Fatalf("create series: %d %+v", code, ser)
	}
	for _, bad := range []map[string]any{
		{"title": "x", "first": "2027-03-16T09:00", "timezone": "Europe/Berlin", "rrule": "FREQ=HOURLY"},
		{"title": "x", "first": "2027-03-16T09:00", "timezone": "Nowhere/City", "rrule": "FREQ=WEEKLY"},
		{"title": "x", "first": "16.3.2027 9 Uhr", "timezone": "Europe/Berlin", "rrule": "FREQ=WEEKLY"},
		{"title": "x", "first": "2027-03-16T09:00", "timezone": "Europe/Berlin", "rrule": "FREQ=WEEKLY\r\nX-EVIL:1"},
		{"title": "x", "first": "2027-03-16T09:00", "timezone": "Europe/Berlin", "rrule": "FREQ=WEEKLY;BYDAY=TU\x00"},
		{"title": "a\nb", "first": "2027-03-16T09:00", "timezone": "Europe/Berlin", "rrule": "FREQ=WEEKLY"},
	} {
		var e apiError
		if code := h.do("POST", "/api/series", testHostKey, bad, &e); code != 400 || e.Error.Code != "invalid" {
			t.Errorf("%v: %d %+v", bad, code, e)
		}
	}

	// Only the next occurrence is announced (issue 12), at 09:00 local;
	// the others wait for the one before them.
	m := h.nextMail(addr, "New Worktogether: Tuesday focus")
	_, ev := event(t, m)
	start, err := ev.GetStartAt()
	if err != nil || start.In(berlin).Hour() != 9 || start.In(berlin).Weekday() != time.Tuesday || !start.Equal(ser.Sessions[0].StartsAt) {
		t.Fatalf("announced occurrence at %v (%v), want %v", start.In(berlin), err, ser.Sessions[0].StartsAt.In(berlin))
	}
	eventually(t, 10*time.Second, "the later announcements postponed", func() bool {
		due, err := h.store.DueMails(context.Background(), h.now(), 100)
		return err == nil && len(due) == 0
	})

	// The public feed holds the same local times on both sides of the change.
	_, feed := h.raw("GET", h.http.URL+"/sessions.ics", "", "")
	cal, err := ics.ParseCalendar(strings.NewReader(feed))
	if err != nil || len(cal.Events()) != 4 {
		t.Fatalf("feed: %v", err)
	}
	utcHours := map[int]bool{}
	for _, ev := range cal.Events() {
		start, _ := ev.GetStartAt()
		if start.In(berlin).Hour() != 9 {
			t.Fatalf("feed has %v", start.In(berlin))
		}
		utcHours[start.UTC().Hour()] = true
	}
	if !utcHours[8] || !utcHours[7] {
		t.Fatalf("expected 08:00 UTC in winter and 07:00 UTC in summer, got %v", utcHours)
	}

	// Cancelling the series cancels every occurrence still ahead.
	if code := h.do("DELETE", "/api/series/"+ser.ID, testHostKey, nil, nil); code != 204 {
		t.Fatalf("cancel series: %d", code)
	}
	// Only the occurrence the list heard of is cancelled by mail.
	h.nextMail(addr, "Cancelled: Tuesday focus")
	var list []signaling.WireSession
	h.do("GET", "/api/sessions", "", nil, &list)
	if len(list) != 0 {
		t.Fatalf("%d sessions left after cancelling the series", len(list))
	}
}

func TestSeriesExtendsAhead(t *testing.T) {
	h := newHarness(t, Limits{})
	body := map[string]any{"title": "Daily standup-free focus", "first": h.now().Add(time.Hour).Format("2006-01-02T15:04"),
		"timezone": "UTC", "rrule": "FREQ=WEEKLY"}
	var ser wireSeries
	if code := h.do("POST", "/api/series", testHostKey, body, &ser); code != 201 || len(ser.Sessions) != 8 {
		t.Fatalf("create: %d, %d occurrences", code, len(ser.Sessions))
	}
	h.advanceClock(15 * 24 * time.Hour)
	for i := 0; i < 2; i++ { // twice: the second run adds nothing
		if err := h.srv.ExtendSeries(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	var list []signaling.WireSession
	h.do("GET", "/api/sessions", "", nil, &list)
	if len(list) != 8 { // two weeks passed, two more were made
		t.Fatalf("%d upcoming sessions after extending, want 8", len(list))
	}
	if last := list[len(list)-1].StartsAt; last.Sub(h.now()) < 7*7*24*time.Hour {
		t.Fatalf("the series reaches only to %v", last)
	}
}
