package web

import (
	"context"
	"errors"
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/worktogether/worktogether/internal/testpeer"
	"github.com/worktogether/worktogether/links"
	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/token"
)

func refusedWith(t *testing.T, h *harness, url string, want int) {
	t.Helper()
	_, err := testpeer.Dial(h.ctx(5*time.Second), h.api, url, testpeer.Options{})
	var refused testpeer.ErrRefused
	if !errors.As(err, &refused) || refused.Status != want {
		t.Fatalf("dial %s: got %v, want HTTP %d", url, err, want)
	}
}

func TestTokensRefused(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	other := h.runningSession(0)
	inv := h.invite(sess.ID, "Ada", "")
	otherInv := h.invite(other.ID, "Ada", "")

	payload, sig, _ := strings.Cut(inv.Token, ".")
	altered := []byte(payload)
	altered[len(altered)/2] ^= 1
	forger, _ := token.NewSigner([]byte(strings.Repeat("f", 32)))
	forged, _ := forger.SignJoin(token.Join{Session: sess.ID, Participant: "x", Name: "Eve", Role: "host", Expires: time.Now().Add(time.Hour).Unix()})

	for name, url := range map[string]string{
		"missing":       h.wsURL(""),
		"garbage":       h.wsURL("not-a-token"),
		"forged":        h.wsURL(forged),
		"altered":       h.wsURL(string(altered) + "." + sig),
		"other session": h.wsURL(otherInv.Token) + "&session=" + sess.ID,
	} {
		t.Run(name, func(t *testing.T) { refusedWith(t, h, url, http.StatusUnauthorized) })
	}
	// The same checks answer the room page's look-up with a reason.
	var e apiError
	if code := h.do("GET", "/api/me?t="+otherInv.Token+"&session="+sess.ID, "", nil, &e); code != 401 || e.Error.Code != "unauthorized" {
		t.Fatalf("/api/me with another session's token: %d %+v", code, e)
	}
	var me meResponse
	if code := h.do("GET", "/api/me?t="+inv.Token, "", nil, &me); code != 200 || me.You.Name != "Ada" || me.Session.ID != sess.ID {
		t.Fatalf("/api/me: %d %+v", code, me)
	}

	// A browser on another origin is refused; one on ours is welcome.
	_, err := testpeer.Dial(h.ctx(5*time.Second), h.api, h.wsURL(inv.Token), testpeer.Options{Origin: "https://evil.example"})
	var refused testpeer.ErrRefused
	if !errors.As(err, &refused) || refused.Status != http.StatusForbidden {
		t.Fatalf("foreign origin: %v", err)
	}
	h.join(inv.Token, testpeer.Options{Origin: h.http.URL})

	// Once the session is over, its links are refused.
	h.advanceClock(session.DefaultPlan().Duration() + time.Minute)
	refusedWith(t, h, h.wsURL(inv.Token), http.StatusUnauthorized)
	// And past the token's own expiry (a backstop a year after the planned end).
	h.advanceClock(links.Grace + time.Hour)
	refusedWith(t, h, h.wsURL(otherInv.Token), http.StatusUnauthorized)
}

func TestBadMessagesGetErrorsAndTheConnectionStays(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	p, _ := h.join(h.invite(sess.ID, "Ada", "").Token, testpeer.Options{})
	cases := []struct {
		name string
		raw  string
		code string
		ref  string
	}{
		{"not json", `hello`, signaling.CodeBadMessage, ""},
		{"array", `[1,2]`, signaling.CodeBadMessage, ""},
		{"no type", `{"sdp":"x"}`, signaling.CodeBadMessage, ""},
		{"unknown type", `{"type":"dance"}`, signaling.CodeBadMessage, "dance"},
		{"answer without sdp", `{"type":"answer"}`, signaling.CodeBadMessage, "answer"},
		{"answer with number sdp", `{"type":"answer","sdp":5}`, signaling.CodeBadMessage, "answer"},
		{"answer with extra field", `{"type":"answer","sdp":"v=0","x":1}`, signaling.CodeBadMessage, "answer"},
		{"candidate not object", `{"type":"candidate","candidate":"x"}`, signaling.CodeBadMessage, "candidate"},
		{"candidate null", `{"type":"candidate","candidate":null}`, signaling.CodeBadMessage, "candidate"},
		{"host action by participant", `{"type":"host","action":"advance"}`, signaling.CodeNotAllowed, "host"},
	}
	for _, c := range cases {
		if err := p.SendRaw(websocket.TextMessage, []byte(c.raw)); err != nil {
			t.Fatal(err)
		}
		msg, err := p.Expect(h.ctx(5*time.Second), "error")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var e signaling.MsgError
		if err := msg.Decode(&e); err != nil || e.Code != c.code || e.Ref != c.ref || e.Message == "" {
			t.Fatalf("%s: got %s, want code %s ref %q", c.name, msg.Raw, c.code, c.ref)
		}
	}
	// Binary frames are not messages.
	p.SendRaw(websocket.BinaryMessage, []byte{1, 2, 3})
	if msg, err := p.Expect(h.ctx(5*time.Second), "error"); err != nil || !strings.Contains(string(msg.Raw), signaling.CodeBadMessage) {
		t.Fatalf("binary frame: %s %v", msg.Raw, err)
	}
	// A frame over 64 KiB closes the connection with 1009.
	big := `{"type":"answer","sdp":"` + strings.Repeat("a", 70<<10) + `"}`
	p.SendRaw(websocket.TextMessage, []byte(big))
	eventually(t, 5*time.Second, "close 1009", func() bool { return p.CloseCode.Load() == websocket.CloseMessageTooBig })
}

func TestHostActionsDriveThePhases(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.createSession(h.now().Add(time.Hour), session.Plan{{Kind: session.Commitment, Seconds: 600}, {Kind: session.Work, Seconds: 600}, {Kind: session.Closing, Seconds: 600}}, 0)
	host, wh := h.join(h.invite(sess.ID, "Hosting", "host").Token, testpeer.Options{})
	part, _ := h.join(h.invite(sess.ID, "Ada", "").Token, testpeer.Options{})
	if wh.State.Phase.Kind != "lobby" || wh.State.Phase.Index != -1 {
		t.Fatalf("welcome phase %+v", wh.State.Phase)
	}
	expectState := func(p *testpeer.Peer, kind string) signaling.WireState {
		t.Helper()
		msg, err := p.ExpectWhere(h.ctx(5*time.Second), "state", func(m testpeer.Message) bool {
			return strings.Contains(string(m.Raw), `"kind":"`+kind+`"`)
		})
		if err != nil {
			t.Fatalf("waiting for %s: %v", kind, err)
		}
		var st signaling.MsgState
		if err := msg.Decode(&st); err != nil || st.Phase.Kind != kind {
			t.Fatalf("state %s, want %s", msg.Raw, kind)
		}
		return st.WireState
	}
	expectError := func(code string) {
		t.Helper()
		msg, err := host.Expect(h.ctx(5*time.Second), "error")
		if err != nil || !strings.Contains(string(msg.Raw), `"code":"`+code+`"`) {
			t.Fatalf("want error %s, got %s %v", code, msg.Raw, err)
		}
	}
	host.Send(map[string]any{"type": "host", "action": "extend", "seconds": 60})
	expectError(signaling.CodeNotAllowed) // nothing to extend in the lobby

	host.Send(map[string]any{"type": "host", "action": "advance"})
	st := expectState(host, "commitment")
	expectState(part, "commitment")
	if st.Phase.EndsAt.Sub(st.Phase.StartedAt) != 600*time.Second {
		t.Fatalf("commitment lasts %v", st.Phase.EndsAt.Sub(st.Phase.StartedAt))
	}
	host.Send(map[string]any{"type": "host", "action": "extend", "seconds": 0})
	expectError(signaling.CodeInvalid)
	host.Send(map[string]any{"type": "host", "action": "extend"})
	expectError(signaling.CodeBadMessage)
	host.Send(map[string]any{"type": "host", "action": "extend", "seconds": 300})
	st2 := expectState(host, "commitment")
	if st2.Phase.EndsAt.Sub(st.Phase.EndsAt) != 300*time.Second {
		t.Fatalf("extend moved the end by %v", st2.Phase.EndsAt.Sub(st.Phase.EndsAt))
	}
	host.Send(map[string]any{"type": "host", "action": "end"})
	expectState(part, "ended")
	msg, err := part.Expect(h.ctx(5*time.Second), "bye")
	if err != nil || !strings.Contains(string(msg.Raw), signaling.ByeEnded) {
		t.Fatalf("bye: %s %v", msg.Raw, err)
	}
	var got signaling.WireSession
	h.do("GET", "/api/sessions/"+sess.ID, "", nil, &got)
	if got.Phase == nil || got.Phase.Kind != "ended" {
		t.Fatalf("session after end: %+v", got.Phase)
	}
}

func TestCancelAndShutdownSayBye(t *testing.T) {
	h := newHarness(t, Limits{})
	s1 := h.runningSession(0)
	s2 := h.runningSession(0)
	p1, _ := h.join(h.invite(s1.ID, "Ada", "").Token, media)
	p2, _ := h.join(h.invite(s2.ID, "Bo", "").Token, media)

	if code := h.do("DELETE", "/api/sessions/"+s1.ID, testHostKey, nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if msg, err := p1.Expect(h.ctx(5*time.Second), "bye"); err != nil || !strings.Contains(string(msg.Raw), signaling.ByeCancelled) {
		t.Fatalf("cancel bye: %s %v", msg.Raw, err)
	}
	if code := h.do("GET", "/api/sessions/"+s1.ID, "", nil, nil); code != http.StatusNotFound {
		t.Fatalf("cancelled session answers %d", code)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if msg, err := p2.Expect(h.ctx(5*time.Second), "bye"); err != nil || !strings.Contains(string(msg.Raw), signaling.ByeShutdown) {
		t.Fatalf("shutdown bye: %s %v", msg.Raw, err)
	}
}
