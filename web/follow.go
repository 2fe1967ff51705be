package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/token"
	"go.uber.org/zap"
)

// Which series a subscriber follows: every series until they say otherwise.
// Their record (page and JSON) lists the series with the choice;
// POST /record/series?token=T (the page's buttons, a form) and
// POST /api/record/series?token=T (JSON) change it. T is a record link's
// token, the one every announcement carries.

type recordSeries struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Following bool   `json:"following"`
}

type followRequest struct {
	SeriesID string `json:"series_id"`
	Follow   bool   `json:"follow"`
}

// followedSeries lists the series as the subscriber sees them.
func (s *Server) followedSeries(r *http.Request, subscriberID string) ([]recordSeries, error) {
	list, err := s.cfg.Store.FollowedSeries(r.Context(), subscriberID)
	if err != nil {
		return nil, err
	}
	out := make([]recordSeries, 0, len(list))
	for _, f := range list {
		out = append(out, recordSeries{ID: f.Series.ID, Title: f.Series.Title, Following: f.Following})
	}
	return out, nil
}

// setFollowing changes the choice and wakes the mail (following again may
// queue an announcement due now).
func (s *Server) setFollowing(r *http.Request, subscriberID, seriesID string, follow bool) error {
	if err := s.cfg.Store.SetFollowing(r.Context(), subscriberID, seriesID, follow, *s.notify()); err != nil {
		return err
	}
	s.log.Info("series choice", zap.String("series", seriesID), zap.Bool("follow", follow))
	s.mailQueued()
	return nil
}

// followForm serves the record page's buttons.
func (s *Server) followForm(w http.ResponseWriter, r *http.Request) {
	claims, lang, ok := s.subscriberLink(w, r, token.PurposeRecord)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		s.writePage(w, r, lang, http.StatusBadRequest, page{Title: "link.invalid.title", Text: "link.invalid.text"})
		return
	}
	err := s.setFollowing(r, claims.ID, r.PostForm.Get("series"), r.PostForm.Get("follow") == "1")
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.writePage(w, r, lang, http.StatusNotFound, page{Title: "record.none.title", Text: "record.none.text"})
	case err != nil:
		s.log.Error("follow series", zap.Error(err))
		s.writePage(w, r, lang, http.StatusInternalServerError, page{Title: "error.title", Text: "error.text"})
	default:
		http.Redirect(w, r, "/record?"+url.Values{"token": {r.URL.Query().Get("token")}}.Encode()+"#series", http.StatusSeeOther)
	}
}

// followJSON is followForm for API clients.
func (s *Server) followJSON(w http.ResponseWriter, r *http.Request) {
	lang := s.text.Lang(r, s.subscriberLang(r, token.PurposeRecord))
	claims, err := s.subscriberToken(r, token.PurposeRecord)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_token", s.text.T(lang, "api.invalid_token"))
		return
	}
	var req followRequest
	if !decodeBody(w, r, &req) {
		return
	}
	switch err := s.setFollowing(r, claims.ID, req.SeriesID, req.Follow); {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", s.text.T(lang, "api.no_series"))
	case err != nil:
		s.internalError(w, "follow series", err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
