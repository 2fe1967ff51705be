package session

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCommitRulesPerPhase(t *testing.T) {
	ok := []string{"write the intro", "  answer mail  "}
	cases := []struct {
		kind  Kind
		tasks []string
		want  error
	}{
		{Lobby, ok, nil},
		{Commitment, ok, nil},
		{Work, ok, ErrWrongPhase},
		{Break, ok, ErrWrongPhase},
		{Closing, ok, ErrWrongPhase},
		{Ended, ok, ErrWrongPhase},
		{Commitment, nil, ErrInvalid},
		{Commitment, make([]string, 11), ErrInvalid},
		{Commitment, []string{"fine", "   "}, ErrInvalid},
		{Commitment, []string{strings.Repeat("é", 280)}, nil},
		{Commitment, []string{strings.Repeat("é", 281)}, ErrInvalid},
		{Commitment, []string{"bad \xff utf-8"}, ErrInvalid},
		{Commitment, []string{"two\nlines"}, ErrInvalid},
		{Commitment, []string{"nul\x00byte"}, ErrInvalid},
		{Commitment, []string{"bidi \u202egnp.exe"}, ErrInvalid},
	}
	for _, c := range cases {
		got, err := CheckCommit(c.kind, c.tasks)
		if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("%s %q: err %v, want %v", c.kind, c.tasks, err, c.want)
		}
		if err == nil && c.tasks[0] == ok[0] && got[1] != "answer mail" {
			t.Errorf("tasks not trimmed: %q", got)
		}
	}
}

func TestReportRulesPerPhase(t *testing.T) {
	cases := []struct {
		kind      Kind
		committed int
		done      []bool
		note      string
		want      error
	}{
		{Closing, 2, []bool{true, false}, "went well", nil},
		{Closing, 0, []bool{}, "joined late, still did things", nil},
		{Closing, 2, []bool{true}, "", ErrInvalid},
		{Closing, 1, []bool{true, true}, "", ErrInvalid},
		{Closing, 1, []bool{true}, strings.Repeat("n", 2000), nil},
		{Closing, 1, []bool{true}, strings.Repeat("n", 2001), ErrInvalid},
		{Closing, 1, []bool{true}, "two\nlines\n\tare fine", nil},
		{Closing, 1, []bool{true}, "nul\x00byte", ErrInvalid},
		{Closing, 1, []bool{true}, "escape \x1b[31m", ErrInvalid},
		{Lobby, 1, []bool{true}, "", ErrWrongPhase},
		{Commitment, 1, []bool{true}, "", ErrWrongPhase},
		{Work, 1, []bool{true}, "", ErrWrongPhase},
		{Break, 1, []bool{true}, "", ErrWrongPhase},
		{Ended, 1, []bool{true}, "", ErrWrongPhase},
	}
	for _, c := range cases {
		_, err := CheckReport(c.kind, c.committed, c.done, c.note)
		if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("%s committed %d done %v: err %v, want %v", c.kind, c.committed, c.done, err, c.want)
		}
	}
}

func TestTurns(t *testing.T) {
	st := State{Index: 0, Kind: Commitment, StartedAt: t0, EndsAt: t0.Add(10 * time.Minute)}
	turns := NewTurns([]string{"a", "b", "c", "d"}, st)
	if turns.Speaker() != "a" || turns.Seconds != 150 {
		t.Fatalf("start: %+v", turns)
	}
	present := map[string]bool{"a": true, "b": true, "c": false, "d": true}
	if !turns.Pass(t0.Add(time.Minute), func(id string) bool { return present[id] }) || turns.Speaker() != "b" {
		t.Fatalf("after a: %+v", turns)
	}
	turns.Pass(t0.Add(2*time.Minute), func(id string) bool { return present[id] })
	if turns.Speaker() != "d" || !turns.StartedAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("absent c is skipped: %+v", turns)
	}
	if !turns.Add("e", st) || turns.Add("e", st) || turns.Seconds != 120 {
		t.Fatalf("latecomer: %+v", turns)
	}
	turns.Pass(t0.Add(3*time.Minute), func(string) bool { return true })
	turns.Pass(t0.Add(4*time.Minute), func(string) bool { return true })
	if turns.Speaker() != "" || turns.Pass(t0, func(string) bool { return true }) {
		t.Fatalf("round through: %+v", turns)
	}
	many := make([]string, 40)
	if h := NewTurns(many, st).Seconds; h != minTurnHint {
		t.Fatalf("hint floor: %d", h)
	}
	if rounds := []Kind{Commitment, Closing}; !rounds[0].HasRounds() || !rounds[1].HasRounds() || Work.HasRounds() || Lobby.HasRounds() {
		t.Fatal("HasRounds")
	}
}
