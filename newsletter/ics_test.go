package newsletter

import (
	"bytes"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/emersion/go-ical"
	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/store"
)

// Hostile names and titles (some stored before input was checked) still give
// one well-formed event, read back by two iCalendar parsers, with no line or
// property of their own.
func TestCalendarEscapesHostileText(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	cases := []struct{ title, cn string }{
		{"Plain", `Jo "JJ" Smith`},
		{"CR\rin title", "Eve\r\nATTENDEE:mailto:mallory@example.org"},
		{"LF\nBEGIN:VEVENT\nUID:x", "semi;colon:comma,name"},
		{"NUL\x00 and \x1b[31m", "bidi \u202egnp.exe"},
		{"=HYPERLINK(\"x\")", "Zoë 👩‍💻"},
	}
	for _, c := range cases {
		sess := store.Session{ID: "11111111-2222-3333-4444-555555555555", Title: c.title, StartsAt: now.Add(time.Hour), Plan: session.DefaultPlan()}
		raw, err := Calendar(MethodRequest, "example.org", now, Event{Session: sess, URL: "https://example.org/s/x?t=y",
			Description: "line one\nline two\r\nthree", Organizer: "wt@example.org", Attendee: "jo@example.org", AttendeeCN: c.cn})
		if err != nil {
			t.Fatalf("%q / %q: %v", c.title, c.cn, err)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(raw), "\r\n"), "\r\n") {
			if strings.ContainsAny(line, "\r\n\x00\x1b") {
				t.Fatalf("%q: a line carries a control character: %q", c.title, line)
			}
		}
		cal, err := ical.NewDecoder(bytes.NewReader(raw)).Decode()
		if err != nil {
			t.Fatalf("go-ical: %v\n%s", err, raw)
		}
		evs := cal.Events()
		if len(evs) != 1 || len(evs[0].Props[ical.PropAttendee]) != 1 || len(evs[0].Props[ical.PropUID]) != 1 {
			t.Fatalf("%q: want one event with one attendee and UID, got %d events\n%s", c.title, len(evs), raw)
		}
		att := evs[0].Props.Get(ical.PropAttendee)
		if att.Value != "mailto:jo@example.org" || strings.ContainsAny(att.Params.Get(ical.ParamCommonName), "\"\r\n") {
			t.Fatalf("%q: attendee %q CN %q", c.cn, att.Value, att.Params.Get(ical.ParamCommonName))
		}
		summary, err := evs[0].Props.Text(ical.PropSummary)
		if err != nil || strings.ContainsAny(summary, "\r\n\x00") {
			t.Fatalf("summary %q, %v", summary, err)
		}
		desc, _ := evs[0].Props.Text(ical.PropDescription)
		if desc != "line one\nline two\nthree" {
			t.Fatalf("description %q", desc)
		}

		other, err := ics.ParseCalendar(bytes.NewReader(raw))
		if err != nil || len(other.Events()) != 1 {
			t.Fatalf("golang-ical: %v", err)
		}
		if a := other.Events()[0].Attendees(); len(a) != 1 || a[0].Email() != "jo@example.org" {
			t.Fatalf("golang-ical attendees %+v", a)
		}
	}
	// The quote-bearing name keeps its letters.
	if got := icalParam(`Jo "JJ" Smith`); got != "Jo 'JJ' Smith" {
		t.Fatalf("icalParam: %q", got)
	}
}

// An empty feed is still a calendar (it used to be a 500).
func TestEmptyCalendar(t *testing.T) {
	raw, err := Calendar(MethodPublish, "example.org", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ics.ParseCalendar(bytes.NewReader(raw)); err != nil {
		t.Fatalf("golang-ical: %v\n%s", err, raw)
	}
	cal, err := ical.NewDecoder(bytes.NewReader(raw)).Decode()
	if err != nil || len(cal.Events()) != 0 {
		t.Fatalf("go-ical: %v\n%s", err, raw)
	}
}
