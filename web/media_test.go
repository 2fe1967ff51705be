package web

import (
	"fmt"
	"github.com/worktogether/worktogether/signaling"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
	"go.uber.org/goleak"
)

// receivesFrom waits until p has at least n more packets of both audio and
// video from each of the publishers than it had when called.
func receivesFrom(t *testing.T, p *testpeer.Peer, name string, publishers []string, n uint64) {
	t.Helper()
	base := map[string]uint64{}
	for _, id := range publishers {
		for _, kind := range []string{"audio", "video"} {
			base[id+kind] = p.Packets(id, kind)
		}
	}
	eventually(t, 10*time.Second, fmt.Sprintf("%s receives audio and video from %v", name, publishers), func() bool {
		for _, id := range publishers {
			for _, kind := range []string{"audio", "video"} {
				if p.Packets(id, kind) < base[id+kind]+n {
					return false
				}
			}
		}
		return true
	})
}

func TestThreeParticipantsReceiveEachOther(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	names := []string{"Ada", "Bo", "Cy"}
	peers := make([]*testpeer.Peer, len(names))
	ids := make([]string, len(names))
	for i, name := range names {
		inv := h.invite(sess.ID, name, "")
		var w signaling.MsgWelcome
		peers[i], w = h.join(inv.Token, media)
		ids[i] = w.You.ID
		if w.You.Name != name || w.You.Role != signaling.RoleParticipant || w.State.Phase.Kind != "commitment" {
			t.Fatalf("welcome for %s: %+v", name, w)
		}
		if len(w.Participants) != i+1 || !w.Participants[i].Present {
			t.Fatalf("welcome participants for %s: %+v", name, w.Participants)
		}
	}
	for i, p := range peers {
		var others []string
		for j, id := range ids {
			if j != i {
				others = append(others, id)
			}
		}
		receivesFrom(t, p, names[i], others, 20)
		if got := p.Packets(ids[i], "video"); got != 0 {
			t.Fatalf("%s receives their own video (%d packets)", names[i], got)
		}
	}
	// The stream id of every received track is the publisher's id; nothing
	// else arrived.
	for i, p := range peers {
		for _, tr := range p.PC().GetTransceivers() {
			if r := tr.Receiver(); r != nil && r.Track() != nil && r.Track().StreamID() != "local" {
				sid := r.Track().StreamID()
				if sid == ids[i] || (sid != ids[0] && sid != ids[1] && sid != ids[2]) {
					t.Fatalf("%s got a track with stream id %q", names[i], sid)
				}
			}
		}
	}
	var got signaling.WireSession
	h.do("GET", "/api/sessions/"+sess.ID, "", nil, &got)
	if got.Participants != 3 {
		t.Fatalf("session shows %d participants present, want 3", got.Participants)
	}
}

func TestLeaveAndRejoin(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	a, wa := h.join(h.invite(sess.ID, "Ada", "").Token, media)
	invB := h.invite(sess.ID, "Bo", "")
	b, wb := h.join(invB.Token, media)
	receivesFrom(t, a, "Ada", []string{wb.You.ID}, 10)

	b.Close()
	expectParticipant(t, h.ctx(10*time.Second), a, wb.You.ID, false)

	b2, wb2 := h.join(invB.Token, media)
	if wb2.You.ID != wb.You.ID {
		t.Fatalf("rejoin gave a new identity: %s, was %s", wb2.You.ID, wb.You.ID)
	}
	if len(wb2.Participants) != 2 {
		t.Fatalf("rejoined welcome lists %d participants, want 2", len(wb2.Participants))
	}
	expectParticipant(t, h.ctx(5*time.Second), a, wb.You.ID, true)
	receivesFrom(t, a, "Ada", []string{wb.You.ID}, 10)
	receivesFrom(t, b2, "Bo", []string{wa.You.ID}, 10)
}

func TestReplacedConnection(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	a, wa := h.join(h.invite(sess.ID, "Ada", "").Token, media)
	invB := h.invite(sess.ID, "Bo", "")
	b1, wb := h.join(invB.Token, media)
	receivesFrom(t, b1, "Bo", []string{wa.You.ID}, 5)

	b2, _ := h.join(invB.Token, media)
	bye, err := b1.Expect(h.ctx(5*time.Second), "bye")
	if err != nil {
		t.Fatal(err)
	}
	var m signaling.MsgBye
	if err := bye.Decode(&m); err != nil || m.Reason != signaling.ByeReplaced {
		t.Fatalf("first connection got %s", bye.Raw)
	}
	receivesFrom(t, b2, "Bo again", []string{wa.You.ID}, 10)
	receivesFrom(t, a, "Ada", []string{wb.You.ID}, 10)
}

func TestCapacityFull(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(1)
	h.join(h.invite(sess.ID, "Ada", "").Token, testpeer.Options{})

	p, err := testpeer.Dial(h.ctx(5*time.Second), h.api, h.wsURL(h.invite(sess.ID, "Bo", "").Token), testpeer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	msg, err := p.Expect(h.ctx(5*time.Second), "error")
	if err != nil {
		t.Fatal(err)
	}
	var e signaling.MsgError
	if err := msg.Decode(&e); err != nil || e.Code != signaling.CodeFull {
		t.Fatalf("second participant got %s", msg.Raw)
	}
	if _, err := p.Expect(h.ctx(5*time.Second), "welcome"); err == nil {
		t.Fatal("a full room welcomed another participant")
	}
	// A host always gets in.
	h.join(h.invite(sess.ID, "Hosting", "host").Token, testpeer.Options{})
}

func TestSlowReaderIsDropped(t *testing.T) {
	h := newHarness(t, Limits{Websocket: signaling.Limits{SendQueue: 8, WriteTimeout: 500 * time.Millisecond, MessagesPerSecond: 1e6, MessageBurst: 1e6}})
	sess := h.runningSession(0)
	a, wa := h.join(h.invite(sess.ID, "Ada", "").Token, media)
	b, wb := h.join(h.invite(sess.ID, "Bo", "").Token, media)
	receivesFrom(t, a, "Ada", []string{wb.You.ID}, 5)

	slow := newSlowClient(t, h, h.invite(sess.ID, "Slow", "").Token)
	slowID := slow.welcomeID(t)
	expectParticipant(t, h.ctx(5*time.Second), a, slowID, true)
	// The slow client stops reading and asks for many answers it never
	// collects; its queue fills and the server drops it.
	slow.flood(t, 200000)
	expectParticipant(t, h.ctx(15*time.Second), a, slowID, false)
	if d := h.srv.hub.SlowDrops(); d.Full != 1 {
		t.Fatalf("dropped as slow: %+v, want one for a full queue", d)
	}
	// The others never stalled.
	receivesFrom(t, a, "Ada", []string{wb.You.ID}, 20)
	receivesFrom(t, b, "Bo", []string{wa.You.ID}, 20)
}

func TestNewSubscriberGetsAKeyframeRequested(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	a, wa := h.join(h.invite(sess.ID, "Ada", "").Token, media)
	// Alone in the room, Ada's video goes nowhere; nobody asks for keyframes.
	eventually(t, 5*time.Second, "Ada connected", func() bool {
		return a.PC().ConnectionState().String() == "connected"
	})
	before := a.KeyframeRequests.Load()

	b, _ := h.join(h.invite(sess.ID, "Bo", "").Token, media)
	receivesFrom(t, b, "Bo", []string{wa.You.ID}, 5)
	eventually(t, 5*time.Second, "a keyframe request reaches Ada when Bo subscribes", func() bool {
		return a.KeyframeRequests.Load() > before
	})
}

func TestGoroutinesGoneAfterRoomCloses(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	invA, invB := h.invite(sess.ID, "Ada", ""), h.invite(sess.ID, "Bo", "")
	h.http.Client().CloseIdleConnections()
	h.http.CloseClientConnections()
	baseline := goleak.IgnoreCurrent()

	a, _ := h.join(invA.Token, media)
	b, wb := h.join(invB.Token, media)
	receivesFrom(t, a, "Ada", []string{wb.You.ID}, 10)
	if code := h.do("DELETE", "/api/sessions/"+sess.ID, testHostKey, nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	a.Close()
	b.Close()
	h.http.Client().CloseIdleConnections()
	h.http.CloseClientConnections()
	goleak.VerifyNone(t, baseline)
}
