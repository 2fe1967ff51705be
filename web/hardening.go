package web

import (
	"io/fs"
	"log"
	"mime"
	"net/http"
	"path"
	"strings"
)

// Web hardening that every response shares: security headers, assets
// without directory listings, JSON bodies only with a JSON content type,
// and the HTTP server's timeouts.

// contentSecurityPolicy allows scripts, styles and connections from this
// server only: no inline script or style attribute, no plugin, no framing.
// 'self' covers same-origin websockets.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// secureHeaders sets the headers every response carries.
func secureHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY") // frame-ancestors for browsers that predate it
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// assets serves the browser client's files, but never a directory listing:
// a path that names a directory is not found.
func assets(files fs.FS) http.Handler {
	server := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if st, err := fs.Stat(files, name); name == "" || strings.HasSuffix(r.URL.Path, "/") || err != nil || st.IsDir() {
			http.NotFound(w, r)
			return
		}
		server.ServeHTTP(w, r)
	})
}

// jsonContentType tells whether a request says its body is JSON
// (application/json, with or without parameters). Browsers send other
// sites' plain forms as text/plain, form-urlencoded or multipart, and
// those are refused before anything is read.
func jsonContentType(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// HTTPServer is the http.Server to serve s with: its timeouts bound how long
// a client may take to send its headers and body, how long a response may
// take, and how long an idle connection is kept. Websockets are hijacked
// before these apply to them; their own deadlines are the Limits'.
func (s *Server) HTTPServer(errorLog *log.Logger) *http.Server {
	l := s.cfg.Limits
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeoutHTTP,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          errorLog,
	}
}
