package web

import (
	"errors"
	"github.com/worktogether/worktogether/text"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/worktogether/worktogether/i18n"
	"github.com/worktogether/worktogether/newsletter"
	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/token"
	"go.uber.org/zap"
)

// Newsletter endpoints: subscribe (double opt-in), the confirm and unsubscribe
// links of mails, and the public calendar feed. GET and HEAD on a link only
// show a page with a button: mail scanners open links, and must change
// nothing. The button's POST (or an RFC 8058 one-click POST) does the change.

type subscribeRequest struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Lang     string `json:"lang"`     // extension: en or de; from Accept-Language when empty
	Timezone string `json:"timezone"` // extension: IANA zone for the times in mails; UTC when empty
}

const maxEmail = 254

// validEmail accepts a bare address (no display name) of reasonable length
// with a dot in its domain.
func validEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxEmail {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") {
		return "", false
	}
	return strings.ToLower(s), true
}

func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) {
	var req subscribeRequest
	if !decodeBody(w, r, &req) {
		return
	}
	lang := s.text.Lang(r, "")
	email, ok := validEmail(req.Email)
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid", s.text.T(lang, "api.invalid_email"))
		return
	}
	if strings.TrimSpace(req.Name) == "" {
		req.Name = email[:strings.IndexByte(email, '@')]
	}
	name, err := text.Line("name", req.Name, maxName)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", s.text.T(lang, "api.invalid_name", "max", maxName))
		return
	}
	req.Name = name
	if req.Lang == "" {
		req.Lang = s.text.Match(r.Header.Get("Accept-Language"))
	}
	if !s.text.Has(req.Lang) {
		writeError(w, http.StatusBadRequest, "invalid", s.text.T(lang, "api.invalid_lang"))
		return
	}
	if req.Timezone == "" {
		req.Timezone = "UTC"
	}
	if _, err := time.LoadLocation(req.Timezone); err != nil || utf8.RuneCountInString(req.Timezone) > 64 {
		writeError(w, http.StatusBadRequest, "invalid", s.text.T(lang, "api.invalid_timezone"))
		return
	}
	now := s.now()
	if !s.subscribeByClient.allow(limitKey(s.clientIP(r)), now) || !s.subscribeByAddress.allow(email, now) {
		writeError(w, http.StatusTooManyRequests, "rate_limited", s.text.T(lang, "api.rate_limited_subscribe"))
		return
	}
	sub := store.Subscriber{ID: uuid.NewString(), Email: email, Name: req.Name, Lang: req.Lang, TZ: req.Timezone}
	if err := s.cfg.Store.Subscribe(r.Context(), sub, now); err != nil {
		s.internalError(w, "subscribe", err)
		return
	}
	s.mailQueued()
	// The same answer whether the address is new, pending or already on the
	// list: nobody learns who subscribed.
	writeJSON(w, http.StatusAccepted, map[string]string{
		"message": s.text.T(lang, "api.subscribed"),
	})
}

// page is a one-message page; its texts are catalog keys.
type page struct {
	Title, Text    string
	Action, Button string
}

// pageView is a page in one language.
type pageView struct {
	Lang, Title, Text, Action, Button, Upcoming string
	Switch                                      langSwitch
}

type langSwitch struct {
	Label string
	Links []langLink
}

type langLink struct {
	Lang, Name, URL string
	Current         bool
}

// switchFor links this page in every language; following one keeps the
// choice in a cookie (see pageLang).
func (s *Server) switchFor(r *http.Request, lang string) langSwitch {
	sw := langSwitch{Label: s.text.T(lang, "lang.switch")}
	for _, l := range s.text.Langs() {
		q := r.URL.Query()
		q.Set("lang", l)
		sw.Links = append(sw.Links, langLink{Lang: l, Name: s.text.T(l, "lang.name"), URL: r.URL.Path + "?" + q.Encode(), Current: l == lang})
	}
	return sw
}

// pageLang is the language of a server-rendered page: the switch's ?lang=
// (remembered in a cookie), the cookie, the subscriber's stored choice, then
// Accept-Language.
func (s *Server) pageLang(w http.ResponseWriter, r *http.Request, stored string) string {
	if q := r.URL.Query().Get("lang"); s.text.Has(q) {
		http.SetCookie(w, &http.Cookie{Name: i18n.Cookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	}
	return s.text.Lang(r, stored)
}

// writePage answers with p in lang.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, lang string, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Language", lang)
	w.WriteHeader(status)
	v := pageView{Lang: lang, Title: s.text.T(lang, p.Title), Text: s.text.T(lang, p.Text), Action: p.Action,
		Upcoming: s.text.T(lang, "site.upcoming"), Switch: s.switchFor(r, lang)}
	if p.Button != "" {
		v.Button = s.text.T(lang, p.Button)
	}
	_ = pageTmpl.ExecuteTemplate(w, "page.html", v)
}

// thisURL is the link the request came in on, for the button to post to.
func thisURL(r *http.Request) string {
	return r.URL.Path + "?" + url.Values{"token": {r.URL.Query().Get("token")}}.Encode()
}

func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request) {
	_, lang, ok := s.subscriberLink(w, r, token.PurposeConfirm)
	if !ok {
		return
	}
	s.writePage(w, r, lang, http.StatusOK, page{Title: "confirm.title", Text: "confirm.text", Action: thisURL(r), Button: "confirm.button"})
}

func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	claims, lang, ok := s.subscriberLink(w, r, token.PurposeConfirm)
	if !ok {
		return
	}
	_, err := s.cfg.Store.Confirm(r.Context(), claims.ID, *s.notify())
	if errors.Is(err, store.ErrNotFound) {
		s.writePage(w, r, lang, http.StatusBadRequest, page{Title: "confirm.gone.title", Text: "confirm.gone.text"})
		return
	}
	if err != nil {
		s.log.Error("confirm", zap.Error(err))
		s.writePage(w, r, lang, http.StatusInternalServerError, page{Title: "error.title", Text: "error.text"})
		return
	}
	s.mailQueued()
	s.writePage(w, r, lang, http.StatusOK, page{Title: "confirm.done.title", Text: "confirm.done.text"})
}

func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	_, lang, ok := s.subscriberLink(w, r, token.PurposeUnsubscribe)
	if !ok {
		return
	}
	s.writePage(w, r, lang, http.StatusOK, page{Title: "unsubscribe.title", Text: "unsubscribe.text", Action: thisURL(r), Button: "unsubscribe.button"})
}

// unsubscribe serves the button and RFC 8058 one-click POSTs alike; doing it
// twice is harmless.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	claims, lang, ok := s.subscriberLink(w, r, token.PurposeUnsubscribe)
	if !ok {
		return
	}
	err := s.cfg.Store.Unsubscribe(r.Context(), claims.ID, s.now())
	if errors.Is(err, store.ErrNotFound) {
		s.writePage(w, r, lang, http.StatusBadRequest, page{Title: "link.invalid.title", Text: "link.invalid.text"})
		return
	}
	if err != nil {
		s.log.Error("unsubscribe", zap.Error(err))
		s.writePage(w, r, lang, http.StatusInternalServerError, page{Title: "error.title", Text: "error.text"})
		return
	}
	s.writePage(w, r, lang, http.StatusOK, page{Title: "unsubscribe.done.title", Text: "unsubscribe.done.text"})
}

// calendarFeed serves every upcoming session as an iCalendar feed.
func (s *Server) calendarFeed(w http.ResponseWriter, r *http.Request) {
	list, err := s.upcoming(r.Context())
	if err != nil {
		s.internalError(w, "calendar feed", err)
		return
	}
	events := make([]newsletter.Event, 0, len(list))
	for _, sess := range list {
		if sess.Private {
			continue
		}
		events = append(events, newsletter.Event{Session: sess, URL: s.links.URL("/", nil)})
	}
	cal, err := newsletter.Calendar(newsletter.MethodPublish, s.links.Base().Hostname(), s.now(), events...)
	if err != nil {
		s.internalError(w, "calendar feed", err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="worktogether.ics"`)
	w.Write(cal)
}
