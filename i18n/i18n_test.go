package i18n_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

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

// Dates and plans in words, from the catalog, as the mails and the record
// page write them.
func TestLongTimeAndPlanInBothLanguages(t *testing.T) {
	c, err := i18n.Load(static.Files, "i18n", "en", "de")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 1, 6, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ lang, tz, when, plan string }{
		{"de", "Europe/Berlin", "Mittwoch, 6. Januar 2027, 09:00 Uhr (Europe/Berlin)", "10 Min. Vorhaben-Runde"},
		{"en", "America/New_York", "Wednesday, 6 January 2027, 03:00 (America/New York)", "10 min Commitment round"},
		{"de", "Nowhere/Else", "Mittwoch, 6. Januar 2027, 08:00 Uhr (UTC)", "10 Min. Vorhaben-Runde"},
	} {
		if got := c.LongTime(tc.lang, at, tc.tz); got != tc.when {
			t.Errorf("%s %s: %q, want %q", tc.lang, tc.tz, got, tc.when)
		}
		if got := c.PlanPart(tc.lang, "commitment", 600); got != tc.plan {
			t.Errorf("%s plan: %q, want %q", tc.lang, got, tc.plan)
		}
	}
	for _, tc := range []struct {
		seconds int
		want    string
	}{{45, "45 s"}, {90, "2 Min."}, {3600, "1 Std."}, {5400, "90 Min."}} {
		if got := c.Length("de", tc.seconds); got != tc.want {
			t.Errorf("%d s: %q, want %q", tc.seconds, got, tc.want)
		}
	}
}

// A length in German ends with a full stop ("10 Min."): no message puts
// another one after it ("Dauer 10 Min..").
func TestNoFullStopAfterALength(t *testing.T) {
	c, err := i18n.Load(static.Files, "i18n", "en", "de")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range c.Keys() {
		for _, name := range []string{"{left}", "{length}", "{over}"} {
			if v := c.T("de", key); strings.Contains(v, name+".") {
				t.Errorf("%s: %q", key, v)
			}
		}
	}
}
