package web

import (
	"errors"
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"time"

	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/token"
	"go.uber.org/zap"
)

// A subscriber's record: every session they joined with the link from their
// mails, what they committed to and what got done, behind a link in each
// announcement and reminder. GET /record?token=T is the page,
// GET /api/record?token=T the same as JSON.

type recordSession struct {
	ID         string                    `json:"id"`
	Title      string                    `json:"title"`
	StartsAt   time.Time                 `json:"starts_at"`
	Ended      bool                      `json:"ended"`
	Commitment *signaling.WireCommitment `json:"commitment"`
	Report     *signaling.WireReport     `json:"report"`
}

type recordTotals struct {
	Sessions int `json:"sessions"`
	taskTally
}

type recordResponse struct {
	Name     string          `json:"name"`
	Lang     string          `json:"lang"`
	Timezone string          `json:"timezone"`
	Totals   recordTotals    `json:"totals"`
	Sessions []recordSession `json:"sessions"`
	Series   []recordSeries  `json:"series"` // the series, each with whether they hear of it
}

// record gathers the record behind the request's link: a token error when
// the link is refused, store.ErrNotFound when its subscriber is gone.
func (s *Server) record(r *http.Request) (recordResponse, error) {
	claims, err := s.subscriberToken(r, token.PurposeRecord)
	if err != nil {
		return recordResponse{}, err
	}
	sub, err := s.cfg.Store.GetSubscriber(r.Context(), claims.ID)
	if err != nil {
		return recordResponse{}, err
	}
	entries, err := s.cfg.Store.SubscriberRecord(r.Context(), sub.ID)
	if err != nil {
		return recordResponse{}, err
	}
	out := recordResponse{Name: sub.Name, Lang: sub.Lang, Timezone: sub.TZ, Sessions: []recordSession{}}
	if out.Series, err = s.followedSeries(r, sub.ID); err != nil {
		return recordResponse{}, err
	}
	for _, e := range entries {
		wp := signaling.ToWireParticipant(e.Participant, false, false)
		rs := recordSession{
			ID: e.Session.ID, Title: e.Session.Title, StartsAt: e.Session.StartsAt,
			Ended: e.Session.Over(s.now()), Commitment: wp.Commitment, Report: wp.Report,
		}
		out.Totals.Sessions++
		out.Totals.add(e.Participant)
		out.Sessions = append(out.Sessions, rs)
	}
	return out, nil
}

func (s *Server) recordJSON(w http.ResponseWriter, r *http.Request) {
	rec, err := s.record(r)
	lang := s.text.Lang(r, rec.Lang)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", s.text.T(lang, "api.no_record"))
	case isTokenError(err):
		writeError(w, http.StatusBadRequest, "invalid_token", s.text.T(lang, "api.invalid_token"))
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
	// In the page's language:
	Lang, Title, Heading, Totals, Running, NoReport, NoCommitment string
	Empty, Upcoming, Forget                                       string
	SeriesHeading, SeriesText, Following, NotFollowing            string
	Stop, Follow                                                  string
	Switch                                                        langSwitch
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

func (s *Server) recordPage(w http.ResponseWriter, r *http.Request) {
	rec, err := s.record(r)
	lang := s.pageLang(w, r, rec.Lang)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.writePage(w, r, lang, http.StatusNotFound, page{Title: "record.none.title", Text: "record.none.text"})
		return
	case isTokenError(err):
		s.writePage(w, r, lang, http.StatusBadRequest, page{Title: "link.invalid.title", Text: "link.invalid.text"})
		return
	case err != nil:
		s.log.Error("record", zap.Error(err))
		s.writePage(w, r, lang, http.StatusInternalServerError, page{Title: "error.title", Text: "error.text"})
		return
	}
	t := func(key string, args ...any) string { return s.text.T(lang, key, args...) }
	view := recordView{recordResponse: rec, Token: r.URL.Query().Get("token"), Lang: lang,
		Title: t("record.title"), Heading: t("record.heading", "name", rec.Name),
		Totals: s.text.Plural(lang, "record.sessions", rec.Totals.Sessions) + " · " +
			s.text.Plural(lang, "record.tasks", rec.Totals.Tasks, "done", rec.Totals.TasksDone),
		Running: t("record.running"), NoReport: t("record.no_report"), NoCommitment: t("record.no_commitment"),
		Empty: t("record.empty"), Upcoming: t("site.upcoming"), Forget: t("record.forget"), Switch: s.switchFor(r, lang),
		SeriesHeading: t("record.series.heading"), SeriesText: t("record.series.text"), Following: t("record.series.following"),
		NotFollowing: t("record.series.not_following"), Stop: t("record.series.stop"), Follow: t("record.series.follow")}
	for _, e := range rec.Sessions {
		row := recordRow{Title: e.Title, When: s.text.LongTime(lang, e.StartsAt, rec.Timezone), Ended: e.Ended}
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
	w.Header().Set("Content-Language", lang)
	_ = recordTmpl.ExecuteTemplate(w, "record.html", view)
}

// forgetPage (GET /forget?token=T, T a record link's token) asks before
// deleting: opening a link must change nothing.
func (s *Server) forgetPage(w http.ResponseWriter, r *http.Request) {
	_, lang, ok := s.subscriberLink(w, r, token.PurposeRecord)
	if !ok {
		return
	}
	s.writePage(w, r, lang, http.StatusOK, page{Title: "forget.title", Text: "forget.text", Action: thisURL(r), Button: "forget.button"})
}

// forget (POST /forget?token=T) deletes the subscriber and what is kept of
// them; DELETE /api/record?token=T does the same for API clients.
func (s *Server) forget(w http.ResponseWriter, r *http.Request) {
	claims, lang, ok := s.subscriberLink(w, r, token.PurposeRecord)
	if !ok {
		return
	}
	switch err := s.forgetSubscriber(r, claims.ID); {
	case errors.Is(err, store.ErrNotFound):
		s.writePage(w, r, lang, http.StatusNotFound, page{Title: "forget.none.title", Text: "forget.none.text"})
	case err != nil:
		s.log.Error("forget subscriber", zap.Error(err))
		s.writePage(w, r, lang, http.StatusInternalServerError, page{Title: "error.title", Text: "error.text"})
	default:
		s.writePage(w, r, lang, http.StatusOK, page{Title: "forget.done.title", Text: "forget.done.text"})
	}
}

func (s *Server) forgetJSON(w http.ResponseWriter, r *http.Request) {
	lang := s.text.Lang(r, s.subscriberLang(r, token.PurposeRecord))
	claims, err := s.subscriberToken(r, token.PurposeRecord)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_token", s.text.T(lang, "api.invalid_token"))
		return
	}
	switch err := s.forgetSubscriber(r, claims.ID); {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", s.text.T(lang, "api.no_record"))
	case err != nil:
		s.internalError(w, "forget subscriber", err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) forgetSubscriber(r *http.Request, id string) error {
	idFor := func(sessionID string) string { return store.SubscriberParticipantID(id, sessionID) }
	// Out of every live room first, so no commitment or report of theirs
	// is stored after the deletion; again after it, for a room that came
	// up meanwhile (from then on their links are refused).
	s.hub.DropEverywhere(idFor)
	err := s.cfg.Store.ForgetSubscriber(r.Context(), id)
	s.hub.DropEverywhere(idFor)
	if err == nil {
		s.log.Info("subscriber forgotten", zap.String("subscriber", id))
	}
	return err
}
