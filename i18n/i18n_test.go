package i18n_test

import (
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/worktogether/worktogether/i18n"
	"github.com/worktogether/worktogether/static"
)

func TestShippedCatalogIsComplete(t *testing.T) {
	c, err := i18n.Load(static.Files, "i18n", "en", "de")
	if err != nil {
		t.Fatal(err)
	}
	// No German message is the English one left untranslated.
	for _, key := range []string{"confirm.title", "phase.commitment", "phase.closing", "record.empty", "api.invalid_email"} {
		if c.T("de", key) == c.T("en", key) {
			t.Errorf("%s is the same in German and English: %q", key, c.T("de", key))
		}
	}
	// The German phase names are the mails' words.
	if got := c.T("de", "phase.commitment"); got != "Vorhaben-Runde" {
		t.Errorf("commitment round in German: %q", got)
	}
	if got := c.T("de", "phase.closing"); got != "Abschlussrunde" {
		t.Errorf("closing round in German: %q", got)
	}
}

func TestLoadRefusesCatalogsThatDiffer(t *testing.T) {
	fsys := fstest.MapFS{
		"i/en.json": {Data: []byte(`{"a": "A", "b": "B"}`)},
		"i/de.json": {Data: []byte(`{"a": "Ä"}`)},
	}
	if _, err := i18n.Load(fsys, "i", "en", "de"); err == nil {
		t.Fatal("a German catalog without b loaded")
	}
}

func TestLangAndLookup(t *testing.T) {
	c, err := i18n.Load(static.Files, "i18n", "en", "de")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ accept, want string }{
		{"de-DE,de;q=0.9,en;q=0.8", "de"}, {"de-AT", "de"}, {"fr-FR, en;q=0.5", "en"},
		{"fr", "en"}, {"", "en"}, {"en-GB,de;q=0.3", "en"}, {"garbage;;", "en"},
	} {
		if got := c.Match(tc.accept); got != tc.want {
			t.Errorf("Accept-Language %q: %s, want %s", tc.accept, got, tc.want)
		}
	}
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("Accept-Language", "en")
	if got := c.Lang(r, "de"); got != "de" {
		t.Errorf("a stored choice loses to Accept-Language: %s", got)
	}
	r = httptest.NewRequest("GET", "/x?lang=en", nil)
	if got := c.Lang(r, "de"); got != "en" {
		t.Errorf("the switch (?lang=en) loses: %s", got)
	}
	if got := c.T("de", "record.heading", "name", "Lena"); got != "Deine Sessions, Lena" {
		t.Errorf("placeholder: %q", got)
	}
	if got := c.Plural("en", "record.tasks", 1, "done", 0); got != "0 of 1 task done" {
		t.Errorf("plural: %q", got)
	}
	if got := c.T("en", "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key: %q", got)
	}
}

func TestIsMessage(t *testing.T) {
	c, err := i18n.Load(static.Files, "i18n", "en", "de")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s      string
		prefix string
		want   bool
	}{
		{c.T("de", "api.invalid_name", "max", 80), "api.", true},
		{c.T("en", "api.invalid_email"), "api.", true},
		{c.T("en", "api.invalid_email"), "err.", false},
		{"no such session", "api.", false},
		{"name must be 1 to", "api.", false},
		{"25 min Focused work", "api.", false}, // a plan part, not an error
	} {
		if got := c.IsMessage(tc.s, tc.prefix); got != tc.want {
			t.Errorf("IsMessage(%q, %q) = %v", tc.s, tc.prefix, got)
		}
	}
}
