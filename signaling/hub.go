package signaling

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/worktogether/worktogether/store"
)

// errShuttingDown refuses joins while the server stops.
var errShuttingDown = errors.New("server is shutting down")

// Hub maps each live session to its room actor. A room starts when the first
// participant arrives and stops when the session ends, is cancelled, or the
// server shuts down.
type Hub struct {
	srv *Server

	mu      sync.Mutex
	rooms   map[string]*liveRoom
	closing bool
	running sync.WaitGroup
}

func newHub(s *Server) *Hub {
	return &Hub{srv: s, rooms: make(map[string]*liveRoom)}
}

// roomFor returns the session's running room, starting it if needed.
func (h *Hub) roomFor(ctx context.Context, sess store.Session) (*liveRoom, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return nil, errShuttingDown
	}
	if r := h.rooms[sess.ID]; r != nil {
		return r, nil
	}
	r, err := newLiveRoom(ctx, h.srv, sess)
	if err != nil {
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

// join hands a new client to its session's room.
func (h *Hub) join(ctx context.Context, adm admission, c *client) error {
	// A room that is finishing refuses; the next attempt starts a fresh one
	// (which then sees the session's end for itself).
	for attempt := 0; attempt < 3; attempt++ {
		r, err := h.roomFor(ctx, adm.session)
		if err != nil {
			return fmt.Errorf("join %s: %w", adm.session.ID, err)
		}
		if r.do(func() { r.join(c) }) {
			return nil
		}
	}
	return fmt.Errorf("join %s: %w", adm.session.ID, errRoomOver)
}

// errRoomOver is a join whose room kept finishing under it: rooms finish
// only when their session is over (a room made for a session that just
// ended finishes at its first tick, before it takes the join).
var errRoomOver = errors.New("the session's room keeps closing: it is over")

// forget removes a finished room; called by the room itself.
func (h *Hub) forget(r *liveRoom) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rooms[r.id] == r {
		delete(h.rooms, r.id)
	}
}

// present is how many participants are connected to a session now.
func (h *Hub) present(id string) int {
	h.mu.Lock()
	r := h.rooms[id]
	h.mu.Unlock()
	if r == nil {
		return 0
	}
	return int(r.present.Load())
}

// closeRoom ends a session's room (if running) with bye reason, and waits
// until it has stopped or ctx is done.
func (h *Hub) closeRoom(ctx context.Context, id, reason string) {
	h.mu.Lock()
	r := h.rooms[id]
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

// dropEverywhere takes the participant idFor(session) out of every live
// room at once (a subscriber who deleted their data): bye removed, gone
// from the members, refused if the same link comes back to that room.
func (h *Hub) dropEverywhere(idFor func(sessionID string) string) {
	h.mu.Lock()
	rooms := make([]*liveRoom, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	for _, r := range rooms {
		id := idFor(r.id)
		r.do(func() { r.drop(id) })
	}
}

// shutdown says bye to everyone and waits for every room to stop.
func (h *Hub) shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	rooms := make([]*liveRoom, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	for _, r := range rooms {
		r.do(func() { r.finish(byeShutdown) })
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
