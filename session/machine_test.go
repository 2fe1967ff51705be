package session

import (
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func shortPlan() Plan {
	return Plan{{Commitment, 60}, {Work, 600}, {Break, 60}, {Work, 600}, {Closing, 120}}
}

func TestPlanValidate(t *testing.T) {
	cases := []struct {
		name string
		plan Plan
		ok   bool
	}{
		{"default", DefaultPlan(), true},
		{"minimal", Plan{{Commitment, 1}, {Work, 1}, {Closing, 1}}, true},
		{"empty", nil, false},
		{"no work", Plan{{Commitment, 60}, {Break, 60}, {Closing, 60}}, false},
		{"starts wrong", Plan{{Work, 60}, {Commitment, 60}, {Closing, 60}}, false},
		{"ends wrong", Plan{{Commitment, 60}, {Closing, 60}, {Work, 60}}, false},
		{"zero seconds", Plan{{Commitment, 0}, {Work, 60}, {Closing, 60}}, false},
		{"too long", Plan{{Commitment, 60}, {Work, 86401}, {Closing, 60}}, false},
		{"longest", Plan{{Commitment, 60}, {Work, 86400}, {Closing, 60}}, true},
		{"unknown kind", Plan{{Commitment, 60}, {"nap", 60}, {Work, 60}, {Closing, 60}}, false},
		{"lobby in plan", Plan{{Commitment, 60}, {Lobby, 60}, {Work, 60}, {Closing, 60}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.plan.Validate()
			if c.ok && err != nil {
				t.Fatalf("want valid, got %v", err)
			}
			if !c.ok && !errors.Is(err, ErrInvalidPlan) {
				t.Fatalf("want ErrInvalidPlan, got %v", err)
			}
		})
	}
}

func TestTickWalksThePlan(t *testing.T) {
	m := New(shortPlan(), t0, 600, nil)
	want := []struct {
		at    time.Duration // offset from t0
		index int
		kind  Kind
		start time.Duration
		end   time.Duration
	}{
		{-11 * time.Minute, -1, Lobby, -10 * time.Minute, 0},
		{-time.Second, -1, Lobby, -10 * time.Minute, 0},
		{0, 0, Commitment, 0, time.Minute},
		{59 * time.Second, 0, Commitment, 0, time.Minute},
		{time.Minute, 1, Work, time.Minute, 11 * time.Minute},
		{11 * time.Minute, 2, Break, 11 * time.Minute, 12 * time.Minute},
		{12*time.Minute + time.Second, 3, Work, 12 * time.Minute, 22 * time.Minute},
		{22 * time.Minute, 4, Closing, 22 * time.Minute, 24 * time.Minute},
		{24 * time.Minute, 5, Ended, 24 * time.Minute, 24 * time.Minute},
		{48 * time.Hour, 5, Ended, 24 * time.Minute, 24 * time.Minute},
	}
	for _, w := range want {
		m.Tick(t0.Add(w.at))
		st := m.State()
		if st.Index != w.index || st.Kind != w.kind || !st.StartedAt.Equal(t0.Add(w.start)) || !st.EndsAt.Equal(t0.Add(w.end)) {
			t.Fatalf("at %v: got %+v, want index %d kind %s start %v end %v", w.at, st, w.index, w.kind, w.start, w.end)
		}
	}
}

func TestTickCatchesUpInOneStep(t *testing.T) {
	// A server that was down for a while resumes exactly where the clock says.
	m := New(shortPlan(), t0, 600, nil)
	if !m.Tick(t0.Add(12*time.Minute + 30*time.Second)) {
		t.Fatal("tick reported no change")
	}
	st := m.State()
	if st.Index != 3 || !st.StartedAt.Equal(t0.Add(12*time.Minute)) {
		t.Fatalf("got %+v", st)
	}
	if m.Tick(t0.Add(13 * time.Minute)) {
		t.Fatal("tick inside a phase reported a change")
	}
}

func TestResumeFromSavedState(t *testing.T) {
	m := New(shortPlan(), t0, 600, nil)
	now := t0.Add(30 * time.Second)
	m.Tick(now)
	if err := m.Advance(now); err != nil { // host starts work early
		t.Fatal(err)
	}
	if err := m.Extend(300); err != nil {
		t.Fatal(err)
	}
	saved := m.State()
	r := New(shortPlan(), t0, 600, &saved)
	r.Tick(now.Add(14 * time.Minute))
	if st := r.State(); st.Index != 1 || st.Kind != Work || !st.EndsAt.Equal(now.Add(15*time.Minute)) {
		t.Fatalf("resumed to %+v", st)
	}
	r.Tick(now.Add(15 * time.Minute))
	if st := r.State(); st.Index != 2 || st.Kind != Break {
		t.Fatalf("after extended work: %+v", st)
	}
}

func TestHostActions(t *testing.T) {
	type step struct {
		name    string
		do      func(m *Machine, now time.Time) error
		wantErr error
		index   int
	}
	advance := func(m *Machine, now time.Time) error { return m.Advance(now) }
	extend := func(s int) func(*Machine, time.Time) error {
		return func(m *Machine, _ time.Time) error { return m.Extend(s) }
	}
	end := func(m *Machine, now time.Time) error { return m.End(now) }
	steps := []step{
		{"extend in lobby refused", extend(60), ErrWrongPhase, -1},
		{"advance starts early", advance, nil, 0},
		{"extend zero refused", extend(0), ErrInvalid, 0},
		{"extend too long refused", extend(86401), ErrInvalid, 0},
		{"extend commitment", extend(60), nil, 0},
		{"advance to work", advance, nil, 1},
		{"advance to break", advance, nil, 2},
		{"end", end, nil, 5},
		{"end twice refused", end, ErrWrongPhase, 5},
		{"advance after end refused", advance, ErrWrongPhase, 5},
		{"extend after end refused", extend(60), ErrWrongPhase, 5},
	}
	m := New(shortPlan(), t0, 600, nil)
	now := t0.Add(-5 * time.Minute)
	for _, s := range steps {
		err := s.do(m, now)
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
			t.Fatalf("%s: err %v, want %v", s.name, err, s.wantErr)
		}
		if m.State().Index != s.index {
			t.Fatalf("%s: index %d, want %d", s.name, m.State().Index, s.index)
		}
		now = now.Add(time.Second)
	}
}

func TestAdvanceStartsPhaseNow(t *testing.T) {
	m := New(shortPlan(), t0, 600, nil)
	now := t0.Add(-3 * time.Minute)
	if err := m.Advance(now); err != nil {
		t.Fatal(err)
	}
	st := m.State()
	if !st.StartedAt.Equal(now) || !st.EndsAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("got %+v", st)
	}
	if end := m.PlannedEnd(); !end.Equal(now.Add(24 * time.Minute)) {
		t.Fatalf("planned end %v", end)
	}
	next, ok := m.Next()
	if !ok || !next.Equal(st.EndsAt) {
		t.Fatalf("next %v %v", next, ok)
	}
}

func TestAudioForwarded(t *testing.T) {
	for k, want := range map[Kind]bool{Lobby: true, Commitment: true, Work: false, Break: true, Closing: true, Ended: true} {
		if k.AudioForwarded() != want {
			t.Errorf("%s: got %v", k, !want)
		}
	}
}
