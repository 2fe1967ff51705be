package web

import (
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSessionsAPI(t *testing.T) {
	h := newHarness(t, Limits{})
	start := h.now().Add(2 * time.Hour).Truncate(time.Second)
	later := h.createSession(start.Add(time.Hour), nil, 5)
	sooner := h.createSession(start, nil, 0)
	if sooner.HostURL == "" || !strings.Contains(sooner.HostURL, "/s/"+sooner.ID+"?t=") {
		t.Fatalf("host_url %q", sooner.HostURL)
	}
	if sooner.Capacity != defaultCapacity || sooner.LobbySeconds != defaultLobby || len(sooner.Plan) != 5 || !sooner.StartsAt.Equal(start) {
		t.Fatalf("defaults: %+v", sooner)
	}
	if sooner.Phase == nil || sooner.Phase.Kind != "lobby" || sooner.Phase.Index != -1 {
		t.Fatalf("phase %+v", sooner.Phase)
	}

	var list []signaling.WireSession
	if code := h.do("GET", "/api/sessions", "", nil, &list); code != 200 || len(list) != 2 || list[0].ID != sooner.ID || list[1].ID != later.ID {
		t.Fatalf("list: %d %+v", code, list)
	}
	if list[0].HostURL != "" {
		t.Fatal("host_url shown to anyone")
	}
	var one signaling.WireSession
	if code := h.do("GET", "/api/sessions/"+later.ID, "", nil, &one); code != 200 || one.Title != "Test session" || one.Capacity != 5 || one.HostURL != "" {
		t.Fatalf("get: %d %+v", code, one)
	}
	var inv inviteResponse
	if code := h.do("POST", "/api/sessions/"+later.ID+"/invites", testHostKey, map[string]string{"name": "Ada", "role": "host"}, &inv); code != 201 ||
		inv.Token == "" || inv.URL != h.http.URL+"/s/"+later.ID+"?t="+inv.Token {
		t.Fatalf("invite: %d %+v", code, inv)
	}
}

func TestAPIErrors(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	future := h.now().Add(time.Hour).Format(time.RFC3339)
	cases := []struct {
		name   string
		method string
		path   string
		key    string
		body   any
		status int
		code   string
	}{
		{"create without key", "POST", "/api/sessions", "", map[string]any{"title": "x", "starts_at": future}, 401, "unauthorized"},
		{"create with wrong key", "POST", "/api/sessions", "nope", map[string]any{"title": "x", "starts_at": future}, 401, "unauthorized"},
		{"not json", "POST", "/api/sessions", testHostKey, "{", 400, "bad_message"},
		{"trailing data", "POST", "/api/sessions", testHostKey, `{"title":"x","starts_at":"` + future + `"} {}`, 400, "bad_message"},
		{"unknown field", "POST", "/api/sessions", testHostKey, map[string]any{"title": "x", "starts_at": future, "colour": "red"}, 400, "bad_message"},
		{"wrong type", "POST", "/api/sessions", testHostKey, map[string]any{"title": 5, "starts_at": future}, 400, "bad_message"},
		{"bad time", "POST", "/api/sessions", testHostKey, map[string]any{"title": "x", "starts_at": "tomorrow"}, 400, "bad_message"},
		{"no title", "POST", "/api/sessions", testHostKey, map[string]any{"title": " ", "starts_at": future}, 400, "invalid"},
		{"long title", "POST", "/api/sessions", testHostKey, map[string]any{"title": strings.Repeat("t", 201), "starts_at": future}, 400, "invalid"},
		{"title with CR", "POST", "/api/sessions", testHostKey, map[string]any{"title": "a\rb", "starts_at": future}, 400, "invalid"},
		{"title with NUL", "POST", "/api/sessions", testHostKey, map[string]any{"title": "a\x00b", "starts_at": future}, 400, "invalid"},
		{"title with bidi override", "POST", "/api/sessions", testHostKey, map[string]any{"title": "a\u202eb", "starts_at": future}, 400, "invalid"},
		{"no start", "POST", "/api/sessions", testHostKey, map[string]any{"title": "x"}, 400, "invalid"},
		{"long past", "POST", "/api/sessions", testHostKey, map[string]any{"title": "x", "starts_at": "2020-01-01T00:00:00Z"}, 400, "invalid"},
		{"bad plan", "POST", "/api/sessions", testHostKey, map[string]any{"title": "x", "starts_at": future, "plan": []map[string]any{{"kind": "work", "seconds": 60}}}, 400, "invalid"},
		{"zero capacity", "POST", "/api/sessions", testHostKey, map[string]any{"title": "x", "starts_at": future, "capacity": 0}, 400, "invalid"},
		{"negative lobby", "POST", "/api/sessions", testHostKey, map[string]any{"title": "x", "starts_at": future, "lobby_seconds": -1}, 400, "invalid"},
		{"huge body", "POST", "/api/sessions", testHostKey, `{"title":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "too_large"},
		{"get unknown", "GET", "/api/sessions/6b1c3a54-2b9e-4e0e-9d59-8f3f6f1c0a11", "", nil, 404, "not_found"},
		{"get not uuid", "GET", "/api/sessions/..%2f..", "", nil, 404, "not_found"},
		{"delete without key", "DELETE", "/api/sessions/" + sess.ID, "", nil, 401, "unauthorized"},
		{"delete unknown", "DELETE", "/api/sessions/6b1c3a54-2b9e-4e0e-9d59-8f3f6f1c0a11", testHostKey, nil, 404, "not_found"},
		{"invite without key", "POST", "/api/sessions/" + sess.ID + "/invites", "", map[string]any{"name": "x"}, 401, "unauthorized"},
		{"invite no name", "POST", "/api/sessions/" + sess.ID + "/invites", testHostKey, map[string]any{"name": ""}, 400, "invalid"},
		{"invite name with LF", "POST", "/api/sessions/" + sess.ID + "/invites", testHostKey, map[string]any{"name": "Eve\nBCC: x"}, 400, "invalid"},
		{"invite name too long", "POST", "/api/sessions/" + sess.ID + "/invites", testHostKey, map[string]any{"name": strings.Repeat("ü", 81)}, 400, "invalid"},
		{"subscribe name with NUL", "POST", "/api/subscribe", "", map[string]any{"email": "a@example.org", "name": "a\x00"}, 400, "invalid"},
		{"invite bad role", "POST", "/api/sessions/" + sess.ID + "/invites", testHostKey, map[string]any{"name": "x", "role": "king"}, 400, "invalid"},
		{"invite unknown session", "POST", "/api/sessions/6b1c3a54-2b9e-4e0e-9d59-8f3f6f1c0a11/invites", testHostKey, map[string]any{"name": "x"}, 404, "not_found"},
		{"unknown endpoint", "GET", "/api/nothing", "", nil, 404, "not_found"},
		{"me without token", "GET", "/api/me", "", nil, 401, "unauthorized"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e apiError
			status := h.do(c.method, c.path, c.key, c.body, &e)
			if status != c.status || e.Error.Code != c.code || e.Error.Message == "" {
				t.Fatalf("got %d %+v, want %d %s", status, e, c.status, c.code)
			}
		})
	}
	if code := h.do("GET", "/healthz", "", nil, nil); code != http.StatusOK {
		t.Fatalf("healthz %d", code)
	}
}

func TestHealthzChecksTheDatabase(t *testing.T) {
	h := newHarness(t, Limits{})
	if code, body := h.raw("GET", h.http.URL+"/healthz", "", ""); code != 200 || body != "ok" {
		t.Fatalf("healthy: %d %q", code, body)
	}
	h.store.Close() // as if the disk went away
	if code, body := h.raw("GET", h.http.URL+"/healthz", "", ""); code != http.StatusServiceUnavailable || body == "ok" {
		t.Fatalf("without a database: %d %q", code, body)
	}
}
