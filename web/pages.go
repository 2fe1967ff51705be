package web

import (
	"io/fs"
	"net/http"
)

// pageRoutes serves the browser client: the pages and their assets.
func (s *Server) pageRoutes() {
	if s.cfg.Static == nil {
		return
	}
	page := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, err := fs.ReadFile(s.cfg.Static, name)
			if err != nil {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("Referrer-Policy", "no-referrer") // join tokens stay out of Referer headers
			w.Write(b)
		}
	}
	s.mux.HandleFunc("GET /{$}", page("index.html"))
	s.mux.HandleFunc("GET /host", page("host.html"))
	s.mux.HandleFunc("GET /s/{id}", page("room.html"))
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", assets(s.cfg.Static)))
	s.mux.HandleFunc("/", s.notFound)
}

// notFound answers an unknown address (outside /api/, which answers JSON)
// with a page in the site's look that says where to go.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.writePage(w, r, s.pageLang(w, r, ""), http.StatusNotFound, page{Title: "notfound.title", Text: "notfound.text"})
}
