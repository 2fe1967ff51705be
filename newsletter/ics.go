package newsletter

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/text"
)

// iCalendar methods: an invitation or its update, a cancellation, a feed.
const (
	MethodRequest = "REQUEST"
	MethodCancel  = "CANCEL"
	MethodPublish = "PUBLISH"
)

// Event is one session as a calendar entry.
type Event struct {
	Session     store.Session
	URL         string // the subscriber's own join link, or the public page in a feed
	Description string
	Organizer   string // mail address, for invitations
	Attendee    string // mail address, for invitations
	AttendeeCN  string
}

// UID is a session's stable calendar id: every mail about it and the feed
// name the same entry, so calendars update it instead of adding another.
func UID(sessionID, host string) string { return sessionID + "@" + host }

// Calendar encodes events as an iCalendar object. Times are written in UTC:
// each session is its own event, so each lands on the right local time,
// daylight saving or not.
func Calendar(method, host string, now time.Time, events ...Event) ([]byte, error) {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//Worktogether//Worktogether//EN")
	cal.Props.SetText(ical.PropMethod, method)
	cal.Props.SetText("X-WR-CALNAME", "Worktogether")
	for _, e := range events {
		s := e.Session
		ev := ical.NewEvent()
		ev.Props.SetText(ical.PropUID, UID(s.ID, host))
		ev.Props.SetDateTime(ical.PropDateTimeStamp, now.UTC())
		ev.Props.SetDateTime(ical.PropDateTimeStart, s.StartsAt.UTC())
		ev.Props.SetDateTime(ical.PropDateTimeEnd, s.End().UTC())
		ev.Props.SetText(ical.PropSummary, text.Clean(s.Title))
		seq := ical.NewProp(ical.PropSequence)
		seq.SetValueType(ical.ValueInt)
		seq.Value = fmt.Sprint(s.Sequence)
		ev.Props.Set(seq)
		if e.Description != "" {
			ev.Props.SetText(ical.PropDescription, icalBlock(e.Description))
		}
		if e.URL != "" {
			ev.Props.SetText(ical.PropURL, e.URL)
			ev.Props.SetText(ical.PropLocation, e.URL)
		}
		status := "CONFIRMED"
		if method == MethodCancel || s.Cancelled {
			status = "CANCELLED"
		}
		ev.Props.SetText(ical.PropStatus, status)
		if e.Organizer != "" {
			org := ical.NewProp(ical.PropOrganizer)
			org.Params.Set(ical.ParamCommonName, "Worktogether")
			org.Value = "mailto:" + e.Organizer
			ev.Props.Set(org)
		}
		if e.Attendee != "" {
			att := ical.NewProp(ical.PropAttendee)
			att.Params.Set(ical.ParamCommonName, icalParam(e.AttendeeCN))
			att.Params.Set(ical.ParamRSVP, "FALSE")
			att.Value = "mailto:" + e.Attendee
			ev.Props.Set(att)
		}
		cal.Children = append(cal.Children, ev.Component)
	}
	var buf bytes.Buffer
	if len(events) == 0 {
		// A feed with nothing ahead: go-ical refuses to encode a calendar
		// without a component, calendar programs read one.
		for _, line := range []string{"BEGIN:VCALENDAR", "METHOD:" + method, "PRODID:-//Worktogether//Worktogether//EN", "VERSION:2.0", "X-WR-CALNAME:Worktogether", "END:VCALENDAR"} {
			buf.WriteString(line + "\r\n")
		}
		return buf.Bytes(), nil
	}
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("encode calendar: %w", err)
	}
	return buf.Bytes(), nil
}

// icalParam makes text fit for a parameter value (a CN): RFC 5545 has no
// escape for a double quote there, and none for control characters, so a
// quote becomes an apostrophe and every control a space. Whatever a
// subscriber is called, their invitation is written.
func icalParam(s string) string {
	return strings.ReplaceAll(text.Clean(s), `"`, "'")
}

// icalBlock keeps the lines of a multi-line text value (the encoder escapes
// line feeds as \n) and makes every other control character a space.
func icalBlock(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = text.Clean(l)
	}
	return strings.Join(lines, "\n")
}
