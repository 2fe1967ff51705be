package web

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// openConns is how many connections the cap counts for a client key now.
func (s *Server) openConns(key string) int {
	s.conns.mu.Lock()
	defer s.conns.mu.Unlock()
	return s.conns.open[key]
}

// slowPost opens a connection from the client the proxy names and starts
// a POST whose body never finishes: the server holds it while it waits.
func slowPost(t *testing.T, addr, client string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /api/subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nX-Forwarded-For: %s\r\n\r\n{\"em", client)
	return c
}

// get asks for path as client behind the proxy, in lang.
func getAs(t *testing.T, h *harness, path, client, lang string) (int, apiError) {
	t.Helper()
	req, _ := http.NewRequest("GET", h.http.URL+path, nil)
	req.Header.Set("X-Forwarded-For", client)
	req.Header.Set("Accept-Language", lang)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e apiError
	if resp.StatusCode != http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			t.Fatalf("%s: %d, not a JSON error: %v", path, resp.StatusCode, err)
		}
	}
	return resp.StatusCode, e
}

// One client (as the trusted proxy names it) may hold three connections:
// slow request bodies and an open websocket count alike. The fourth, a
// request or a websocket, is refused with 429 in the client's language;
// another client behind the same proxy still gets in, and once one of the
// three closes the first client may connect again.
func TestConnectionsPerClientAreCapped(t *testing.T) {
	h := buildHarness(t, Limits{ConnsPerClient: 3}, false, tuning{server: func(_ *harness, c *Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}})
	const ann, bo = "203.0.113.7", "198.51.100.9"
	sess := h.runningSession(0)
	tok := h.invite(sess.ID, "Ann", "").Token

	addr := h.http.Listener.Addr().String()
	slow := []net.Conn{slowPost(t, addr, ann), slowPost(t, addr, ann)}
	ws, resp, err := websocket.DefaultDialer.Dial(h.wsURL(tok), http.Header{"X-Forwarded-For": {ann}})
	if err != nil {
		t.Fatalf("Ann's websocket: %v (%v)", err, resp)
	}
	defer ws.Close()
	if _, msg, err := ws.ReadMessage(); err != nil || !strings.Contains(string(msg), `"welcome"`) {
		t.Fatalf("Ann's websocket: %q %v", msg, err)
	}
	eventually(t, 10*time.Second, "Ann's three connections are counted", func() bool { return h.srv.openConns(ann) == 3 })

	for lang, want := range map[string]string{
		"en": "Too many connections from here at once: please close some windows and try again.",
		"de": "Zu viele gleichzeitige Verbindungen von hier: Bitte schließe ein paar Fenster und versuche es noch einmal.",
	} {
		code, e := getAs(t, h, "/api/sessions", ann, lang)
		if code != http.StatusTooManyRequests || e.Error.Code != "rate_limited" || e.Error.Message != want || e.Error.Detail != tooManyConns {
			t.Errorf("Ann's fourth connection (%s): %d %+v", lang, code, e)
		}
	}
	_, resp, err = websocket.DefaultDialer.Dial(h.wsURL(tok), http.Header{"X-Forwarded-For": {ann}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("Ann's second websocket: %v, %v; want 429", err, resp)
	}
	if code, e := getAs(t, h, "/api/sessions", bo, "en"); code != http.StatusOK {
		t.Errorf("Bo behind the same proxy: %d %+v", code, e)
	}

	// A slow body given up frees its place; so does the websocket's end.
	slow[0].Close()
	eventually(t, 10*time.Second, "Ann's closed connection is let go", func() bool { return h.srv.openConns(ann) == 2 })
	if code, e := getAs(t, h, "/api/sessions", ann, "en"); code != http.StatusOK {
		t.Errorf("Ann after closing one: %d %+v", code, e)
	}
	ws.Close()
	slow[1].Close()
	eventually(t, 10*time.Second, "every connection of Ann's is let go", func() bool { return h.srv.openConns(ann) == 0 })
	h.srv.conns.mu.Lock()
	left := len(h.srv.conns.open)
	h.srv.conns.mu.Unlock()
	if left != 0 {
		t.Errorf("the table keeps %d clients with nothing open", left)
	}
}

// A slow body that is cut by the server's read timeout is let go too: the
// cap never outlives the connection.
func TestConnectionCapFollowsTheReadTimeout(t *testing.T) {
	h := newHarness(t, Limits{ConnsPerClient: 1, ReadTimeout: 300 * time.Millisecond})
	c := slowPost(t, serveReal(t, h), "203.0.113.7") // no trusted proxy: the header is ignored
	eventually(t, 10*time.Second, "the slow body is counted", func() bool { return h.srv.openConns("127.0.0.1") == 1 })
	// The server gives up on the body and answers; the place is free again.
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to the slow body: %v", err)
	}
	resp.Body.Close()
	eventually(t, 10*time.Second, "the cut connection is let go", func() bool { return h.srv.openConns("127.0.0.1") == 0 })
}
