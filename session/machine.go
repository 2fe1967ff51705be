package session

import (
	"errors"
	"fmt"
	"time"
)

// Errors returned by the machine's actions. Signaling maps them to the wire's
// error codes (ErrWrongPhase to not_allowed, ErrInvalid to invalid).
var (
	ErrWrongPhase = errors.New("not allowed in this phase")
	ErrInvalid    = errors.New("out of bounds")
)

// State is where a session stands: the phase index (-1 in the lobby, len(plan)
// once ended), its kind, and when it started and ends. It is the whole of the
// machine's mutable state, so storing it is enough to carry a session across a
// restart.
type State struct {
	Index     int
	Kind      Kind
	StartedAt time.Time
	EndsAt    time.Time
}

// Machine steps a session through its plan.
type Machine struct {
	plan     Plan
	startsAt time.Time
	lobby    time.Duration
	st       State
}

// New makes the machine of a session that starts at startsAt and opens its lobby
// lobbySeconds before. With saved == nil it begins in the lobby; otherwise it
// resumes from a stored state. Call Tick with the current time afterwards to
// catch up with the clock.
func New(plan Plan, startsAt time.Time, lobbySeconds int, saved *State) *Machine {
	m := &Machine{plan: plan, startsAt: startsAt.UTC(), lobby: time.Duration(lobbySeconds) * time.Second}
	if saved != nil {
		m.st = *saved
		m.st.StartedAt = m.st.StartedAt.UTC()
		m.st.EndsAt = m.st.EndsAt.UTC()
		m.st.Kind = m.kindAt(m.st.Index)
	} else {
		m.st = State{Index: -1, Kind: Lobby, StartedAt: m.startsAt.Add(-m.lobby), EndsAt: m.startsAt}
	}
	return m
}

// State returns the current state.
func (m *Machine) State() State { return m.st }

// Ended tells whether the session is over.
func (m *Machine) Ended() bool { return m.st.Index >= len(m.plan) }

func (m *Machine) kindAt(i int) Kind {
	switch {
	case i < 0:
		return Lobby
	case i >= len(m.plan):
		return Ended
	default:
		return m.plan[i].Kind
	}
}

// enter moves to phase i starting at t.
func (m *Machine) enter(i int, t time.Time) {
	if i >= len(m.plan) {
		m.st = State{Index: len(m.plan), Kind: Ended, StartedAt: t, EndsAt: t}
		return
	}
	m.st = State{Index: i, Kind: m.plan[i].Kind, StartedAt: t, EndsAt: t.Add(time.Duration(m.plan[i].Seconds) * time.Second)}
}

// Tick moves the machine forward to where the clock says it is: every phase
// whose time is up ends, and the next begins the instant the last one ended (so a
// machine resumed after a restart lands exactly where an uninterrupted one
// would). It reports whether the state changed.
func (m *Machine) Tick(now time.Time) bool {
	changed := false
	for !m.Ended() && !now.Before(m.st.EndsAt) {
		m.enter(m.st.Index+1, m.st.EndsAt)
		changed = true
	}
	return changed
}

// Next returns when the machine next needs a Tick (the current phase's end), and
// false once the session has ended.
func (m *Machine) Next() (time.Time, bool) {
	if m.Ended() {
		return time.Time{}, false
	}
	return m.st.EndsAt, true
}

// Advance ends the current phase now and begins the next; in the lobby it
// starts the session early.
func (m *Machine) Advance(now time.Time) error {
	if m.Ended() {
		return fmt.Errorf("advance: %w: session has ended", ErrWrongPhase)
	}
	m.enter(m.st.Index+1, now.UTC())
	return nil
}

// Extend adds seconds to the current phase. The lobby and the end cannot be
// extended.
func (m *Machine) Extend(seconds int) error {
	if m.st.Index < 0 || m.Ended() {
		return fmt.Errorf("extend: %w: only a running phase can be extended", ErrWrongPhase)
	}
	if seconds < MinPhaseSeconds || seconds > MaxPhaseSeconds {
		return fmt.Errorf("extend: %w: seconds must be %d to %d", ErrInvalid, MinPhaseSeconds, MaxPhaseSeconds)
	}
	m.st.EndsAt = m.st.EndsAt.Add(time.Duration(seconds) * time.Second)
	return nil
}

// End ends the session now.
func (m *Machine) End(now time.Time) error {
	if m.Ended() {
		return fmt.Errorf("end: %w: session has ended", ErrWrongPhase)
	}
	m.enter(len(m.plan), now.UTC())
	return nil
}

// PlannedEnd is when the session would end if nobody advanced or extended
// anything from here on.
func (m *Machine) PlannedEnd() time.Time {
	if m.Ended() {
		return m.st.EndsAt
	}
	end := m.st.EndsAt
	for i := m.st.Index + 1; i < len(m.plan); i++ {
		end = end.Add(time.Duration(m.plan[i].Seconds) * time.Second)
	}
	return end
}
