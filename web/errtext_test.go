package web

import (
	"encoding/json"
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/worktogether/worktogether/internal/testpeer"
)

// Every API error's message is in the request's language (the switch's
// cookie, else Accept-Language), the English text for developers is its
// detail, and the code does not change.
func TestEveryAPIErrorInTheRequestsLanguage(t *testing.T) {
	h := newHarness(t, Limits{})
	for _, tc := range []struct {
		name, method, path, key, body string
		header                        map[string]string
		status                        int
		code, message, detail         string
	}{
		{"unknown session, German browser", "GET", "/api/sessions/" + uuid.NewString(), "", "", map[string]string{"Accept-Language": "de-DE,de;q=0.9"},
			404, "not_found", "Diese Session gibt es nicht.", "no such session"},
		{"unknown session, English browser", "GET", "/api/sessions/" + uuid.NewString(), "", "", map[string]string{"Accept-Language": "en-US"},
			404, "not_found", "This session does not exist.", "no such session"},
		{"no host key, the switch says German", "POST", "/api/sessions", "", `{}`, map[string]string{"Cookie": "wt_lang=de", "Accept-Language": "en"},
			401, "unauthorized", "Dafür braucht es einen gültigen Gastgeber-Schlüssel.", "a valid host key is required (Authorization: Bearer <host key>)"},
		{"not JSON", "POST", "/api/sessions", testHostKey, "title=x", map[string]string{"Accept-Language": "de", "Content-Type": "text/plain"},
			415, "unsupported_media_type", "Die Anfrage muss als JSON geschickt werden.", "the body must be JSON, sent as Content-Type: application/json"},
		{"a plan out of bounds", "POST", "/api/sessions", testHostKey, `{"title": "x", "starts_at": "` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `", "plan": [{"kind": "work", "seconds": 5}]}`,
			map[string]string{"Accept-Language": "de", "Content-Type": "application/json"}, 400, "invalid", "Ein Wert fehlt oder liegt außerhalb der Grenzen.", ""},
	} {
		req, _ := http.NewRequest(tc.method, h.http.URL+tc.path, strings.NewReader(tc.body))
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		if tc.key != "" {
			req.Header.Set("Authorization", "Bearer "+tc.key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e apiError
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tc.status || e.Error.Code != tc.code || e.Error.Message != tc.message ||
			(tc.detail != "" && e.Error.Detail != tc.detail) || e.Error.Detail == "" {
			t.Errorf("%s: %d %+v %v; want %d %s %q", tc.name, resp.StatusCode, e, err, tc.status, tc.code, tc.message)
		}
	}
}

// A websocket's errors come in the language of its page (?lang=, the
// cookie, Accept-Language), with the English as detail.
func TestWebsocketErrorsInTheClientsLanguage(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	for _, tc := range []struct{ lang, host, bad string }{
		{"de", "Das kann nur der Gastgeber.", "Der Server hat diese Anfrage nicht verstanden."},
		{"en", "Only a host can do that.", "The server did not understand this request."},
	} {
		inv := h.invite(sess.ID, "Ada "+tc.lang, "")
		p, err := testpeer.Dial(h.ctx(5*time.Second), h.api, h.wsURL(inv.Token)+"&lang="+tc.lang, testpeer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		if _, err := p.Expect(h.ctx(5*time.Second), "welcome"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ msg, code, message, detail string }{
			{`{"type":"host","action":"advance"}`, signaling.CodeNotAllowed, tc.host, "only a host can do that"},
			{`{"type":"status","mic":"yes"}`, signaling.CodeBadMessage, tc.bad, "mic must be true or false"},
		} {
			if err := p.SendRaw(1, []byte(c.msg)); err != nil {
				t.Fatal(err)
			}
			m, err := p.Expect(h.ctx(5*time.Second), "error")
			if err != nil {
				t.Fatal(err)
			}
			var e signaling.MsgError
			if err := m.Decode(&e); err != nil || e.Code != c.code || e.Message != c.message || e.Detail != c.detail {
				t.Errorf("%s: %s, want %s %q (%s)", tc.lang, m.Raw, c.code, c.message, c.detail)
			}
		}
	}
}

// Every specific error message names a key both catalogs have.
func TestErrorKeysAreInTheCatalog(t *testing.T) {
	h := newHarness(t, Limits{})
	for _, msg := range []string{"no such session", "this session was cancelled", "this session has ended",
		"a session that has begun cannot be moved", "a valid host key is required (Authorization: Bearer <host key>)",
		"too many wrong host keys from here; try again later", "too many guest links from here for this session",
		"too many requests; please try again later", "starts_at is required (RFC 3339)",
		"starts_at is so far in the past that the session would be over", "starts_at is more than a year ahead",
		"starts_at must be in the next year", "timezone must be an IANA time zone such as Europe/Berlin",
		"first must be a local date and time like 2026-12-01T09:00", "the rule gives no occurrence in the coming weeks",
		"no such series", "only a host can do that", "not in a room yet", "turns are taken in the commitment and closing rounds",
		"only the speaker or a host can pass the turn", "everyone has had their turn", "a host cannot be removed",
		"the change could not be saved; try again", "the removal could not be saved; try again",
		"your commitment could not be saved; try again", "your report could not be saved; try again",
		"no such participant in this session", "too many messages; slow down", "too many status changes; slow down"} {
		key := errorKey(msg)
		if key == "" {
			t.Errorf("%q has no key", msg)
			continue
		}
		for _, lang := range h.srv.text.Langs() {
			if got := h.srv.text.T(lang, key); got == key {
				t.Errorf("%s: %s missing", lang, key)
			}
		}
	}
	for _, code := range []string{signaling.CodeBadMessage, signaling.CodeNotAllowed, signaling.CodeInvalid, signaling.CodeFull, signaling.CodeGuestsFull, signaling.CodeRateLimited,
		"unauthorized", "not_found", "ended", "started", "too_large", "unsupported_media_type", "forbidden", "internal", "invalid_token"} {
		if got := h.srv.errorText("de", code, "", "something new"); got == "something new" {
			t.Errorf("code %s has no message of its own", code)
		}
	}
}
