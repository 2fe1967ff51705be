package web

import (
	"encoding/csv"
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"strconv"
	"strings"

	"github.com/worktogether/worktogether/store"
)

// summaryParticipant is one person's line in a session summary.
type summaryParticipant struct {
	ID         string                    `json:"id"`
	Name       string                    `json:"name"`
	Role       string                    `json:"role"`
	Commitment *signaling.WireCommitment `json:"commitment"`
	Report     *signaling.WireReport     `json:"report"`
}

type summaryResponse struct {
	Session      signaling.WireSession `json:"session"`
	Participants []summaryParticipant  `json:"participants"`
	Phases       []store.PhaseChange   `json:"phases"`
}

// summary answers GET /api/sessions/{id}/summary (host): who came, what each
// committed to and what got done, and how the phases went; as CSV (one row
// per task) with ?format=csv.
func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.loadSession(w, r)
	if !ok {
		return
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "csv" {
		writeError(w, http.StatusBadRequest, "invalid", `format must be "json" or "csv"`)
		return
	}
	people, err := s.cfg.Store.JoinedParticipants(r.Context(), sess.ID)
	if err != nil {
		s.internalError(w, "summary", err)
		return
	}
	if format == "csv" {
		writeSummaryCSV(w, sess, people)
		return
	}
	phases, err := s.cfg.Store.PhaseLog(r.Context(), sess.ID)
	if err != nil {
		s.internalError(w, "summary", err)
		return
	}
	desc, err := s.describe(sess, true)
	if err != nil {
		s.internalError(w, "summary", err)
		return
	}
	out := summaryResponse{Session: desc, Participants: []summaryParticipant{}, Phases: phases}
	if out.Phases == nil {
		out.Phases = []store.PhaseChange{}
	}
	for _, p := range people {
		wp := signaling.ToWireParticipant(p, false, false)
		out.Participants = append(out.Participants, summaryParticipant{
			ID: p.ID, Name: p.Name, Role: p.Role, Commitment: wp.Commitment, Report: wp.Report,
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// writeSummaryCSV writes one row per committed task; people who committed to
// nothing get one row with an empty task.
func writeSummaryCSV(w http.ResponseWriter, sess store.Session, people []store.Participant) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="worktogether-`+sess.ID+`.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"participant", "role", "task_number", "task", "done", "note"})
	for _, p := range people {
		note := ""
		if p.Report != nil {
			note = p.Report.Note
		}
		name, note := csvCell(p.Name), csvCell(note)
		if len(p.Commitment) == 0 {
			cw.Write([]string{name, p.Role, "", "", "", note})
			continue
		}
		for i, task := range p.Commitment {
			done := ""
			if p.Report != nil && i < len(p.Report.Done) {
				done = strconv.FormatBool(p.Report.Done[i])
			}
			cw.Write([]string{name, p.Role, strconv.Itoa(i + 1), csvCell(task), done, note})
		}
	}
	cw.Flush()
}

// csvCell keeps a cell of people's text from being read as a formula by a
// spreadsheet: one that starts with =, +, -, @, a tab or a CR gets a single
// quote in front (OWASP's advice). encoding/csv does the quoting.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
