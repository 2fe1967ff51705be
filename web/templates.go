package web

import (
	"embed"
	"html/template"
)

// The server-rendered pages (a subscriber's confirm, unsubscribe, forget and
// not-found pages, and their record), in templates/: html/template escapes
// every name and title.

//go:embed templates/*.html
var templateFiles embed.FS

// pageTmpl is a one-message page (page.html) and the language switch every
// page carries ("switch").
var pageTmpl = template.Must(template.ParseFS(templateFiles, "templates/page.html"))

// recordTmpl is a subscriber's record of past sessions (record.html).
var recordTmpl = template.Must(template.Must(pageTmpl.Clone()).ParseFS(templateFiles, "templates/record.html"))
