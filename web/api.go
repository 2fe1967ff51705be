package web

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
)

// What every JSON endpoint shares: bounds, the error shape, reading a body,
// and the host key.

// Bounds of what the API takes.
const (
	maxBody         = 64 << 10
	maxTitle        = 200
	maxName         = 80
	defaultCapacity = 20
	maxCapacity     = 200
	defaultLobby    = 600
	maxLobby        = 86400
	maxAhead        = 366 * 24 * time.Hour
)

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`          // for people, in the request's language
		Detail  string `json:"detail,omitempty"` // extension: for developers, in English
	} `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var e apiError
	e.Error.Code = code
	e.Error.Message, e.Error.Detail = localize(w, code, msg)
	writeJSON(w, status, e)
}

// internalError logs err and answers 500: for failures of the server itself
// (storage), never for bad input.
func (s *Server) internalError(w http.ResponseWriter, what string, err error) {
	s.log.Error(what, zap.Error(err))
	writeError(w, http.StatusInternalServerError, "internal", what+" failed; see the server log")
}

// decodeBody reads a JSON object into v: sent as application/json (415
// otherwise, so another site's plain form cannot post here), at most maxBody
// bytes, no unknown fields, nothing after it.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if !jsonContentType(r) {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "the body must be JSON, sent as Content-Type: application/json")
		return false
	}
	body := http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body over %d bytes", maxBody))
		default:
			writeError(w, http.StatusBadRequest, "bad_message", "body is not the expected JSON object: "+err.Error())
		}
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad_message", "body has data after the JSON object")
		return false
	}
	return true
}

func (s *Server) isHost(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.cfg.HostKey)) == 1
}

func (s *Server) requireHost(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.isHost(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="worktogether"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "a valid host key is required (Authorization: Bearer <host key>)")
			return
		}
		h(w, r)
	}
}
