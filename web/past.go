package web

import (
	"context"
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"strconv"

	"github.com/worktogether/worktogether/store"
)

// Past sessions for the host: GET /api/sessions?state=ended lists the
// sessions that are over, latest first, each with how many came and how many
// of their tasks got done; the summary of one is GET
// /api/sessions/{id}/summary.

const (
	defaultPast = 20
	maxPast     = 100
)

// taskTally counts the tasks people committed to and how many got done.
type taskTally struct {
	Tasks     int `json:"tasks"`
	TasksDone int `json:"tasks_done"`
}

func (t *taskTally) add(p store.Participant) {
	tasks, done := p.Tally()
	t.Tasks += tasks
	t.TasksDone += done
}

// outcome is how a session went, in numbers.
type outcome struct {
	People int `json:"people"`
	taskTally
}

type pastSession struct {
	signaling.WireSession
	Outcome outcome `json:"outcome"`
}

// sessionsByState serves GET /api/sessions: upcoming sessions for anyone
// (the default, state=upcoming), or, for the host, those that are over.
func (s *Server) sessionsByState(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Query().Get("state") {
	case "", "upcoming":
		s.listSessions(w, r)
	case "ended":
		s.requireHost(s.pastSessions)(w, r)
	default:
		writeError(w, http.StatusBadRequest, "invalid", `state must be "upcoming" or "ended"`)
	}
}

func (s *Server) pastSessions(w http.ResponseWriter, r *http.Request) {
	limit := defaultPast
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPast {
			writeError(w, http.StatusBadRequest, "invalid", "limit must be 1 to "+strconv.Itoa(maxPast))
			return
		}
		limit = n
	}
	// Sessions still running started in the past too: ask for a few more
	// and leave them out.
	list, err := s.cfg.Store.PastSessions(r.Context(), s.now(), limit+10)
	if err != nil {
		s.internalError(w, "list past sessions", err)
		return
	}
	// Three queries in all, however many sessions: the list, their
	// participants, their mails.
	ended := make([]store.Session, 0, limit)
	ids := make([]string, 0, limit)
	for _, sess := range list {
		if len(ended) == limit {
			break
		}
		if sess.Over(s.now()) {
			ended = append(ended, sess)
			ids = append(ids, sess.ID)
		}
	}
	outcomes, err := s.cfg.Store.Outcomes(r.Context(), ids)
	if err != nil {
		s.internalError(w, "list past sessions", err)
		return
	}
	mails, err := s.mailCountsOf(r.Context(), ended)
	if err != nil {
		s.internalError(w, "list past sessions", err)
		return
	}
	out := make([]pastSession, 0, len(ended))
	for _, sess := range ended {
		desc, err := s.describeWith(sess, true, mails[sess.ID])
		if err != nil {
			s.internalError(w, "list past sessions", err)
			return
		}
		o := outcomes[sess.ID]
		out = append(out, pastSession{WireSession: desc, Outcome: outcome{People: o.People,
			taskTally: taskTally{Tasks: o.Tasks, TasksDone: o.TasksDone}}})
	}
	writeJSON(w, http.StatusOK, out)
}

// mailCountsOf counts the mails of every session in list, in one query.
func (s *Server) mailCountsOf(ctx context.Context, list []store.Session) (map[string]map[string]int, error) {
	ids := make([]string, len(list))
	for i, sess := range list {
		ids[i] = sess.ID
	}
	return s.cfg.Store.MailCountsOf(ctx, ids)
}
