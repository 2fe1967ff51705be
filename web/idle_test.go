package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
	"github.com/worktogether/worktogether/signaling"
	"go.uber.org/goleak"
)

// idleAfter is a harness whose empty rooms close after d.
func idleAfter(d time.Duration) tuning {
	return tuning{server: func(_ *harness, c *Config) { c.RoomIdle = d }}
}

func participantIn(w signaling.MsgWelcome, id string) signaling.WireParticipant {
	for _, p := range w.Participants {
		if p.ID == id {
			return p
		}
	}
	return signaling.WireParticipant{}
}

// A room everyone has left closes after the idle time: its goroutines and
// its media room are gone. The next join opens it again where it was: the
// same phase, the commitments, a host's mute, the speaking order and whose
// turn it is; and media flows between two members again.
func TestEmptyRoomClosesAndOpensAgainWhereItWas(t *testing.T) {
	h := buildHarness(t, Limits{}, false, idleAfter(300*time.Millisecond))
	sess := h.runningSession(0) // in its commitment round
	hostTok := h.invite(sess.ID, "Hosting", "host").Token
	adaTok, boTok := h.invite(sess.ID, "Ada", "").Token, h.invite(sess.ID, "Bo", "").Token
	h.http.Client().CloseIdleConnections()
	before := goleak.IgnoreCurrent() // the server, the router, the store: not the room

	host, _ := h.join(hostTok, testpeer.Options{})
	a, wa := h.join(adaTok, media)
	b, wb := h.join(boTok, media)
	ada, bo := wa.You.ID, wb.You.ID
	a.Send(map[string]any{"type": "commit", "tasks": []string{"outline chapter 3"}})
	expectRecord(t, h, b, ada, func(p signaling.WireParticipant) bool { return p.Commitment != nil })
	host.Send(map[string]any{"type": "host", "action": "mute", "participant": bo})
	expectRecord(t, h, a, bo, func(p signaling.WireParticipant) bool { return p.Muted })
	host.Send(map[string]any{"type": "pass"})
	turn := expectTurn(t, h, a, func(tr *signaling.WireTurn) bool { return tr != nil && tr.Current == 1 })
	eventually(t, 10*time.Second, "Ada and Bo receive each other", func() bool {
		return a.Packets(bo, "video") > 0 && b.Packets(ada, "video") > 0
	})

	for _, p := range []*testpeer.Peer{host, a, b} {
		p.Close()
	}
	eventually(t, 10*time.Second, "the empty room closes", func() bool { return !h.srv.hub.Open(sess.ID) })
	if n := h.srv.hub.IdleClosed(); n != 1 {
		t.Errorf("%d rooms closed for idleness, want 1", n)
	}
	eventually(t, 10*time.Second, "its media room closes", func() bool { return h.router.Stats().Rooms == 0 })
	h.http.Client().CloseIdleConnections()
	if err := goleak.Find(before); err != nil {
		t.Errorf("goroutines left by the closed room: %v", err)
	}

	phase := wa.State.Phase
	a, wa = h.join(adaTok, media)
	if !h.srv.hub.Open(sess.ID) {
		t.Fatal("the join did not open the room again")
	}
	if got, want := wa.State.Phase, phase; got.Index != want.Index || !got.StartedAt.Equal(want.StartedAt) {
		t.Errorf("phase after reopening %+v, want %+v", got, want)
	}
	if c := participantIn(wa, ada).Commitment; c == nil || len(c.Tasks) != 1 || c.Tasks[0] != "outline chapter 3" {
		t.Errorf("Ada's commitment after reopening: %+v", c)
	}
	if !participantIn(wa, bo).Muted {
		t.Error("Bo's mute was lost")
	}
	if wa.Turn == nil || !slices.Equal(wa.Turn.Order, turn.Order) || wa.Turn.Current != turn.Current || !wa.Turn.StartedAt.Equal(turn.StartedAt) {
		t.Errorf("turn after reopening %+v, want %+v", wa.Turn, turn)
	}
	b, _ = h.join(boTok, media)
	eventually(t, 10*time.Second, "Ada and Bo receive each other again", func() bool {
		return a.Packets(bo, "video") > 0 && b.Packets(ada, "video") > 0
	})
	for _, p := range []*testpeer.Peer{a, b} {
		if err := p.Err(); err != nil {
			t.Errorf("after reopening: %v", err)
		}
	}
}

// A join that comes as the empty room closes is not lost: it reaches the
// room before it closes or the one opened after it, and each finds the
// session as it was.
func TestJoinRacingTheIdleCloseIsWelcomed(t *testing.T) {
	h := buildHarness(t, Limits{}, false, idleAfter(20*time.Millisecond))
	sess := h.runningSession(0)
	tok := h.invite(sess.ID, "Ada", "").Token
	p, w := h.join(tok, testpeer.Options{})
	id := w.You.ID
	p.Send(map[string]any{"type": "commit", "tasks": []string{"write"}})
	expectRecord(t, h, p, id, func(wp signaling.WireParticipant) bool { return wp.Commitment != nil })
	for i := range 40 {
		p.Close()
		// Back as soon as the room knows Ada left: about when its idle
		// time runs out.
		eventually(t, 10*time.Second, "Ada's leaving is seen", func() bool { return h.srv.hub.Present(sess.ID) == 0 })
		p, w = h.join(tok, testpeer.Options{}) // fails the test unless welcomed
		if c := participantIn(w, id).Commitment; c == nil || c.Tasks[0] != "write" {
			t.Fatalf("join %d: commitment %+v", i, c)
		}
	}
	if h.srv.hub.IdleClosed() == 0 {
		t.Error("the room never closed between the joins: the race was not run")
	}
	t.Logf("%d of 40 joins came after the room had closed", h.srv.hub.IdleClosed())
}

// The open link's guests are counted over the session's life even when
// its room closes in between: after a close for idleness the link still
// lets in no more than two guests per seat, and a guest who came before
// is no new guest.
func TestGuestCapHoldsOverAnIdleClose(t *testing.T) {
	h := buildHarness(t, Limits{}, false, idleAfter(200*time.Millisecond))
	h.trustLoopbackProxy()
	sess := h.createSession(h.now().Add(-time.Second), nil, 1) // two guests over its life
	u, _ := url.Parse(sess.OpenURL)
	open := u.Query().Get("t")
	guest := func(n int) string {
		t.Helper()
		var inv inviteResponse
		if code := h.postAs(fmt.Sprintf("198.51.100.%d", n), "/api/guest", map[string]string{"token": open, "name": fmt.Sprint("Guest ", n)}, &inv); code != http.StatusCreated {
			t.Fatalf("guest link: %d", code)
		}
		return inv.Token
	}
	first := guest(1)
	for _, tok := range []string{first, guest(2)} {
		c, kind := rawJoin(t, h, tok)
		if kind != "welcome" {
			t.Fatalf("guest: %s", kind)
		}
		c.Close()
		eventually(t, 5*time.Second, "the guest gone", func() bool { return h.srv.hub.Present(sess.ID) == 0 })
	}
	eventually(t, 10*time.Second, "the empty room closes", func() bool { return !h.srv.hub.Open(sess.ID) })
	if _, kind := rawJoin(t, h, guest(3)); kind != "error guests_full" {
		t.Fatalf("a third guest after the room closed: %s", kind)
	}
	if _, kind := rawJoin(t, h, first); kind != "welcome" {
		t.Fatalf("the first guest back: %s", kind)
	}
}
