// Package session owns the shape of a Worktogether in time: the plan of phases,
// the lobby before the start, automatic advance on the clock, and the host's
// advance, extend and end.
//
// It is a pure state machine: no goroutines, no I/O, no logging. Time comes in as
// an argument to every method (the caller's clock), so tests drive it with plain
// time values and never sleep. It knows nothing of websockets, media or storage;
// signaling asks it what happens and tells the SFU and the store.
package session

import (
	"errors"
	"fmt"
	"time"
)

// Kind is what a phase is for.
type Kind string

// The kinds of phase a session passes through. Lobby and Ended are the states
// before and after the plan; the others may appear in a plan.
const (
	Lobby      Kind = "lobby"
	Commitment Kind = "commitment"
	Work       Kind = "work"
	Break      Kind = "break"
	Closing    Kind = "closing"
	Ended      Kind = "ended"
)

// String returns the wire name of the kind.
func (k Kind) String() string { return string(k) }

// AudioForwarded tells whether the SFU forwards audio during this kind of phase.
// The work phase is quiet; everything else may be heard.
func (k Kind) AudioForwarded() bool { return k != Work }

// Phase is one step of a plan.
type Phase struct {
	Kind    Kind `json:"kind"`
	Seconds int  `json:"seconds"`
}

// Plan is the ordered list of phases of one session.
type Plan []Phase

// Bounds of a plan, as the wire contract states them.
const (
	MinPhaseSeconds = 1
	MaxPhaseSeconds = 86400
	MaxPhases       = 50
)

// ErrInvalidPlan is wrapped by every plan validation error.
var ErrInvalidPlan = errors.New("invalid plan")

// DefaultPlan is the contract's default: commitment 10 min, two work blocks of
// 50 min with a 10 min break, closing 15 min.
func DefaultPlan() Plan {
	return Plan{
		{Commitment, 600},
		{Work, 3000},
		{Break, 600},
		{Work, 3000},
		{Closing, 900},
	}
}

// Validate checks the contract's rules: starts with commitment, ends with
// closing, has at least one work phase, each phase lasts 1 to 86400 seconds.
func (p Plan) Validate() error {
	if len(p) < 3 {
		return fmt.Errorf("%w: needs at least commitment, work and closing", ErrInvalidPlan)
	}
	if len(p) > MaxPhases {
		return fmt.Errorf("%w: at most %d phases", ErrInvalidPlan, MaxPhases)
	}
	if p[0].Kind != Commitment {
		return fmt.Errorf("%w: must start with commitment", ErrInvalidPlan)
	}
	if p[len(p)-1].Kind != Closing {
		return fmt.Errorf("%w: must end with closing", ErrInvalidPlan)
	}
	work := false
	for i, ph := range p {
		switch ph.Kind {
		case Commitment, Break, Closing:
		case Work:
			work = true
		default:
			return fmt.Errorf("%w: phase %d has unknown kind %q", ErrInvalidPlan, i, ph.Kind)
		}
		if ph.Seconds < MinPhaseSeconds || ph.Seconds > MaxPhaseSeconds {
			return fmt.Errorf("%w: phase %d lasts %d s, must be %d to %d", ErrInvalidPlan, i, ph.Seconds, MinPhaseSeconds, MaxPhaseSeconds)
		}
	}
	if !work {
		return fmt.Errorf("%w: needs at least one work phase", ErrInvalidPlan)
	}
	return nil
}

// Duration is the planned length of the whole plan.
func (p Plan) Duration() time.Duration {
	var total time.Duration
	for _, ph := range p {
		total += time.Duration(ph.Seconds) * time.Second
	}
	return total
}
