package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/signaling"
	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/text"
	"go.uber.org/zap"
)

// The host's sessions: create, list, read, cancel, invite.

type createSessionRequest struct {
	Title        string       `json:"title"`
	StartsAt     *time.Time   `json:"starts_at"`
	Plan         session.Plan `json:"plan"`
	Capacity     *int         `json:"capacity"`
	LobbySeconds *int         `json:"lobby_seconds"`
	WorkVideo    string       `json:"work_video"`
	Private      bool         `json:"private"` // invite links only: never announced nor listed
}

// checkWorkVideo answers 400 unless v is a work-phase video mode or empty
// (the default, presence).
func checkWorkVideo(w http.ResponseWriter, v string) (string, bool) {
	switch v {
	case "":
		return store.WorkVideoPresence, true
	case store.WorkVideoPresence, store.WorkVideoFull:
		return v, true
	}
	writeError(w, http.StatusBadRequest, "invalid", `work_video must be "presence" or "full"`)
	return "", false
}

// checkLine checks a one-line text field (text.Line), answering 400 invalid
// with what is wrong.
func checkLine(w http.ResponseWriter, field, s string, max int) (string, bool) {
	s, err := text.Line(field, s, max)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
		return "", false
	}
	return s, true
}

// checkTitle checks a session title.
func checkTitle(w http.ResponseWriter, title string) (string, bool) {
	return checkLine(w, "title", title, maxTitle)
}

// checkName checks the name of a person.
func checkName(w http.ResponseWriter, name string) (string, bool) {
	return checkLine(w, "name", name, maxName)
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	var req createSessionRequest
	if !decodeBody(w, r, &req) {
		return
	}
	now := s.now()
	var ok bool
	if req.Title, ok = checkTitle(w, req.Title); !ok {
		return
	}
	if req.StartsAt == nil {
		writeError(w, http.StatusBadRequest, "invalid", "starts_at is required (RFC 3339)")
		return
	}
	if req.WorkVideo, ok = checkWorkVideo(w, req.WorkVideo); !ok {
		return
	}
	shape, msg := sessionShape(req.Plan, req.Capacity, req.LobbySeconds)
	if msg != "" {
		writeError(w, http.StatusBadRequest, "invalid", msg)
		return
	}
	req.Plan = shape.plan
	startsAt := req.StartsAt.UTC().Truncate(time.Millisecond)
	if !startsAt.Add(req.Plan.Duration()).After(now) {
		writeError(w, http.StatusBadRequest, "invalid", "starts_at is so far in the past that the session would be over")
		return
	}
	if startsAt.After(now.Add(maxAhead)) {
		writeError(w, http.StatusBadRequest, "invalid", "starts_at is more than a year ahead")
		return
	}
	sess := store.Session{
		ID: uuid.NewString(), Title: req.Title, StartsAt: startsAt, Plan: req.Plan,
		Capacity: shape.capacity, LobbySeconds: shape.lobby, HostParticipant: uuid.NewString(), CreatedAt: now,
		WorkVideo: req.WorkVideo, Private: req.Private,
	}
	host := store.Participant{ID: sess.HostParticipant, SessionID: sess.ID, Name: "Host", Role: signaling.RoleHost}
	if err := s.cfg.Store.CreateSession(r.Context(), sess, host, s.notify()); err != nil {
		s.internalError(w, "create session", err)
		return
	}
	s.mailQueued()
	s.log.Info("session created", zap.String("session", sess.ID), zap.Time("starts_at", startsAt))
	out, err := s.describe(sess, true)
	if err != nil {
		s.internalError(w, "create session", err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

// shape is what every session has besides its title and time.
type shape struct {
	plan     session.Plan
	capacity int
	lobby    int
}

// sessionShape applies the defaults and bounds of plan, capacity and lobby;
// a non-empty message says what is wrong.
func sessionShape(plan session.Plan, capacity, lobby *int) (shape, string) {
	out := shape{plan: plan, capacity: defaultCapacity, lobby: defaultLobby}
	if out.plan == nil {
		out.plan = session.DefaultPlan()
	}
	if err := out.plan.Validate(); err != nil {
		return shape{}, err.Error()
	}
	if capacity != nil {
		out.capacity = *capacity
	}
	if out.capacity < 1 || out.capacity > maxCapacity {
		return shape{}, fmt.Sprintf("capacity must be 1 to %d", maxCapacity)
	}
	if lobby != nil {
		out.lobby = *lobby
	}
	if out.lobby < 0 || out.lobby > maxLobby {
		return shape{}, fmt.Sprintf("lobby_seconds must be 0 to %d", maxLobby)
	}
	return out, ""
}

// machineFor builds the session's state machine where the clock says it is.
func (s *Server) machineFor(sess store.Session) *session.Machine {
	return sess.Machine(s.now())
}

// describe renders a session for the API; for the host it adds host_url.
func (s *Server) describe(sess store.Session, forHost bool) (signaling.WireSession, error) {
	return s.describeWith(sess, forHost, nil)
}

// describeWith is describe with the session's mail counts already read
// (nil: read them here).
func (s *Server) describeWith(sess store.Session, forHost bool, mail map[string]int) (signaling.WireSession, error) {
	out := signaling.ToWireSession(sess)
	m := s.machineFor(sess)
	ph := signaling.ToWirePhase(m.State())
	out.Phase = &ph
	out.Participants = s.hub.Present(sess.ID)
	if forHost {
		link, _, err := s.links.Join(sess, store.Participant{ID: sess.HostParticipant, Name: "Host", Role: signaling.RoleHost})
		if err != nil {
			return signaling.WireSession{}, err
		}
		out.HostURL = link
		if out.OpenURL, err = s.links.Open(sess); err != nil {
			return signaling.WireSession{}, err
		}
		out.Mail = mail
		if out.Mail == nil {
			if out.Mail, err = s.cfg.Store.MailCounts(context.Background(), sess.ID); err != nil {
				return signaling.WireSession{}, err
			}
		}
	}
	return out, nil
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	list, err := s.upcoming(r.Context())
	if err != nil {
		s.internalError(w, "list sessions", err)
		return
	}
	host := s.isHost(r)
	var mails map[string]map[string]int // the host's mail counts, in one query
	if host {
		if mails, err = s.mailCountsOf(r.Context(), list); err != nil {
			s.internalError(w, "list sessions", err)
			return
		}
	}
	out := make([]signaling.WireSession, 0, len(list))
	for _, sess := range list {
		if sess.Private && !host {
			continue
		}
		d, err := s.describeWith(sess, host, mails[sess.ID])
		if err != nil {
			s.internalError(w, "list sessions", err)
			return
		}
		out = append(out, d)
	}
	writeJSON(w, http.StatusOK, out)
}

// loadSession finds a live (not cancelled) session by the id in the path, or
// answers 404.
func (s *Server) loadSession(w http.ResponseWriter, r *http.Request) (store.Session, bool) {
	id := r.PathValue("id")
	if _, err := uuid.Parse(id); err != nil {
		writeError(w, http.StatusNotFound, "not_found", "no such session")
		return store.Session{}, false
	}
	sess, err := s.cfg.Store.GetSession(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no such session")
		return store.Session{}, false
	}
	if err != nil {
		s.internalError(w, "get session", err)
		return store.Session{}, false
	}
	if sess.Cancelled {
		writeError(w, http.StatusNotFound, "not_found", "this session was cancelled")
		return store.Session{}, false
	}
	return sess, true
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.loadSession(w, r)
	if !ok {
		return
	}
	out, err := s.describe(sess, s.isHost(r))
	if err != nil {
		s.internalError(w, "get session", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) cancelSession(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.loadSession(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Store.CancelSession(r.Context(), sess.ID, s.now(), s.notify()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusNotFound, "not_found", "no such session")
			return
		}
		s.internalError(w, "cancel session", err)
		return
	}
	s.log.Info("session cancelled", zap.String("session", sess.ID))
	s.mailQueued()
	s.hub.CloseRoom(r.Context(), sess.ID, signaling.ByeCancelled)
	w.WriteHeader(http.StatusNoContent)
}

type inviteRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

type inviteResponse struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

func (s *Server) createInvite(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.loadSession(w, r)
	if !ok {
		return
	}
	var req inviteRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Name, ok = checkName(w, req.Name); !ok {
		return
	}
	switch req.Role {
	case "":
		req.Role = signaling.RoleParticipant
	case signaling.RoleParticipant, signaling.RoleHost:
	default:
		writeError(w, http.StatusBadRequest, "invalid", `role must be "participant" or "host"`)
		return
	}
	m := s.machineFor(sess)
	if m.Ended() {
		writeError(w, http.StatusConflict, "ended", "this session has ended")
		return
	}
	p := store.Participant{ID: uuid.NewString(), SessionID: sess.ID, Name: req.Name, Role: req.Role}
	if err := s.cfg.Store.AddParticipant(r.Context(), p, s.now()); err != nil {
		s.internalError(w, "create invite", err)
		return
	}
	link, tok, err := s.links.Join(sess, p)
	if err != nil {
		s.internalError(w, "create invite", err)
		return
	}
	writeJSON(w, http.StatusCreated, inviteResponse{URL: link, Token: tok})
}
