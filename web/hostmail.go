package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/store"
)

// upcoming lists the sessions that are neither over nor cancelled, soonest
// first: the sessions page, the feed, the metrics and the demo all see these.
func (s *Server) upcoming(ctx context.Context) ([]store.Session, error) {
	// A month back covers every session that can still be running.
	list, err := s.cfg.Store.ListSessions(ctx, s.now().Add(-31*24*time.Hour))
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, sess := range list {
		if !s.machineFor(sess).Ended() {
			out = append(out, sess)
		}
	}
	return out, nil
}

type subscribersResponse struct {
	Subscribers map[string]int `json:"subscribers"` // pending, confirmed, unsubscribed
	Mail        map[string]int `json:"mail"`        // queued, sent, failed, skipped
}

// subscribers answers the host: how many are on the list, and how the mail
// is doing.
func (s *Server) subscribers(w http.ResponseWriter, r *http.Request) {
	subs, err := s.cfg.Store.SubscriberCounts(r.Context())
	if err != nil {
		s.internalError(w, "count subscribers", err)
		return
	}
	mail, err := s.cfg.Store.MailCounts(r.Context(), "")
	if err != nil {
		s.internalError(w, "count mail", err)
		return
	}
	writeJSON(w, http.StatusOK, subscribersResponse{Subscribers: subs, Mail: mail})
}

// remind sends every confirmed subscriber a reminder of the session again.
func (s *Server) remind(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.loadSession(w, r)
	if !ok {
		return
	}
	if s.machineFor(sess).Ended() {
		writeError(w, http.StatusConflict, "ended", "this session has ended")
		return
	}
	if err := s.cfg.Store.QueueResend(r.Context(), sess.ID, s.now()); err != nil {
		s.internalError(w, "queue reminder", err)
		return
	}
	s.mailQueued()
	writeJSON(w, http.StatusAccepted, map[string]string{"message": "a reminder is on its way to every confirmed subscriber"})
}

type rescheduleRequest struct {
	Title    *string    `json:"title"`
	StartsAt *time.Time `json:"starts_at"`
}

// reschedule changes a session's title or start before it begins; every
// confirmed subscriber gets an update with the calendar entry moved.
func (s *Server) reschedule(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.loadSession(w, r)
	if !ok {
		return
	}
	var req rescheduleRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if s.machineFor(sess).State().Kind != session.Lobby {
		writeError(w, http.StatusConflict, "started", "a session that has begun cannot be moved")
		return
	}
	title, startsAt := sess.Title, sess.StartsAt
	if req.Title != nil {
		if title, ok = checkTitle(w, *req.Title); !ok {
			return
		}
	}
	if req.StartsAt != nil {
		startsAt = req.StartsAt.UTC().Truncate(time.Millisecond)
		now := s.now()
		if startsAt.Before(now) || startsAt.After(now.Add(maxAhead)) {
			writeError(w, http.StatusBadRequest, "invalid", "starts_at must be in the next year")
			return
		}
	}
	updated, err := s.cfg.Store.RescheduleSession(r.Context(), sess.ID, title, startsAt, s.notify())
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no such session")
		return
	}
	if err != nil {
		s.internalError(w, "reschedule", err)
		return
	}
	s.mailQueued()
	s.hub.Reload(updated)
	out, err := s.describe(updated, true)
	if err != nil {
		s.internalError(w, "reschedule", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
