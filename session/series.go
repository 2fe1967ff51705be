package session

import (
	"fmt"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// MaxOccurrences bounds how many occurrences one expansion returns.
const MaxOccurrences = 60

// Occurrences expands a recurrence rule (RFC 5545 RRULE, without DTSTART,
// e.g. "FREQ=WEEKLY;BYDAY=TU") whose first occurrence is first, a wall-clock
// time in its location, and returns the starts that fall in [from, to), at
// most MaxOccurrences. Occurrences keep their wall-clock time across
// daylight-saving changes: every Tuesday 09:00 in Berlin stays 09:00. Rules
// more frequent than daily are refused.
func Occurrences(rule string, first time.Time, from, to time.Time) ([]time.Time, error) {
	upper := strings.ToUpper(rule)
	if strings.Contains(upper, "DTSTART") {
		return nil, fmt.Errorf("%w: the rule must not carry DTSTART", ErrInvalid)
	}
	opt, err := rrule.StrToROption(rule)
	if err != nil {
		return nil, fmt.Errorf("%w: rrule: %v", ErrInvalid, err)
	}
	switch opt.Freq {
	case rrule.DAILY, rrule.WEEKLY, rrule.MONTHLY, rrule.YEARLY:
	default:
		return nil, fmt.Errorf("%w: sessions repeat at most daily", ErrInvalid)
	}
	opt.Dtstart = first
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, fmt.Errorf("%w: rrule: %v", ErrInvalid, err)
	}
	var out []time.Time
	it := r.Iterator()
	for len(out) < MaxOccurrences {
		t, ok := it()
		if !ok || !t.Before(to) {
			break
		}
		if !t.Before(from) {
			out = append(out, t)
		}
	}
	return out, nil
}
