// Package text is the one check of what people type into the server: session
// titles, names, tasks and notes, at whatever boundary they come in (the
// JSON API, the websocket, the sign-up). A field is valid UTF-8, within its
// length in characters (runes, not bytes), and free of control characters
// and of the invisible controls that reorder how text is shown (bidi
// overrides and isolates, line and paragraph separators). Only multi-line
// fields (a report's note) keep line feeds and tabs.
//
// Escaping for each output format (iCalendar, CSV, HTML, mail headers) stays
// with the writer of that format: text stored before this check existed
// still has to come out inert.
package text

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrInvalid is what every refusal is (errors.Is); the refusal's own message
// says what is wrong, in words fit for the person who typed it.
var ErrInvalid = errors.New("invalid text")

type invalid struct{ msg string }

func (e invalid) Error() string        { return e.msg }
func (e invalid) Is(target error) bool { return target == ErrInvalid }

func refuse(format string, args ...any) error { return invalid{fmt.Sprintf(format, args...)} }

// Line checks a one-line field: trimmed, 1 to max characters, no control
// character at all. It returns the trimmed text.
func Line(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if err := check(field, s, false); err != nil {
		return "", err
	}
	if n := utf8.RuneCountInString(s); n < 1 || n > max {
		return "", refuse("%s must be 1 to %d characters", field, max)
	}
	return s, nil
}

// Block checks a multi-line field of at most max characters that may be
// empty: line feeds and tabs are kept (CR LF and lone CRs become line feeds),
// every other control character is refused. It returns the text with its
// outer white space trimmed.
func Block(field, s string, max int) (string, error) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSpace(s)
	if err := check(field, s, true); err != nil {
		return "", err
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", refuse("%s must be at most %d characters", field, max)
	}
	return s, nil
}

func check(field, s string, multiline bool) error {
	if !utf8.ValidString(s) {
		return refuse("%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if Refused(r) {
			return refuse("%s contains a control character (U+%04X)", field, r)
		}
	}
	return nil
}

// Refused tells whether r never belongs in a one-line field: C0 and C1
// controls and DEL, the line and paragraph separators, and the bidi
// embeddings, overrides and isolates (which can make text read other than it
// is). Zero-width joiners stay allowed: emoji are built with them.
func Refused(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separator
		return true
	case r >= 0x202a && r <= 0x202e: // LRE, RLE, PDF, LRO, RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	case r == 0x200e, r == 0x200f, r == 0x061c: // LRM, RLM, ALM
		return true
	}
	return false
}

// Clean makes any string safe for one line, for text that was stored before
// it was checked: every refused character becomes a space, and invalid UTF-8
// becomes U+FFFD.
func Clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if Refused(r) {
			return ' '
		}
		return r
	}, s)
}
