package session

import (
	"errors"
	"testing"
	"time"
)

func TestOccurrencesKeepLocalTimeAcrossDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// Tuesdays 09:00 in Berlin, across the end of summer time (25 October 2026).
	first := time.Date(2026, 10, 13, 9, 0, 0, 0, berlin)
	got, err := Occurrences("FREQ=WEEKLY;BYDAY=TU", first, first, first.AddDate(0, 0, 28))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d occurrences: %v", len(got), got)
	}
	for _, o := range got {
		local := o.In(berlin)
		if local.Weekday() != time.Tuesday || local.Hour() != 9 || local.Minute() != 0 {
			t.Fatalf("occurrence %v is not Tuesday 09:00 in Berlin", local)
		}
	}
	// The same wall clock is a different UTC hour before and after the change.
	if got[0].UTC().Hour() != 7 || got[2].UTC().Hour() != 8 {
		t.Fatalf("UTC hours %d and %d, want 7 (CEST) and 8 (CET)", got[0].UTC().Hour(), got[2].UTC().Hour())
	}
}

func TestOccurrencesWindowAndBounds(t *testing.T) {
	first := time.Date(2026, 11, 2, 8, 30, 0, 0, time.UTC)
	got, err := Occurrences("FREQ=DAILY;COUNT=5", first, first.AddDate(0, 0, 2), first.AddDate(1, 0, 0))
	if err != nil || len(got) != 3 || !got[0].Equal(first.AddDate(0, 0, 2)) {
		t.Fatalf("window: %v %v", got, err)
	}
	if got, _ := Occurrences("FREQ=DAILY", first, first, first.AddDate(5, 0, 0)); len(got) != MaxOccurrences {
		t.Fatalf("unbounded rule gave %d", len(got))
	}
	for _, bad := range []string{"FREQ=HOURLY", "FREQ=MINUTELY;COUNT=3", "nonsense", "DTSTART:20261102T083000Z\nFREQ=DAILY"} {
		if _, err := Occurrences(bad, first, first, first.AddDate(0, 1, 0)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
