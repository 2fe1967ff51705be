package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/worktogether/worktogether/signaling"
)

// checkOrigin admits clients without an Origin (not browsers), and browsers on
// the server's own origin: its public URL or the host they asked for.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if base := s.links.Base(); strings.EqualFold(u.Scheme, base.Scheme) && strings.EqualFold(u.Host, base.Host) {
		return true
	}
	return strings.EqualFold(u.Host, r.Host)
}

// serveWS admits the token and the origin, then hands the connection to the
// room core, which upgrades it and runs the client until it goes.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	adm, err := s.admit(r.Context(), tokenParam(r), r.URL.Query().Get("session"), false)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	if !s.checkOrigin(r) {
		writeError(w, http.StatusForbidden, "forbidden", "websocket from another origin")
		return
	}
	slots, err := signaling.SlotsParam(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	c := adm.claims
	s.hub.ServeWS(w, r, signaling.Join{
		Session:     adm.session,
		Participant: c.Participant,
		Name:        c.Name,
		Role:        c.Role,
		Guest:       c.Guest,
		Subscriber:  c.Subscriber,
		Lang:        s.errorLang(r),
		Slots:       slots,
	})
}
