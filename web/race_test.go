package web

import (
	"encoding/json"
	"fmt"
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/worktogether/worktogether/internal/testpeer"
)

// Joins that race the end of a session: each is refused (401), or gets
// bye ended, or is welcomed into the running session and then gets bye
// ended; none is welcomed into an ended session or left connected.
func TestJoinsRacingTheEndGetByeEnded(t *testing.T) {
	const joiners = 60
	h := newHarness(t, Limits{})
	sess := h.createSession(h.now().Add(-time.Second), nil, 200)
	host, _ := h.join(h.invite(sess.ID, "Hosting", "host").Token, testpeer.Options{})
	tokens := make([]string, joiners)
	for i := range tokens {
		tokens[i] = h.invite(sess.ID, "Racer", "").Token
	}
	type outcome struct {
		refused, welcomedEnded, stayed bool
		bye                            string
	}
	results := make(chan outcome, joiners)
	var wg sync.WaitGroup
	start := make(chan struct{})
	// The host ends the session once a few are in, while the rest are
	// still on their way.
	welcomed := make(chan struct{}, joiners)
	go func() {
		for range 5 {
			select {
			case <-welcomed:
			case <-time.After(10 * time.Second):
			}
		}
		host.Send(map[string]any{"type": "host", "action": "end"})
	}()
	for _, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			conn, _, err := websocket.DefaultDialer.Dial(h.wsURL(tok), nil)
			if err != nil {
				results <- outcome{refused: true}
				return
			}
			defer conn.Close()
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			var o outcome
			for {
				_, raw, err := conn.ReadMessage()
				if err != nil {
					o.stayed = o.bye == ""
					results <- o
					return
				}
				var m struct {
					Type   string              `json:"type"`
					Reason string              `json:"reason"`
					State  signaling.WireState `json:"state"`
				}
				json.Unmarshal(raw, &m)
				switch m.Type {
				case "welcome":
					o.welcomedEnded = m.State.Phase.Kind == "ended"
					welcomed <- struct{}{}
				case "bye":
					o.bye = m.Reason
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	n := map[string]int{}
	for o := range results {
		switch {
		case o.welcomedEnded:
			t.Error("a join was welcomed into the ended session")
		case o.stayed:
			t.Error("a join stayed connected without bye")
		case o.refused:
			n["refused"]++
		case o.bye != "ended":
			t.Errorf("bye %q", o.bye)
		default:
			n["bye ended"]++
		}
	}
	t.Logf("%d joins racing the end: %v", joiners, n)
}

// rawJoin connects with tok and returns the connection and the type (and
// error code) of the first message.
func rawJoin(t *testing.T, h *harness, tok string) (*websocket.Conn, string) {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(h.wsURL(tok), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, raw, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("first message: %v", err)
	}
	var m struct{ Type, Code string }
	json.Unmarshal(raw, &m)
	if m.Type == "error" {
		return conn, "error " + m.Code
	}
	return conn, m.Type
}

// Guests of an open link leave the seats of invitees who have not come yet,
// and one link lets in at most two guests per seat over the session's life;
// both refusals are typed (guests_full), and invitees still get in.
func TestGuestCapsKeepSeatsForInvitees(t *testing.T) {
	h := newHarness(t, Limits{})
	h.trustLoopbackProxy()
	sess := h.createSession(h.now().Add(-time.Second), nil, 4)
	u, _ := url.Parse(sess.OpenURL)
	open := u.Query().Get("t")
	n := 0
	guest := func() string {
		t.Helper()
		n++
		var inv inviteResponse
		if code := h.postAs(fmt.Sprintf("198.51.100.%d", n), "/api/guest", map[string]string{"token": open, "name": fmt.Sprint("Guest ", n)}, &inv); code != http.StatusCreated {
			t.Fatalf("guest link: %d", code)
		}
		return inv.Token
	}
	inviteA, inviteB := h.invite(sess.ID, "Ada", ""), h.invite(sess.ID, "Bo", "")
	// Four seats, two kept for Ada and Bo: two guests get in, the third not.
	g1tok := guest()
	g1, kind := rawJoin(t, h, g1tok)
	if kind != "welcome" {
		t.Fatalf("guest 1: %s", kind)
	}
	if _, kind := rawJoin(t, h, guest()); kind != "welcome" {
		t.Fatalf("guest 2: %s", kind)
	}
	if _, kind := rawJoin(t, h, guest()); kind != "error guests_full" {
		t.Fatalf("guest 3: %s", kind)
	}
	for _, inv := range []inviteResponse{inviteA, inviteB} {
		if _, kind := rawJoin(t, h, inv.Token); kind != "welcome" {
			t.Fatalf("invitee: %s", kind)
		}
	}
	// Room full now; guest 1 leaves, others take turns until the link's
	// eight guests (two per seat) have come; the ninth is refused, and
	// guest 1 coming back is no new guest.
	g1.Close()
	eventually(t, 5*time.Second, "guest 1 gone", func() bool { return h.srv.hub.Present(sess.ID) == 3 })
	for i := 0; i < 6; i++ {
		c, kind := rawJoin(t, h, guest())
		if kind != "welcome" {
			t.Fatalf("guest %d: %s", n, kind)
		}
		c.Close()
		eventually(t, 5*time.Second, "guest gone", func() bool { return h.srv.hub.Present(sess.ID) == 3 })
	}
	if _, kind := rawJoin(t, h, guest()); kind != "error guests_full" {
		t.Fatalf("guest past the link's share: %s", kind)
	}
	if _, kind := rawJoin(t, h, g1tok); kind != "welcome" {
		t.Fatalf("guest 1 back: %s", kind)
	}
}

// One client gets at most ten guest links per session.
func TestGuestLinksPerClient(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.createSession(h.now().Add(-time.Second), nil, 4)
	u, _ := url.Parse(sess.OpenURL)
	for i := range 11 {
		var e apiError
		code := h.do("POST", "/api/guest", "", map[string]string{"token": u.Query().Get("t"), "name": "G"}, &e)
		if (i < 10 && code != http.StatusCreated) || (i == 10 && (code != http.StatusTooManyRequests || e.Error.Code != "rate_limited")) {
			t.Fatalf("guest link %d: %d %+v", i+1, code, e)
		}
	}
}
