package i18n

import (
	"strconv"
	"strings"
	"time"
)

// LongTime writes t in time zone tz as the catalog's date.long of lang
// does ("Wednesday, 6 January 2027, 09:00 (Europe/Berlin)"), naming the
// zone; an unknown zone is UTC.
func (c *Catalog) LongTime(lang string, t time.Time, tz string) string {
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" {
		loc, tz = time.UTC, "UTC"
	}
	t = t.In(loc)
	return c.T(lang, "date.long",
		"weekday", c.T(lang, "date.weekday."+strconv.Itoa(int(t.Weekday()))),
		"day", t.Day(),
		"month", c.T(lang, "date.month."+strconv.Itoa(int(t.Month()))),
		"year", t.Year(),
		"time", t.Format("15:04"),
		"zone", strings.ReplaceAll(tz, "_", " "))
}

// Length writes a phase's length as the client does: seconds under a
// minute, whole hours, else minutes.
func (c *Catalog) Length(lang string, seconds int) string {
	if seconds < 60 {
		return c.T(lang, "unit.seconds", "n", seconds)
	}
	m := (seconds + 30) / 60
	if m >= 60 && m%60 == 0 {
		return c.T(lang, "unit.hours", "n", m/60)
	}
	return c.T(lang, "unit.minutes", "n", m)
}

// PlanPart is one phase of a plan in words ("10 min Commitment round"), as
// the pages list it.
func (c *Catalog) PlanPart(lang, kind string, seconds int) string {
	return c.T(lang, "plan.part", "length", c.Length(lang, seconds), "phase", c.T(lang, "phase."+kind))
}
