// Package i18n is the message catalog: one JSON file per language under
// static/i18n (embedded with the client, which fetches the same files), the
// language of a request (a stored choice, ?lang=, the wt_lang cookie the
// switch sets, then Accept-Language), and lookup with {name} placeholders.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

// Cookie is where the language switch keeps the choice.
const Cookie = "wt_lang"

// Catalog holds every language's messages. It does not change once loaded.
type Catalog struct {
	langs   []string // the first is the fallback
	msgs    map[string]map[string]string
	matcher language.Matcher
}

// Load reads dir/<lang>.json for each of langs from fsys; langs[0] is the
// fallback. Every language must have the same keys.
func Load(fsys fs.FS, dir string, langs ...string) (*Catalog, error) {
	if len(langs) == 0 {
		return nil, fmt.Errorf("i18n: no languages")
	}
	c := &Catalog{langs: langs, msgs: map[string]map[string]string{}}
	tags := make([]language.Tag, len(langs))
	for i, l := range langs {
		raw, err := fs.ReadFile(fsys, path.Join(dir, l+".json"))
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", l, err)
		}
		c.msgs[l] = m
		tags[i] = language.Make(l)
	}
	for _, l := range langs[1:] {
		if missing := diff(c.msgs[langs[0]], c.msgs[l]); len(missing) > 0 {
			return nil, fmt.Errorf("i18n: %s and %s differ in %s", langs[0], l, strings.Join(missing, ", "))
		}
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

func diff(a, b map[string]string) []string {
	var out []string
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Langs are the catalog's languages, the fallback first.
func (c *Catalog) Langs() []string { return append([]string(nil), c.langs...) }

// Keys are the catalog's message keys, sorted (every language has them all).
func (c *Catalog) Keys() []string {
	keys := make([]string, 0, len(c.msgs[c.langs[0]]))
	for k := range c.msgs[c.langs[0]] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Has tells whether lang is one of the catalog's languages.
func (c *Catalog) Has(lang string) bool {
	_, ok := c.msgs[lang]
	return ok
}

// Match picks the catalog's language for an Accept-Language header.
func (c *Catalog) Match(accept string) string {
	tags, _, err := language.ParseAcceptLanguage(accept)
	if err != nil || len(tags) == 0 {
		return c.langs[0]
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return c.langs[0]
	}
	return c.langs[i]
}

// Lang is the language to answer r in: stored (a subscriber's choice) when
// known, else ?lang=, the switch's cookie, then Accept-Language.
func (c *Catalog) Lang(r *http.Request, stored string) string {
	if q := r.URL.Query().Get("lang"); c.Has(q) {
		return q
	}
	if ck, err := r.Cookie(Cookie); err == nil && c.Has(ck.Value) {
		return ck.Value
	}
	if c.Has(stored) {
		return stored
	}
	return c.Match(r.Header.Get("Accept-Language"))
}

// T is the message key in lang with each {name} replaced by the value after
// it in args (pairs: name, value). A key missing from the catalog comes back
// as itself, so it shows and a test can catch it.
func (c *Catalog) T(lang, key string, args ...any) string {
	m, ok := c.msgs[lang]
	if !ok {
		m = c.msgs[c.langs[0]]
	}
	s, ok := m[key]
	if !ok {
		return key
	}
	for i := 0; i+1 < len(args); i += 2 {
		s = strings.ReplaceAll(s, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return s
}

// IsMessage tells whether s is, word for word, one of the catalog's
// messages in some language (text already looked up), among the keys that
// begin with one of prefixes.
func (c *Catalog) IsMessage(s string, prefixes ...string) bool {
	for _, m := range c.msgs {
		for k, v := range m {
			for _, p := range prefixes {
				if strings.HasPrefix(k, p) && fits(v, s) {
					return true
				}
			}
		}
	}
	return false
}

// fits tells whether s is message v with its {name} placeholders filled in.
func fits(v, s string) bool {
	if !strings.Contains(v, "{") {
		return v == s
	}
	parts := placeholder.Split(v, -1)
	if !strings.HasPrefix(s, parts[0]) || !strings.HasSuffix(s[len(parts[0]):], parts[len(parts)-1]) {
		return false
	}
	rest := s[len(parts[0]) : len(s)-len(parts[len(parts)-1])]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}

// placeholder is a {name} in a message.
var placeholder = regexp.MustCompile(`\{\w+\}`)

// Plural picks key.one or key.other for n.
func (c *Catalog) Plural(lang, key string, n int, args ...any) string {
	form := ".other"
	if n == 1 {
		form = ".one"
	}
	return c.T(lang, key+form, append([]any{"n", n}, args...)...)
}
