package signaling

import (
	"errors"
	"html/template"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
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

func preferredLang(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		if strings.HasPrefix(tag, "de") {
			return "de"
		}
		if strings.HasPrefix(tag, "en") {
			return "en"
		}
	}
	return "en"
}

func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) {
	var req subscribeRequest
	if !decodeBody(w, r, &req) {
		return
	}
	email, ok := validEmail(req.Email)
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid", "that does not look like an e-mail address")
		return
	}
	if strings.TrimSpace(req.Name) == "" {
		req.Name = email[:strings.IndexByte(email, '@')]
	}
	if req.Name, ok = checkName(w, req.Name); !ok {
		return
	}
	if req.Lang == "" {
		req.Lang = preferredLang(r)
	}
	if req.Lang != "en" && req.Lang != "de" {
		writeError(w, http.StatusBadRequest, "invalid", `lang must be "en" or "de"`)
		return
	}
	if req.Timezone == "" {
		req.Timezone = "UTC"
	}
	if _, err := time.LoadLocation(req.Timezone); err != nil || utf8.RuneCountInString(req.Timezone) > 64 {
		writeError(w, http.StatusBadRequest, "invalid", "timezone must be an IANA time zone such as Europe/Berlin")
		return
	}
	now := s.now()
	if !s.subscribeByClient.allow(limitKey(s.clientIP(r)), now) || !s.subscribeByAddress.allow(email, now) {
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many sign-ups; please try again later")
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
		"message": "Thanks! If this address is not on the list yet, a mail to confirm it is on its way.",
	})
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>{{.Title}} · Worktogether</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body><header class="bar"><a class="brand" href="/">Worktogether</a></header>
<main class="card notice"><h1>{{.Title}}</h1><p>{{.Text}}</p>
{{if .Action}}<form method="post" action="{{.Action}}"><button class="button primary">{{.Button}}</button></form>{{end}}
<p><a href="/">Upcoming sessions</a></p></main></body></html>
`))

type page struct {
	Title, Text    string
	Action, Button string
}

func writePage(w http.ResponseWriter, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, p)
}

// subscriberLink checks the token of a confirm or unsubscribe link, answering
// with a page when it is refused.
func (s *Server) subscriberLink(w http.ResponseWriter, r *http.Request, purpose string) (token.Subscriber, bool) {
	sub, err := s.cfg.Signer.VerifySubscriber(purpose, r.URL.Query().Get("token"), s.now())
	switch {
	case errors.Is(err, token.ErrExpired):
		writePage(w, http.StatusBadRequest, page{Title: "This link has expired", Text: "Sign up again on the home page and use the link in the new mail."})
	case err != nil:
		writePage(w, http.StatusBadRequest, page{Title: "This link is not valid", Text: "Please use the link exactly as it came in the mail."})
	default:
		return sub, true
	}
	return token.Subscriber{}, false
}

// thisURL is the link the request came in on, for the button to post to.
func thisURL(r *http.Request) string {
	return r.URL.Path + "?" + url.Values{"token": {r.URL.Query().Get("token")}}.Encode()
}

func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.subscriberLink(w, r, token.PurposeConfirm); !ok {
		return
	}
	writePage(w, http.StatusOK, page{Title: "Confirm your subscription",
		Text:   "Press the button to hear about upcoming Worktogether sessions, each with your own link and a calendar entry.",
		Action: thisURL(r), Button: "Yes, keep me posted"})
}

func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.subscriberLink(w, r, token.PurposeConfirm)
	if !ok {
		return
	}
	_, err := s.cfg.Store.Confirm(r.Context(), claims.ID, *s.notify())
	if errors.Is(err, store.ErrNotFound) {
		writePage(w, http.StatusBadRequest, page{Title: "This subscription is gone", Text: "It was cancelled meanwhile. Sign up again on the home page if you like."})
		return
	}
	if err != nil {
		s.log.Error("confirm", zap.Error(err))
		writePage(w, http.StatusInternalServerError, page{Title: "Something went wrong", Text: "Please try again in a minute."})
		return
	}
	s.mailQueued()
	writePage(w, http.StatusOK, page{Title: "You are subscribed", Text: "You will get a mail for each upcoming session, with your own link to join, and a reminder before it starts."})
}

func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.subscriberLink(w, r, token.PurposeUnsubscribe); !ok {
		return
	}
	writePage(w, http.StatusOK, page{Title: "Unsubscribe", Text: "Press the button and no more mails from Worktogether will come.",
		Action: thisURL(r), Button: "Unsubscribe"})
}

// unsubscribe serves the button and RFC 8058 one-click POSTs alike; doing it
// twice is harmless.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.subscriberLink(w, r, token.PurposeUnsubscribe)
	if !ok {
		return
	}
	err := s.cfg.Store.Unsubscribe(r.Context(), claims.ID, s.now())
	if errors.Is(err, store.ErrNotFound) {
		writePage(w, http.StatusBadRequest, page{Title: "This link is not valid", Text: "Please use the link exactly as it came in the mail."})
		return
	}
	if err != nil {
		s.log.Error("unsubscribe", zap.Error(err))
		writePage(w, http.StatusInternalServerError, page{Title: "Something went wrong", Text: "Please try again in a minute."})
		return
	}
	writePage(w, http.StatusOK, page{Title: "You are unsubscribed", Text: "No more mails will come. You are welcome back any time."})
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
