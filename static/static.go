// Package static holds the browser client, embedded into the server binary:
// plain HTML, CSS and ES modules with no build step. protocol.js speaks the
// wire contract and touches no DOM; the page scripts build the UI on it.
package static

import "embed"

// Files is the client, served under /static/ and as the pages.
//
//go:embed *.html *.css *.js i18n/*.json
var Files embed.FS
