package web

import (
	"bufio"
	"net"
	"net/http"
)

// What a person reads for an error. Handlers and the room speak English to
// developers (the detail); the message a person reads comes from the catalog
// in their language: a specific one for the errors people meet, else one per
// code. Codes never change with the language.

// errorKey names the catalog message for an English error text the server
// gives, or "" when there is no specific one.
func errorKey(msg string) string {
	switch msg {
	case "no such session":
		return "err.no_session"
	case "this session was cancelled":
		return "err.cancelled"
	case "this session has ended":
		return "err.session_ended"
	case "a session that has begun cannot be moved":
		return "err.started"
	case "a valid host key is required (Authorization: Bearer <host key>)":
		return "err.host_key"
	case "too many wrong host keys from here; try again later":
		return "err.host_key_locked"
	case "too many guest links from here for this session", "too many requests; please try again later":
		return "err.too_many"
	case "starts_at is required (RFC 3339)":
		return "err.starts_required"
	case "starts_at is so far in the past that the session would be over":
		return "err.starts_past"
	case "starts_at is more than a year ahead", "starts_at must be in the next year":
		return "err.starts_far"
	case "timezone must be an IANA time zone such as Europe/Berlin":
		return "api.invalid_timezone"
	case "first must be a local date and time like 2026-12-01T09:00":
		return "err.first"
	case "the rule gives no occurrence in the coming weeks":
		return "err.no_occurrence"
	case "no such series":
		return "err.no_series"
	case "only a host can do that":
		return "err.only_host"
	case "not in a room yet":
		return "err.not_in_room"
	case "turns are taken in the commitment and closing rounds":
		return "err.turns_rounds"
	case "only the speaker or a host can pass the turn":
		return "err.not_speaker"
	case "everyone has had their turn":
		return "turn.all_done"
	case "a host cannot be removed":
		return "err.host_not_removable"
	case "the change could not be saved; try again", "the removal could not be saved; try again":
		return "err.not_saved"
	case "your commitment could not be saved; try again":
		return "err.commit_not_saved"
	case "your report could not be saved; try again":
		return "err.report_not_saved"
	case "no such participant in this session":
		return "err.no_participant"
	case "too many messages; slow down", "too many status changes; slow down":
		return "err.slow_down"
	case tooManyConns:
		return "err.too_many_conns"
	}
	return ""
}

// errorText is the message for a person in lang: the specific one for msg,
// else the one for the code and what it answers (ref), else the code's.
func (s *Server) errorText(lang, code, ref, msg string) string {
	if key := errorKey(msg); key != "" {
		return s.text.T(lang, key)
	}
	for _, key := range []string{"err." + code + "." + ref, "err." + code} {
		if text := s.text.T(lang, key); text != key {
			return text
		}
	}
	return msg
}

// langWriter carries the request's language and the catalog to
// writeError, so that every handler's errors come in the person's language.
type langWriter struct {
	http.ResponseWriter
	srv  *Server
	lang string
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *langWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands the connection to the websocket upgrader.
func (w *langWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Flush passes a flush on.
func (w *langWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// localize gives the message and detail of an error written to w: msg as
// it is when a handler already took it from the catalog, else the catalog's
// message in the request's language with the English text as detail.
func localize(w http.ResponseWriter, code, msg string) (message, detail string) {
	lw, ok := w.(*langWriter)
	if !ok || lw.srv.text.IsMessage(msg, "api.", "refused.", "err.") {
		return msg, ""
	}
	return lw.srv.errorText(lw.lang, code, "", msg), msg
}

// errorLang is the language for errors on r: the switch's cookie, ?lang=,
// then Accept-Language.
func (s *Server) errorLang(r *http.Request) string {
	return s.text.Lang(r, "")
}
