package signaling

import (
	"time"

	"github.com/worktogether/worktogether/session"
	"go.uber.org/zap"
)

// Rooms closed for idleness. A room nobody has been connected to for
// Config.IdleClose stops its goroutine and closes its media room. The
// phase, commitments, reports, mutes and removals are in the store; what
// only the room knew (the speaking order of the round, who came by the open
// link, who was dropped for good) is parked in the hub until the next join
// opens the room again, or the session is over.

// parked is what a room closed for idleness knew beyond the store.
type parked struct {
	phase   int       // the phase the turns belong to
	started time.Time // and when it began
	turns   *session.Turns
	guests  []string        // members who came by the open link
	dropped map[string]bool // participants whose data was deleted
	end     time.Time       // when the session ends: forgotten from then on
}

// restore gives a room loaded from the store what p kept; p may be nil. The
// speaking order carries over only into the round it was made for.
func (p *parked) restore(r *liveRoom, st session.State) {
	if p == nil {
		return
	}
	for _, id := range p.guests {
		if m := r.members[id]; m != nil {
			m.guest = true
		}
	}
	r.dropped = p.dropped
	if p.turns != nil && st.Kind.HasRounds() && st.Index == p.phase && st.StartedAt.Equal(p.started) {
		r.turns = p.turns
	}
}

// drop keeps id out of the room when it opens again.
func (p *parked) drop(id string) {
	if p.dropped == nil {
		p.dropped = make(map[string]bool)
	}
	p.dropped[id] = true
}

// idleC is the idle timer's channel while it runs, nil (never ready) else.
func (r *liveRoom) idleC() <-chan time.Time {
	if r.idling {
		return r.idle.C
	}
	return nil
}

// watchIdle starts the idle timer when the room has become empty and stops
// it when someone is in it; it runs after everything the room does.
func (r *liveRoom) watchIdle() {
	if r.idle == nil {
		return
	}
	empty := r.countPresent() == 0
	switch {
	case empty && !r.idling:
		r.idle.Reset(r.hub.cfg.IdleClose)
		r.idling = true
	case !empty && r.idling:
		r.idle.Stop()
		r.idling = false
	}
}

// closeIdle stops a room that has been empty for IdleClose. A join sent to
// it from now on is refused (do reports false) and goes to a fresh room,
// which the hub hands what this one parked.
func (r *liveRoom) closeIdle() {
	if r.countPresent() > 0 {
		return
	}
	r.media.Close()
	r.closedIdle = true
	r.finished = true
	r.hub.park(r, r.parkState())
	r.hub.idleClose.Add(1)
	r.log.Info("room closed", zap.String("reason", "idle"))
}

// parkState is what the room knows beyond the store; nil when that is
// nothing.
func (r *liveRoom) parkState() *parked {
	st := r.machine.State()
	p := &parked{phase: st.Index, started: st.StartedAt, turns: r.turns, dropped: r.dropped, end: r.machine.PlannedEnd()}
	for _, id := range r.order {
		if r.members[id].guest {
			p.guests = append(p.guests, id)
		}
	}
	if p.turns == nil && len(p.guests) == 0 && len(p.dropped) == 0 {
		return nil
	}
	return p
}

// park takes a room closed for idleness off the map and keeps what it knew
// (p, if not nil) for the next room of its session. What was parked for
// sessions that are over by now is forgotten, so the table holds at most
// one entry per session still to come.
func (h *Hub) park(r *liveRoom, p *parked) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rooms[r.id] == r {
		delete(h.rooms, r.id)
	}
	now := h.now()
	for id, q := range h.parked {
		if !now.Before(q.end) {
			delete(h.parked, id)
		}
	}
	if p != nil && !h.closing {
		h.parked[r.id] = p
	}
}

// Open tells whether the session's room is running now (not closed, never
// opened, or closed for idleness).
func (h *Hub) Open(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rooms[id] != nil
}

// IdleClosed is how many rooms were closed for being empty.
func (h *Hub) IdleClosed() uint64 { return h.idleClose.Load() }
