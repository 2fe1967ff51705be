package signaling

import (
	"errors"
	"html/template"
	"net/http"
	"time"

	"github.com/worktogether/worktogether/links"
	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/token"
	"go.uber.org/zap"
)

// A subscriber's record: every session they joined with the link from their
// mails, what they committed to and what got done, behind a link in each
// announcement and reminder. GET /record?token=T is the page,
// GET /api/record?token=T the same as JSON.

type recordSession struct {
	ID         string          `json:"id"`
	Title      string          `json:"title"`
	StartsAt   time.Time       `json:"starts_at"`
	Ended      bool            `json:"ended"`
	Commitment *wireCommitment `json:"commitment"`
	Report     *wireReport     `json:"report"`
}

type recordTotals struct {
	Sessions int `json:"sessions"`
	taskTally
}

type recordResponse struct {
	Name     string          `json:"name"`
	Timezone string          `json:"timezone"`
	Totals   recordTotals    `json:"totals"`
	Sessions []recordSession `json:"sessions"`
}

// record gathers the record behind the request's link: a token error when
// the link is refused, store.ErrNotFound when its subscriber is gone.
func (s *Server) record(r *http.Request) (recordResponse, error) {
	claims, err := s.cfg.Signer.VerifySubscriber(token.PurposeRecord, r.URL.Query().Get("token"), s.now())
	if err != nil {
		return recordResponse{}, err
	}
	sub, err := s.cfg.Store.GetSubscriber(r.Context(), claims.ID)
	if err != nil {
		return recordResponse{}, err
	}
	entries, err := s.cfg.Store.SubscriberRecord(r.Context(), sub.ID, func(sessionID string) string {
		return links.SubscriberParticipant(sub, sessionID).ID
	})
	if err != nil {
		return recordResponse{}, err
	}
	out := recordResponse{Name: sub.Name, Timezone: sub.TZ, Sessions: []recordSession{}}
	for _, e := range entries {
		wp := toWireParticipant(e.Participant, false, false)
		rs := recordSession{
			ID: e.Session.ID, Title: e.Session.Title, StartsAt: e.Session.StartsAt,
			Ended: s.machineFor(e.Session).Ended(), Commitment: wp.Commitment, Report: wp.Report,
		}
		out.Totals.Sessions++
		out.Totals.add(e.Participant)
		out.Sessions = append(out.Sessions, rs)
	}
	return out, nil
}

func (s *Server) recordJSON(w http.ResponseWriter, r *http.Request) {
	rec, err := s.record(r)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no record behind this link")
	case isTokenError(err):
		writeError(w, http.StatusBadRequest, "invalid_token", "this link is not valid; use it exactly as it came in the mail")
	case err != nil:
		s.internalError(w, "record", err)
	default:
		writeJSON(w, http.StatusOK, rec)
	}
}

func isTokenError(err error) bool {
	return errors.Is(err, token.ErrMalformed) || errors.Is(err, token.ErrSignature) || errors.Is(err, token.ErrExpired)
}

// recordView is a record laid out for the page.
type recordView struct {
	recordResponse
	Rows  []recordRow
	Token string
}

type recordRow struct {
	Title, When string
	Ended       bool
	Tasks       []recordTask
	Committed   bool
	Reported    bool
	Note        string
}

type recordTask struct {
	Text string
	Done bool
}

var recordTmpl = template.Must(template.New("record").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex"><title>Your sessions · Worktogether</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body><header class="bar"><a class="brand" href="/">Worktogether</a></header>
<main class="card record"><h1>Your sessions, {{.Name}}</h1>
{{if .Rows}}<p class="sub">{{.Totals.Sessions}} {{if eq .Totals.Sessions 1}}session{{else}}sessions{{end}} · {{.Totals.TasksDone}} of {{.Totals.Tasks}} {{if eq .Totals.Tasks 1}}task{{else}}tasks{{end}} done</p>
<div class="history">{{range .Rows}}<section><h2>{{.Title}}</h2><p class="sub">{{.When}}{{if not .Ended}} · still running{{end}}</p>
{{if .Committed}}<ul class="look-back">{{$reported := .Reported}}{{range .Tasks}}<li{{if .Done}} class="done"{{else if $reported}} class="not-done"{{end}}>{{if .Done}}✓{{else if $reported}}○{{else}}·{{end}} {{.Text}}</li>{{end}}</ul>
{{if .Note}}<blockquote>{{.Note}}</blockquote>{{end}}
{{if and .Ended (not .Reported)}}<p class="sub">No closing report.</p>{{end}}
{{else}}<p class="sub">No commitment recorded.</p>{{end}}</section>{{end}}</div>
{{else}}<p>Once you join a session with the link from one of our mails, what you set out to do there and what got done will be kept here.</p>{{end}}
<p><a href="/">Upcoming sessions</a> · <a href="/forget?token={{.Token}}">Delete my subscription and this record</a></p></main></body></html>
`))

func (s *Server) recordPage(w http.ResponseWriter, r *http.Request) {
	rec, err := s.record(r)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writePage(w, http.StatusNotFound, page{Title: "No record here", Text: "There is no record behind this link any more."})
		return
	case isTokenError(err):
		writePage(w, http.StatusBadRequest, page{Title: "This link is not valid", Text: "Please use the link exactly as it came in the mail."})
		return
	case err != nil:
		s.log.Error("record", zap.Error(err))
		writePage(w, http.StatusInternalServerError, page{Title: "Something went wrong", Text: "Please try again in a minute."})
		return
	}
	loc, err := time.LoadLocation(rec.Timezone)
	if err != nil {
		loc = time.UTC
	}
	view := recordView{recordResponse: rec, Token: r.URL.Query().Get("token")}
	for _, e := range rec.Sessions {
		row := recordRow{Title: e.Title, When: e.StartsAt.In(loc).Format("Mon 2 Jan 2006, 15:04 MST"), Ended: e.Ended}
		if e.Commitment != nil {
			row.Committed = true
			for i, t := range e.Commitment.Tasks {
				row.Tasks = append(row.Tasks, recordTask{Text: t, Done: e.Report != nil && i < len(e.Report.Done) && e.Report.Done[i]})
			}
		}
		if e.Report != nil {
			row.Reported, row.Note = true, e.Report.Note
		}
		view.Rows = append(view.Rows, row)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	_ = recordTmpl.Execute(w, view)
}

// forgetPage (GET /forget?token=T, T a record link's token) asks before
// deleting: opening a link must change nothing.
func (s *Server) forgetPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.subscriberLink(w, r, token.PurposeRecord); !ok {
		return
	}
	writePage(w, http.StatusOK, page{Title: "Delete everything about you?",
		Text: "Your subscription, your address and, in every session you joined from our mails, your name, " +
			"what you set out to do and what got done are deleted for good. Hosts will no longer see them either.",
		Action: thisURL(r), Button: "Delete everything"})
}

// forget (POST /forget?token=T) deletes the subscriber and what is kept of
// them; DELETE /api/record?token=T does the same for API clients.
func (s *Server) forget(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.subscriberLink(w, r, token.PurposeRecord)
	if !ok {
		return
	}
	switch err := s.forgetSubscriber(r, claims.ID); {
	case errors.Is(err, store.ErrNotFound):
		writePage(w, http.StatusNotFound, page{Title: "Nothing to delete", Text: "There is nothing kept about you any more."})
	case err != nil:
		s.log.Error("forget subscriber", zap.Error(err))
		writePage(w, http.StatusInternalServerError, page{Title: "Something went wrong", Text: "Please try again in a minute."})
	default:
		writePage(w, http.StatusOK, page{Title: "Everything about you is deleted", Text: "No more mails will come, and nothing of yours is kept. You are welcome back any time."})
	}
}

func (s *Server) forgetJSON(w http.ResponseWriter, r *http.Request) {
	claims, err := s.cfg.Signer.VerifySubscriber(token.PurposeRecord, r.URL.Query().Get("token"), s.now())
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_token", "this link is not valid; use it exactly as it came in the mail")
		return
	}
	switch err := s.forgetSubscriber(r, claims.ID); {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no record behind this link")
	case err != nil:
		s.internalError(w, "forget subscriber", err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) forgetSubscriber(r *http.Request, id string) error {
	sub := store.Subscriber{ID: id}
	idFor := func(sessionID string) string { return links.SubscriberParticipant(sub, sessionID).ID }
	// Out of every live room first, so no commitment or report of theirs
	// is stored after the deletion; again after it, for a room that came
	// up meanwhile (from then on their links are refused).
	s.hub.dropEverywhere(idFor)
	err := s.cfg.Store.ForgetSubscriber(r.Context(), id, idFor)
	s.hub.dropEverywhere(idFor)
	if err == nil {
		s.log.Info("subscriber forgotten", zap.String("subscriber", id))
	}
	return err
}
