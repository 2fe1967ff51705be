package web

import (
	"context"
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/store"
)

// An open link is one link for a whole session that a host can share in a
// chat or a newsletter. It admits nobody by itself: the room page asks for a
// name and trades it (POST /api/guest) for a personal join link, so each
// browser gets its own identity and a reload keeps it. Nothing is stored
// until the guest actually joins.

type guestRequest struct {
	Token string `json:"token"`
	Name  string `json:"name"`
}

// createGuest trades an open link and a name for a personal join link.
func (s *Server) createGuest(w http.ResponseWriter, r *http.Request) {
	var req guestRequest
	if !decodeBody(w, r, &req) {
		return
	}
	sess, err := s.verifyOpen(r, req.Token)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	var ok bool
	if req.Name, ok = checkName(w, req.Name); !ok {
		return
	}
	p := store.Participant{ID: uuid.NewString(), SessionID: sess.ID, Name: req.Name, Role: signaling.RoleParticipant}
	if !s.guestsPerSession.allow(sess.ID+" "+limitKey(s.clientIP(r)), s.now()) {
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many guest links from here for this session")
		return
	}
	link, tok, err := s.links.GuestJoin(sess, p)
	if err != nil {
		s.internalError(w, "create guest", err)
		return
	}
	writeJSON(w, http.StatusCreated, inviteResponse{URL: link, Token: tok})
}

// demoTitle names the session DemoLink schedules.
const demoTitle = "Demo Worktogether"

// DemoLink returns the open link of a demo session whose room is open now,
// scheduling one (lobby open at once, start in 15 minutes, default plan) when
// there is none.
func (s *Server) DemoLink(ctx context.Context) (string, error) {
	now := s.now()
	list, err := s.upcoming(ctx)
	if err != nil {
		return "", err
	}
	for _, sess := range list {
		if sess.Title == demoTitle && !now.Before(s.machineFor(sess).State().StartedAt) {
			return s.links.Open(sess)
		}
	}
	const lead = 15 * time.Minute
	sess := store.Session{
		ID: uuid.NewString(), Title: demoTitle, StartsAt: now.Add(lead).Truncate(time.Second),
		Plan: session.DefaultPlan(), Capacity: defaultCapacity, LobbySeconds: int(lead / time.Second),
		HostParticipant: uuid.NewString(), CreatedAt: now,
	}
	host := store.Participant{ID: sess.HostParticipant, SessionID: sess.ID, Name: "Host", Role: signaling.RoleHost}
	// The demo is no session to announce to subscribers.
	if err := s.cfg.Store.CreateSession(ctx, sess, host, nil); err != nil {
		return "", err
	}
	return s.links.Open(sess)
}
