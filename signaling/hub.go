package signaling

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/store"
	"go.uber.org/zap"
)

// errShuttingDown refuses joins while the server stops.
var errShuttingDown = errors.New("server is shutting down")

// Hub maps each live session to its room actor. A room starts when the first
// participant arrives and stops when the session ends, is cancelled, the
// server shuts down, or nobody has been connected for Config.IdleClose (then
// what only the room knew is parked until a join opens it again).
type Hub struct {
	cfg       Config
	log       *zap.Logger
	lagDrops  atomic.Uint64 // clients dropped for being too far behind
	fullDrops atomic.Uint64 // and for filling their queue
	idleClose atomic.Uint64 // rooms closed for being empty

	mu      sync.Mutex
	rooms   map[string]*liveRoom
	pending map[string]*pendingRoom // rooms being loaded from the store
	parked  map[string]*parked      // what rooms closed for idleness knew
	closing bool
	running sync.WaitGroup
}

// NewHub checks cfg and builds the hub.
func NewHub(cfg Config) (*Hub, error) {
	if cfg.Store == nil || cfg.Router == nil || cfg.Log == nil {
		return nil, errors.New("signaling: store, router and logger are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ICEServers == nil {
		cfg.ICEServers = func(string) []ICEServer { return []ICEServer{} }
	}
	if cfg.ErrorText == nil {
		cfg.ErrorText = func(_, _, _, msg string) string { return msg }
	}
	if cfg.IdleClose == 0 {
		cfg.IdleClose = DefaultIdleClose
	}
	cfg.Limits = cfg.Limits.withDefaults()
	return &Hub{cfg: cfg, log: cfg.Log, rooms: make(map[string]*liveRoom),
		pending: make(map[string]*pendingRoom), parked: make(map[string]*parked)}, nil
}

func (h *Hub) now() time.Time { return h.cfg.Now().UTC() }

// machineFor builds the session's state machine where the clock says it is.
func (h *Hub) machineFor(sess store.Session) *session.Machine {
	return sess.Machine(h.now())
}

// roomFor returns the session's running room, starting it if needed. The
// room is loaded from the store without the hub's lock: the first join of a
// session leaves a pending entry that later joins of the same session wait
// on, while every other session goes on.
func (h *Hub) roomFor(ctx context.Context, sess store.Session) (*liveRoom, error) {
	for {
		h.mu.Lock()
		if h.closing {
			h.mu.Unlock()
			return nil, errShuttingDown
		}
		if r := h.rooms[sess.ID]; r != nil {
			h.mu.Unlock()
			return r, nil
		}
		if p := h.pending[sess.ID]; p != nil {
			h.mu.Unlock()
			select {
			case <-p.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if p.err != nil && !isContextErr(p.err) {
				return nil, p.err
			}
			continue // loaded (or its loader went away): look again
		}
		p := &pendingRoom{done: make(chan struct{}), parked: h.parked[sess.ID]}
		delete(h.parked, sess.ID)
		h.pending[sess.ID] = p
		h.mu.Unlock()
		return h.start(ctx, sess, p)
	}
}

// pendingRoom is a room being loaded; done closes when it runs or failed.
type pendingRoom struct {
	done   chan struct{}
	err    error
	parked *parked // what the room closed for idleness knew, if it was
}

// start loads the room of p's session and runs it, unless the hub began to
// close meanwhile.
func (h *Hub) start(ctx context.Context, sess store.Session, p *pendingRoom) (*liveRoom, error) {
	r, err := newLiveRoom(ctx, h, sess, p.parked)
	h.mu.Lock()
	defer h.mu.Unlock()
	defer close(p.done)
	delete(h.pending, sess.ID)
	if err == nil && h.closing {
		r.media.Close()
		r, err = nil, errShuttingDown
	}
	if err != nil {
		if p.parked != nil && !h.closing {
			h.parked[sess.ID] = p.parked // for the next join
		}
		p.err = err
		return nil, err
	}
	h.rooms[sess.ID] = r
	h.running.Add(1)
	go func() {
		defer h.running.Done()
		r.run()
	}()
	return r, nil
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// join hands a new client to its session's room.
func (h *Hub) join(ctx context.Context, sess store.Session, c *client) error {
	// A room that is finishing refuses; the next attempt starts a fresh one
	// (which then sees the session's end for itself, or takes up where a
	// room closed for idleness left off). Only rooms that finished count
	// against the attempts: one that closed for idleness says nothing of
	// the session, however short the idle time.
	for finished, tries := 0, 0; finished < 3 && tries < maxJoinTries; tries++ {
		r, err := h.roomFor(ctx, sess)
		if err != nil {
			return fmt.Errorf("join %s: %w", sess.ID, err)
		}
		if r.do(func() { r.join(c) }) {
			return nil
		}
		if !r.closedIdle { // written before r.done closed, so safe to read now
			finished++
		}
	}
	return fmt.Errorf("join %s: %w", sess.ID, errRoomOver)
}

// maxJoinTries bounds the rooms one join tries, idle ones included.
const maxJoinTries = 20

// errRoomOver is a join whose room kept finishing under it: rooms finish
// when their session is over (a room made for a session that just ended
// finishes at its first tick, before it takes the join), and an idle room
// closes only while nobody is in it, so a fresh one takes the next attempt.
var errRoomOver = errors.New("the session's room keeps closing: it is over")

// forget removes a finished room; called by the room itself.
func (h *Hub) forget(r *liveRoom) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rooms[r.id] == r {
		delete(h.rooms, r.id)
	}
}

// live lists the rooms running now.
func (h *Hub) live() []*liveRoom {
	h.mu.Lock()
	defer h.mu.Unlock()
	rooms := make([]*liveRoom, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	return rooms
}

// Present is how many participants are connected to a session now.
func (h *Hub) Present(id string) int {
	h.mu.Lock()
	r := h.rooms[id]
	h.mu.Unlock()
	if r == nil {
		return 0
	}
	return int(r.present.Load())
}

// IsHere tells whether participant is connected to session id's room now
// (from another tab or device, say).
func (h *Hub) IsHere(id, participant string) bool {
	h.mu.Lock()
	r := h.rooms[id]
	h.mu.Unlock()
	if r == nil {
		return false
	}
	here := r.here.Load()
	return here != nil && (*here)[participant]
}

// Participants is how many participants are connected now, in every room.
func (h *Hub) Participants() int {
	n := 0
	for _, r := range h.live() {
		n += int(r.present.Load())
	}
	return n
}

// SlowDrops counts the clients dropped for not reading their messages.
type SlowDrops struct {
	Lag  uint64 // the oldest message waiting for them had waited Limits.SendLag
	Full uint64 // their queue reached its backstop
}

// SlowDrops is how many clients were dropped for not reading their
// messages, by reason.
func (h *Hub) SlowDrops() SlowDrops {
	return SlowDrops{Lag: h.lagDrops.Load(), Full: h.fullDrops.Load()}
}

// CloseRoom ends a session's room (if running) with bye reason, and waits
// until it has stopped or ctx is done.
func (h *Hub) CloseRoom(ctx context.Context, id, reason string) {
	h.mu.Lock()
	r := h.rooms[id]
	delete(h.parked, id) // its session is over
	h.mu.Unlock()
	if r == nil {
		return
	}
	r.do(func() { r.finish(reason) })
	select {
	case <-r.done:
	case <-ctx.Done():
	}
}

// Reload gives a running room the session as it now stands (a new time or
// title), and tells everyone in it.
func (h *Hub) Reload(sess store.Session) {
	h.mu.Lock()
	r := h.rooms[sess.ID]
	h.mu.Unlock()
	if r == nil {
		return
	}
	r.do(func() {
		r.sess = sess
		r.machine = h.machineFor(sess)
		r.broadcast(MsgState{Type: "state", WireState: r.stateNow()})
		r.armTimer()
	})
}

// DropEverywhere takes the participant idFor(session) out of every live
// room at once (a subscriber who deleted their data): bye removed, gone
// from the members, refused if the same link comes back to that room.
func (h *Hub) DropEverywhere(idFor func(sessionID string) string) {
	h.mu.Lock()
	for id, p := range h.parked {
		p.drop(idFor(id))
	}
	h.mu.Unlock()
	for _, r := range h.live() {
		id := idFor(r.id)
		r.do(func() { r.drop(id) })
	}
}

// Shutdown says bye to everyone and waits for every room to stop.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	h.mu.Unlock()
	for _, r := range h.live() {
		r.do(func() { r.finish(ByeShutdown) })
	}
	done := make(chan struct{})
	go func() {
		h.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("rooms still stopping: %w", ctx.Err())
	}
}
