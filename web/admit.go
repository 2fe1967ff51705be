package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/worktogether/worktogether/signaling"
	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/token"
)

// Token admission, in one place: a join link (admit) for the websocket, the
// connection check and /api/me; an open link (verifyOpen) for guests; a
// subscriber's mailed link (subscriberToken, subscriberLink) for the
// confirm, unsubscribe, record and forget pages and their JSON twins.

// admission is what a valid join token lets in.
type admission struct {
	claims  token.Join
	session store.Session
}

// errRefused carries the reason a join token is refused, for a 401: a
// catalog key, written in the request's language.
type errRefused struct{ msg string }

func (e errRefused) Error() string { return e.msg }

// admit checks a join token against the signature, the clock and the session.
// When sessionID is not empty, the token must be for that session. With
// allowEnded, a session that has ended still admits (to look back at it).
func (s *Server) admit(ctx context.Context, tok, sessionID string, allowEnded bool) (admission, error) {
	claims, err := s.cfg.Signer.VerifyJoin(tok, s.now())
	switch {
	case errors.Is(err, token.ErrExpired):
		return admission{}, errRefused{"refused.expired"}
	case err != nil:
		return admission{}, errRefused{"refused.invalid"}
	case sessionID != "" && sessionID != claims.Session:
		return admission{}, errRefused{"refused.other_session"}
	}
	sess, err := s.cfg.Store.GetSession(ctx, claims.Session)
	if errors.Is(err, store.ErrNotFound) {
		return admission{}, errRefused{"refused.invalid"}
	}
	if err != nil {
		return admission{}, fmt.Errorf("admit: %w", err)
	}
	if sess.Cancelled {
		return admission{}, errRefused{"refused.cancelled"}
	}
	if !allowEnded && s.machineFor(sess).Ended() {
		return admission{}, errRefused{"refused.ended"}
	}
	if claims.Subscriber != "" {
		// A link from a mail ends with its subscriber's deletion.
		if _, err := s.cfg.Store.GetSubscriber(ctx, claims.Subscriber); errors.Is(err, store.ErrNotFound) {
			return admission{}, errRefused{"refused.gone"}
		} else if err != nil {
			return admission{}, fmt.Errorf("admit: %w", err)
		}
	}
	removed, err := s.cfg.Store.IsRemoved(ctx, sess.ID, claims.Participant)
	if err != nil {
		return admission{}, fmt.Errorf("admit: %w", err)
	}
	if removed {
		return admission{}, errRefused{"refused.removed"}
	}
	return admission{claims: claims, session: sess}, nil
}

// refuse answers a failed admission: 401 with the reason, or 500 when the
// server itself failed.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var refused errRefused
	if errors.As(err, &refused) {
		writeError(w, http.StatusUnauthorized, "unauthorized", s.text.T(s.text.Lang(r, ""), refused.msg))
		return
	}
	s.internalError(w, "check join link", err)
}

type meResponse struct {
	You        *signaling.WireYou        `json:"you,omitempty"`
	Open       bool                      `json:"open,omitempty"` // an open link: ask for a name, then POST /api/guest
	Session    signaling.WireSession     `json:"session"`
	Commitment *signaling.WireCommitment `json:"commitment"` // yours, as stored
	Report     *signaling.WireReport     `json:"report"`
	// RecordURL, for a subscriber's link from a mail, is their record of
	// past sessions (extension).
	RecordURL string `json:"record_url,omitempty"`
	// Here: this link's person is in the room now, from another tab or
	// device; joining moves them here, so a full room has their place
	// (extension).
	Here bool `json:"here,omitempty"`
}

// whoAmI lets the room page check its link before it opens the camera:
// GET /api/me?t=T[&session=S] answers who the token admits, with their own
// commitment and report (also once the session has ended), or 401 with the
// reason.
func (s *Server) whoAmI(w http.ResponseWriter, r *http.Request) {
	adm, err := s.admit(r.Context(), tokenParam(r), r.URL.Query().Get("session"), true)
	if err != nil {
		if sess, openErr := s.verifyOpen(r, tokenParam(r)); openErr == nil {
			desc, err := s.describe(sess, false)
			if err != nil {
				s.internalError(w, "describe session", err)
				return
			}
			writeJSON(w, http.StatusOK, meResponse{Open: true, Session: desc})
			return
		}
		s.refuse(w, r, err)
		return
	}
	desc, err := s.describe(adm.session, false)
	if err != nil {
		s.internalError(w, "describe session", err)
		return
	}
	c := adm.claims
	out := meResponse{You: &signaling.WireYou{ID: c.Participant, Name: c.Name, Role: c.Role}, Session: desc,
		Here: s.hub.IsHere(adm.session.ID, c.Participant)}
	if c.Subscriber != "" {
		if out.RecordURL, err = s.links.Record(store.Subscriber{ID: c.Subscriber}); err != nil {
			s.internalError(w, "record link", err)
			return
		}
	}
	p, err := s.cfg.Store.GetParticipant(r.Context(), adm.session.ID, c.Participant)
	switch {
	case err == nil:
		wp := signaling.ToWireParticipant(p, false, false)
		out.Commitment, out.Report = wp.Commitment, wp.Report
	case !errors.Is(err, store.ErrNotFound):
		s.internalError(w, "look up participant", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func tokenParam(r *http.Request) string {
	if t := r.URL.Query().Get("token"); t != "" {
		return t
	}
	return r.URL.Query().Get("t")
}

// verifyOpen checks an open token and returns its session, still running.
func (s *Server) verifyOpen(r *http.Request, tok string) (store.Session, error) {
	var o token.Open
	if err := s.cfg.Signer.Verify(token.PurposeOpen, tok, &o); err != nil || o.Session == "" {
		return store.Session{}, errRefused{"refused.invalid"}
	}
	if s.now().Unix() >= o.Expires {
		return store.Session{}, errRefused{"refused.expired"}
	}
	sess, err := s.cfg.Store.GetSession(r.Context(), o.Session)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, errRefused{"refused.invalid"}
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("open link: %w", err)
	}
	if sess.Cancelled {
		return store.Session{}, errRefused{"refused.cancelled"}
	}
	if s.machineFor(sess).Ended() {
		return store.Session{}, errRefused{"refused.ended"}
	}
	return sess, nil
}

// subscriberToken checks the token (?token=) of a subscriber's mailed link
// made for purpose.
func (s *Server) subscriberToken(r *http.Request, purpose string) (token.Subscriber, error) {
	return s.cfg.Signer.VerifySubscriber(purpose, r.URL.Query().Get("token"), s.now())
}

// subscriberLang is the stored language of the subscriber a link names, or
// "" when unknown.
func (s *Server) subscriberLang(r *http.Request, purpose string) string {
	claims, err := s.subscriberToken(r, purpose)
	if err != nil {
		return ""
	}
	sub, err := s.cfg.Store.GetSubscriber(r.Context(), claims.ID)
	if err != nil {
		return ""
	}
	return sub.Lang
}

// subscriberLink checks the token of a confirm or unsubscribe link, answering
// with a page when it is refused; also the page's language.
func (s *Server) subscriberLink(w http.ResponseWriter, r *http.Request, purpose string) (token.Subscriber, string, bool) {
	lang := s.pageLang(w, r, s.subscriberLang(r, purpose))
	sub, err := s.subscriberToken(r, purpose)
	switch {
	case errors.Is(err, token.ErrExpired):
		s.writePage(w, r, lang, http.StatusBadRequest, page{Title: "link.expired.title", Text: "link.expired.text"})
	case err != nil:
		s.writePage(w, r, lang, http.StatusBadRequest, page{Title: "link.invalid.title", Text: "link.invalid.text"})
	default:
		return sub, lang, true
	}
	return token.Subscriber{}, lang, false
}
