package session

import (
	"fmt"
	"time"

	"github.com/worktogether/worktogether/text"
)

// Bounds of commitments and reports, as the wire contract states them.
const (
	MaxTasks    = 10
	MaxTaskLen  = 280
	MaxNoteLen  = 2000
	minTurnHint = 30 // seconds: the shortest speaking time the order suggests
)

// CheckCommit says whether tasks may be committed during a phase of kind, and
// returns them trimmed. Commitments are made in the lobby and the commitment
// round; a new one replaces the last.
func CheckCommit(kind Kind, tasks []string) ([]string, error) {
	if kind != Lobby && kind != Commitment {
		return nil, fmt.Errorf("commit: %w: commitments are made in the lobby and the commitment round", ErrWrongPhase)
	}
	if len(tasks) < 1 || len(tasks) > MaxTasks {
		return nil, fmt.Errorf("commit: %w: 1 to %d tasks, got %d", ErrInvalid, MaxTasks, len(tasks))
	}
	out := make([]string, len(tasks))
	for i, t := range tasks {
		t, err := text.Line(fmt.Sprintf("task %d", i+1), t, MaxTaskLen)
		if err != nil {
			return nil, fmt.Errorf("commit: %w: %w", ErrInvalid, err)
		}
		out[i] = t
	}
	return out, nil
}

// CheckReport says whether a report may be given during a phase of kind by
// someone who committed to committed tasks: one done flag per task, and a note
// of at most MaxNoteLen characters (several lines allowed). Reports are given
// in the closing round. It returns the note as it is to be kept.
func CheckReport(kind Kind, committed int, done []bool, note string) (string, error) {
	if kind != Closing {
		return "", fmt.Errorf("report: %w: reports are given in the closing round", ErrWrongPhase)
	}
	if len(done) != committed {
		return "", fmt.Errorf("report: %w: one done flag per committed task (%d), got %d", ErrInvalid, committed, len(done))
	}
	note, err := text.Block("the note", note, MaxNoteLen)
	if err != nil {
		return "", fmt.Errorf("report: %w: %w", ErrInvalid, err)
	}
	return note, nil
}

// HasRounds tells whether a phase of kind is a round where people speak in
// turn.
func (k Kind) HasRounds() bool { return k == Commitment || k == Closing }

// Turns is the speaking order of a round: who is on, who is next, and a hint
// of how long each may speak so that the round ends in time.
type Turns struct {
	Order     []string  // participant ids
	Current   int       // index into Order; len(Order) when everyone has spoken
	StartedAt time.Time // when the current speaker began
	Seconds   int       // suggested speaking time each
}

// NewTurns starts the order of a round that runs from st.StartedAt to
// st.EndsAt, for the people present, in the order they joined.
func NewTurns(ids []string, st State) *Turns {
	t := &Turns{Order: append([]string(nil), ids...), StartedAt: st.StartedAt}
	t.hint(st)
	return t
}

func (t *Turns) hint(st State) {
	secs := int(st.EndsAt.Sub(st.StartedAt) / time.Second)
	if n := len(t.Order); n > 0 {
		secs /= n
	}
	if secs < minTurnHint {
		secs = minTurnHint
	}
	t.Seconds = secs
}

// Add puts a latecomer at the end of the order (once).
func (t *Turns) Add(id string, st State) bool {
	for _, o := range t.Order {
		if o == id {
			return false
		}
	}
	t.Order = append(t.Order, id)
	t.hint(st)
	return true
}

// Speaker is who is on now, or "" when the round is through.
func (t *Turns) Speaker() string {
	if t.Current < len(t.Order) {
		return t.Order[t.Current]
	}
	return ""
}

// Pass gives the turn to the next person for whom present is true. It
// reports false when the round was already through.
func (t *Turns) Pass(now time.Time, present func(string) bool) bool {
	if t.Current >= len(t.Order) {
		return false
	}
	t.Current++
	for t.Current < len(t.Order) && !present(t.Order[t.Current]) {
		t.Current++
	}
	t.StartedAt = now
	return true
}
