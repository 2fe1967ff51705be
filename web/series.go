package web

import (
	"errors"
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/store"
	"go.uber.org/zap"
)

// seriesAhead is how far ahead a series' occurrences exist as sessions (and
// so are announced).
const seriesAhead = 8 * 7 * 24 * time.Hour

// maxRRule bounds a series' rule, in characters.
const maxRRule = 200

type seriesRequest struct {
	Title        string       `json:"title"`
	First        string       `json:"first"`    // wall clock of the first occurrence, 2026-12-01T09:00
	Timezone     string       `json:"timezone"` // IANA zone of that wall clock
	RRule        string       `json:"rrule"`    // e.g. FREQ=WEEKLY;BYDAY=TU
	Plan         session.Plan `json:"plan"`
	Capacity     *int         `json:"capacity"`
	LobbySeconds *int         `json:"lobby_seconds"`
	WorkVideo    string       `json:"work_video"`
	Private      bool         `json:"private"`
}

type wireSeries struct {
	ID       string                  `json:"id"`
	Title    string                  `json:"title"`
	RRule    string                  `json:"rrule"`
	First    string                  `json:"first"`
	Timezone string                  `json:"timezone"`
	Private  bool                    `json:"private"`
	Sessions []signaling.WireSession `json:"sessions"` // the occurrences ahead
}

// occurrences makes the sessions of ser that start in [from, to).
func occurrences(ser store.Series, from, to, now time.Time) ([]store.Occurrence, error) {
	starts, err := session.Occurrences(ser.RRule, ser.First, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]store.Occurrence, 0, len(starts))
	for _, start := range starts {
		sess := store.Session{
			ID: uuid.NewString(), Title: ser.Title, StartsAt: start.UTC(), Plan: ser.Plan, Capacity: ser.Capacity,
			LobbySeconds: ser.LobbySeconds, HostParticipant: uuid.NewString(), CreatedAt: now, SeriesID: ser.ID,
			WorkVideo: ser.WorkVideo, Private: ser.Private,
		}
		host := store.Participant{ID: sess.HostParticipant, SessionID: sess.ID, Name: "Host", Role: signaling.RoleHost}
		out = append(out, store.Occurrence{Session: sess, Host: host})
	}
	return out, nil
}

func (s *Server) createSeries(w http.ResponseWriter, r *http.Request) {
	var req seriesRequest
	if !decodeBody(w, r, &req) {
		return
	}
	var ok bool
	if req.Title, ok = checkTitle(w, req.Title); !ok {
		return
	}
	if req.RRule, ok = checkLine(w, "rrule", req.RRule, maxRRule); !ok {
		return
	}
	loc, err := time.LoadLocation(req.Timezone)
	if err != nil || req.Timezone == "" {
		writeError(w, http.StatusBadRequest, "invalid", "timezone must be an IANA time zone such as Europe/Berlin")
		return
	}
	first, err := time.ParseInLocation(store.LocalLayout, req.First, loc)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", "first must be a local date and time like 2026-12-01T09:00")
		return
	}
	sh, msg := sessionShape(req.Plan, req.Capacity, req.LobbySeconds)
	if msg != "" {
		writeError(w, http.StatusBadRequest, "invalid", msg)
		return
	}
	if req.WorkVideo, ok = checkWorkVideo(w, req.WorkVideo); !ok {
		return
	}
	now := s.now()
	ser := store.Series{
		ID: uuid.NewString(), Title: req.Title, RRule: req.RRule, First: first, TZ: req.Timezone,
		Plan: sh.plan, Capacity: sh.capacity, LobbySeconds: sh.lobby, CreatedAt: now, Horizon: now.Add(seriesAhead),
		WorkVideo: req.WorkVideo, Private: req.Private,
	}
	occ, err := occurrences(ser, now, ser.Horizon, now)
	if errors.Is(err, session.ErrInvalid) {
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	if err != nil {
		s.internalError(w, "create series", err)
		return
	}
	if len(occ) == 0 {
		writeError(w, http.StatusBadRequest, "invalid", "the rule gives no occurrence in the coming weeks")
		return
	}
	if err := s.cfg.Store.CreateSeries(r.Context(), ser, occ, s.notify()); err != nil {
		s.internalError(w, "create series", err)
		return
	}
	s.mailQueued()
	s.log.Info("series created", zap.String("series", ser.ID), zap.Int("occurrences", len(occ)))
	out := wireSeries{ID: ser.ID, Title: ser.Title, RRule: ser.RRule, First: req.First, Timezone: ser.TZ, Private: ser.Private}
	for _, o := range occ {
		d, err := s.describe(o.Session, true)
		if err != nil {
			s.internalError(w, "create series", err)
			return
		}
		out.Sessions = append(out.Sessions, d)
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listSeries(w http.ResponseWriter, r *http.Request) {
	list, err := s.cfg.Store.ListSeries(r.Context())
	if err != nil {
		s.internalError(w, "list series", err)
		return
	}
	out := make([]wireSeries, 0, len(list))
	for _, ser := range list {
		out = append(out, wireSeries{ID: ser.ID, Title: ser.Title, RRule: ser.RRule, First: ser.First.Format(store.LocalLayout),
			Timezone: ser.TZ, Private: ser.Private, Sessions: []signaling.WireSession{}})
	}
	writeJSON(w, http.StatusOK, out)
}

// cancelSeries ends a series and cancels its sessions still ahead, each
// sending its cancellation.
func (s *Server) cancelSeries(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	now := s.now()
	if err := s.cfg.Store.CancelSeries(r.Context(), id, now); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusNotFound, "not_found", "no such series")
			return
		}
		s.internalError(w, "cancel series", err)
		return
	}
	ahead, err := s.cfg.Store.SeriesSessions(r.Context(), id, now)
	if err != nil {
		s.internalError(w, "cancel series", err)
		return
	}
	for _, sess := range ahead {
		if err := s.cfg.Store.CancelSession(r.Context(), sess.ID, now, s.notify()); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.internalError(w, "cancel series", err)
			return
		}
		s.hub.CloseRoom(r.Context(), sess.ID, signaling.ByeCancelled)
	}
	s.mailQueued()
	w.WriteHeader(http.StatusNoContent)
}
