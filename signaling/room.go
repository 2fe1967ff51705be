package signaling

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/sfu"
	"github.com/worktogether/worktogether/store"
	"go.uber.org/zap"
)

// storeTimeout bounds one write to the database from a room.
const storeTimeout = 5 * time.Second

// member is someone who has joined the session, connected now or not.
type member struct {
	p      store.Participant
	client *client // nil while away
	muted  bool
	guest  bool // came by the open link (known while the room runs)
	status status
}

// liveRoom is the actor of one running session: a single goroutine owns the
// session machine, the members and the SFU room, and runs every change in
// order. Others talk to it through do.
type liveRoom struct {
	hub *Hub
	id  string
	log *zap.Logger

	inbox   chan func() // unbuffered: a closure is either run or refused
	done    chan struct{}
	present atomic.Int32
	// closedIdle says the room stopped for being empty, not because its
	// session is over: set by the actor before done closes, read after.
	closedIdle bool
	// here is who is connected now (ids, never changed once stored), for
	// readers outside the actor; the actor stores a new set with present.
	here atomic.Pointer[map[string]bool]

	// Owned by the actor goroutine.
	sess     store.Session
	machine  *session.Machine
	members  map[string]*member
	order    []string // member ids in the order they first joined
	media    *sfu.Room
	timer    *time.Timer
	idle     *time.Timer    // runs while nobody is connected; nil: never closes for it
	idling   bool           // idle is running
	turns    *session.Turns // the speaking order of the current round, if any
	finished bool
	dropped  map[string]bool // participants whose data was deleted: never let in again
}

// newLiveRoom loads a session's room from the store; from carries on from
// the room that was closed for idleness, if it was (nil otherwise).
func newLiveRoom(ctx context.Context, h *Hub, sess store.Session, from *parked) (*liveRoom, error) {
	// The session as stored now, not as the joining link found it: a host's
	// end may have come in between.
	sess, err := h.cfg.Store.GetSession(ctx, sess.ID)
	if err != nil {
		return nil, fmt.Errorf("load room: %w", err)
	}
	joined, err := h.cfg.Store.JoinedParticipants(ctx, sess.ID)
	if err != nil {
		return nil, fmt.Errorf("load room %s: %w", sess.ID, err)
	}
	r := &liveRoom{
		hub:     h,
		id:      sess.ID,
		log:     h.log.With(zap.String("session", sess.ID)),
		inbox:   make(chan func()),
		done:    make(chan struct{}),
		sess:    sess,
		machine: h.machineFor(sess),
		members: make(map[string]*member, len(joined)),
		media:   h.cfg.Router.NewRoom(sess.ID),
	}
	st := r.machine.State()
	for _, p := range joined {
		// A host's mute holds until the phase it was given in ends.
		muted := p.MutedPhase != nil && *p.MutedPhase == st.Index
		r.members[p.ID] = &member{p: p, muted: muted}
		r.order = append(r.order, p.ID)
	}
	r.media.SetAudioForwarded(st.Kind.AudioForwarded())
	r.media.SetPresence(r.presence(st))
	if st.Kind.HasRounds() {
		r.turns = session.NewTurns(nil, st)
	}
	from.restore(r, st)
	return r, nil
}

// do runs fn on the room's goroutine. It reports false, without running fn,
// when the room has stopped.
func (r *liveRoom) do(fn func()) bool {
	select {
	case r.inbox <- fn:
		return true
	case <-r.done:
		return false
	}
}

func (r *liveRoom) run() {
	defer close(r.done)
	r.timer = time.NewTimer(time.Hour)
	r.armTimer()
	defer r.timer.Stop()
	if d := r.hub.cfg.IdleClose; d > 0 {
		r.idle = time.NewTimer(d)
		r.idling = true // until its first join comes in
		defer r.idle.Stop()
	}
	for !r.finished {
		select {
		case fn := <-r.inbox:
			fn()
		case <-r.timer.C:
			r.tick()
			if !r.finished {
				r.armTimer()
			}
		case <-r.idleC():
			r.idling = false
			r.closeIdle()
		}
		if !r.finished {
			r.watchIdle()
		}
	}
}

// armTimer sets the timer for the current phase's end.
func (r *liveRoom) armTimer() {
	r.timer.Stop()
	next, ok := r.machine.Next()
	if !ok {
		return
	}
	wait := next.Sub(r.hub.now())
	if wait < 0 {
		wait = 0
	}
	r.timer.Reset(wait)
}

// tick follows the clock: phases whose time is up end.
func (r *liveRoom) tick() {
	before := r.machine.State().Index
	if r.machine.Tick(r.hub.now()) {
		if err := r.savePhase("clock"); err != nil {
			// The clock-driven state is recomputed the same way after a
			// restart; log and carry on rather than freeze the room.
			r.log.Error("store phase", zap.Error(err))
		}
		r.phaseChanged(before)
	}
}

func (r *liveRoom) savePhase(cause string) error {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	return r.hub.cfg.Store.SavePhase(ctx, r.id, r.machine.State(), cause, r.hub.now())
}

// phaseChanged applies and announces a stored change of state; before is the
// phase index it changed from.
func (r *liveRoom) phaseChanged(before int) {
	st := r.machine.State()
	r.log.Info("phase", zap.Int("index", st.Index), zap.String("kind", st.Kind.String()))
	r.media.SetAudioForwarded(st.Kind.AudioForwarded())
	r.media.SetPresence(r.presence(st))
	roundChanged := false
	if st.Index != before {
		for _, m := range r.members {
			if m.muted { // a host's mute lasts until the next phase
				m.muted = false
				r.setMuted(m, false)
			}
		}
		r.lowerHands()
		roundChanged = r.turns != nil || st.Kind.HasRounds()
		r.turns = nil
		if st.Kind.HasRounds() {
			r.turns = session.NewTurns(r.presentIDs(), st)
		}
	}
	r.broadcast(MsgState{Type: "state", WireState: r.stateNow()})
	if roundChanged {
		r.broadcast(r.turnMessage())
	}
	if r.machine.Ended() {
		r.finish(ByeEnded)
	}
}

// presentIDs lists who is connected, in the order they first joined.
func (r *liveRoom) presentIDs() []string {
	var ids []string
	for _, id := range r.order {
		if r.members[id].client != nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// finish closes every connection with bye reason and stops the room.
func (r *liveRoom) finish(reason string) {
	if r.finished {
		return
	}
	for _, m := range r.members {
		if m.client != nil {
			m.client.sendBye(reason)
			m.client = nil
		}
	}
	r.present.Store(0)
	r.here.Store(nil)
	r.media.Close()
	r.finished = true
	r.hub.forget(r)
	r.log.Info("room closed", zap.String("reason", reason))
}

func (r *liveRoom) stateNow() WireState {
	return WireState{Phase: ToWirePhase(r.machine.State()), ServerTime: r.hub.now()}
}

func (r *liveRoom) participantOf(m *member) WireParticipant {
	w := ToWireParticipant(m.p, m.client != nil, m.muted)
	m.status.wire(&w, m.client != nil)
	return w
}

func (r *liveRoom) broadcast(v any) {
	for _, m := range r.members {
		if m.client != nil {
			m.client.sendJSON(v)
		}
	}
}

func (r *liveRoom) broadcastParticipant(m *member) {
	r.broadcast(msgParticipant{Type: "participant", WireParticipant: r.participantOf(m)})
}

// storePresent tells readers outside the actor who is connected now.
func (r *liveRoom) storePresent() {
	here := make(map[string]bool, len(r.members))
	for id, m := range r.members {
		if m.client != nil {
			here[id] = true
		}
	}
	r.here.Store(&here)
	r.present.Store(int32(len(here)))
}

func (r *liveRoom) countPresent() int32 {
	var n int32
	for _, m := range r.members {
		if m.client != nil {
			n++
		}
	}
	return n
}

// join admits a client: capacity, replacement of an earlier connection,
// welcome, announcement, then media.
func (r *liveRoom) join(c *client) {
	r.tick()
	r.armTimer()
	if !r.finished && r.machine.Ended() {
		// The session ended between the link's check and this room (a
		// room made for a session the clock or the store says is over):
		// nobody is welcomed into it.
		r.finish(ByeEnded)
	}
	if !r.finished && r.sess.Cancelled {
		r.finish(ByeCancelled)
	}
	if r.finished {
		c.sendBye(ByeEnded)
		return
	}
	if r.dropped[c.id] {
		c.sendBye(ByeRemoved)
		return
	}
	m := r.members[c.id]
	if m != nil && m.client != nil {
		old := m.client
		old.sendBye(ByeReplaced)
		if p := old.peer.Load(); p != nil {
			r.media.Leave(p)
		}
		m.client = nil
	} else if c.role != RoleHost && int(r.countPresent()) >= r.sess.Capacity {
		c.sendError(CodeFull, fmt.Sprintf("this session is full (%d people)", r.sess.Capacity), "")
		c.closeWith(websocket.CloseTryAgainLater, "full")
		return
	} else if c.guest {
		if msg := r.guestRefusal(m == nil); msg != "" {
			c.sendError(CodeGuestsFull, msg, "")
			c.closeWith(websocket.CloseTryAgainLater, "guests full")
			return
		}
	}
	if m == nil {
		p := store.Participant{ID: c.id, SessionID: r.id, Name: c.name, Role: c.role, SubscriberID: c.sub}
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		err := r.hub.cfg.Store.MarkJoined(ctx, p, r.hub.now())
		cancel()
		if err != nil {
			r.log.Error("store join", zap.Error(err))
			c.closeWith(websocket.CloseInternalServerErr, "could not join the room")
			return
		}
		m = &member{p: p, guest: c.guest}
		r.members[c.id] = m
		r.order = append(r.order, c.id)
	}
	m.client = c
	m.status = status{} // the new connection says it again
	r.storePresent()
	c.room.Store(r)
	c.sendJSON(r.welcome(c))
	for _, other := range r.members {
		if other.client != nil && other != m {
			other.client.sendJSON(msgParticipant{Type: "participant", WireParticipant: r.participantOf(m)})
		}
	}

	if r.turns != nil && r.turns.Add(c.id, r.machine.State()) {
		r.broadcast(r.turnMessage())
	}

	peer, err := r.media.JoinWithSlots(c.id, c, c.slots)
	if err != nil {
		r.log.Error("media join", zap.Error(err))
		c.closeWith(websocket.CloseInternalServerErr, "could not set up media")
		return
	}
	peer.SetMuted(m.muted)
	c.peer.Store(peer)
	c.applyTiles(peer)
	// The first offer carries every track in the room: made off the room's
	// goroutine, so the next joins need not wait for it.
	go peer.Start()
	c.log.Info("joined", zap.String("role", c.role), zap.Int32("present", r.present.Load()))
}

func (r *liveRoom) welcome(c *client) MsgWelcome {
	desc := ToWireSession(r.sess)
	ph := ToWirePhase(r.machine.State())
	desc.Phase = &ph
	desc.Participants = int(r.present.Load())
	parts := make([]WireParticipant, 0, len(r.order))
	for _, id := range r.order {
		parts = append(parts, r.participantOf(r.members[id]))
	}
	ice := r.hub.cfg.ICEServers(c.id)
	return MsgWelcome{
		Type:         "welcome",
		You:          WireYou{ID: c.id, Name: c.name, Role: c.role},
		Session:      desc,
		State:        r.stateNow(),
		Participants: parts,
		ICEServers:   ice,
		Turn:         r.turnNow(),
		PublishLimit: r.hub.cfg.Router.PublishBitrate(),
	}
}

// leave handles a client that went away.
func (r *liveRoom) leave(c *client) {
	m := r.members[c.id]
	if m == nil || m.client != c {
		return // replaced or removed already
	}
	m.client = nil
	m.status = status{} // said again on coming back
	r.storePresent()
	if p := c.peer.Load(); p != nil {
		r.media.Leave(p)
	}
	r.broadcastParticipant(m)
	c.log.Info("left", zap.Int32("present", r.present.Load()))
}

// drop takes a participant out of the room for good: their data is being
// deleted, so nothing of theirs may be stored after this.
func (r *liveRoom) drop(id string) {
	if r.dropped == nil {
		r.dropped = make(map[string]bool)
	}
	r.dropped[id] = true
	m := r.members[id]
	if m == nil {
		return
	}
	if c := m.client; c != nil {
		c.sendBye(ByeRemoved)
		if p := c.peer.Load(); p != nil {
			r.media.Leave(p)
		}
	}
	delete(r.members, id)
	r.order = slices.DeleteFunc(r.order, func(o string) bool { return o == id })
	r.storePresent()
	r.broadcast(msgParticipant{Type: "participant", WireParticipant: WireParticipant{ID: id, Role: m.p.Role}})
}

func (r *liveRoom) setMuted(m *member, muted bool) {
	if m.client != nil {
		if p := m.client.peer.Load(); p != nil {
			p.SetMuted(muted)
		}
	}
	r.broadcastParticipant(m)
}
