package web

import (
	"net/http"
	"time"
)

// checkSuffix marks the credentials of a connection check: counted apart
// from the participant's own allocations, so a check cannot use up what the
// join needs.
const checkSuffix = "/check"

// checkTTL is how long a connection check's credentials are good for.
const checkTTL = 2 * time.Minute

// iceServers are what a participant's connections may use: the configured
// STUN/TURN servers and, when a relay is configured, TURN credentials of
// the participant's own. Never nil, so it encodes as [].
func (s *Server) iceServers(id string, ttl time.Duration) []ICEServer {
	out := append([]ICEServer{}, s.cfg.ICEServers...)
	if s.cfg.TURN != nil {
		out = append(out, s.cfg.TURN(id, s.now(), ttl)...)
	}
	return out
}

type connectionCheckResponse struct {
	ICEServers []ICEServer `json:"ice_servers"`
	// Relay says whether a TURN relay is among them.
	Relay bool `json:"relay"`
}

// connectionCheck gives the pre-join page the ICE servers to test this
// network against: the same servers as welcome, with credentials good for
// two minutes only and counted apart. A valid join link is required, and
// each client gets a few checks a minute.
func (s *Server) connectionCheck(w http.ResponseWriter, r *http.Request) {
	adm, err := s.admit(r.Context(), tokenParam(r), r.URL.Query().Get("session"), false)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	if !s.checkByParticipant.allow(adm.claims.Session+"/"+adm.claims.Participant, s.now()) {
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many requests; please try again later")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, connectionCheckResponse{
		ICEServers: s.iceServers(adm.claims.Participant+checkSuffix, checkTTL),
		Relay:      s.cfg.TURN != nil || hasTURN(s.cfg.ICEServers),
	})
}

func hasTURN(servers []ICEServer) bool {
	for _, sv := range servers {
		for _, u := range sv.URLs {
			if len(u) >= 5 && (u[:5] == "turn:" || u[:5] == "turns") {
				return true
			}
		}
	}
	return false
}
