package web

import (
	"fmt"
	"github.com/worktogether/worktogether/signaling"
	"strings"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
	"github.com/worktogether/worktogether/session"
)

// waitPhase waits until p is told the session is in a phase of kind.
func waitPhase(t *testing.T, h *harness, p *testpeer.Peer, kind string, within time.Duration) {
	t.Helper()
	_, err := p.ExpectWhere(h.ctx(within), "state", func(m testpeer.Message) bool {
		return strings.Contains(string(m.Raw), `"kind":"`+kind+`"`)
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", kind, err)
	}
}

// videoAdvances waits until p has n more video packets from publisher: the
// test's clock, in media time rather than wall time.
func videoAdvances(t *testing.T, p *testpeer.Peer, publisher string, n uint64) {
	t.Helper()
	base := p.Packets(publisher, "video")
	eventually(t, 10*time.Second, fmt.Sprintf("%d more video packets", n), func() bool {
		return p.Packets(publisher, "video") >= base+n
	})
}

// TestWorkPhaseIsQuietWhateverClientsSend: the test peers never stop sending
// Opus (as a hacked client would), yet during work nobody receives a single
// audio packet, while video keeps flowing; audio returns in the closing round.
func TestWorkPhaseIsQuietWhateverClientsSend(t *testing.T) {
	h := newHarness(t, Limits{})
	plan := session.Plan{{Kind: session.Commitment, Seconds: 2}, {Kind: session.Work, Seconds: 6}, {Kind: session.Closing, Seconds: 600}}
	sess := h.createSession(h.now(), plan, 0)
	a, wa := h.join(h.invite(sess.ID, "Ada", "").Token, media)
	b, wb := h.join(h.invite(sess.ID, "Bo", "").Token, media)
	c, wc := h.join(h.invite(sess.ID, "Cy", "host").Token, media)
	if wa.State.Phase.Kind != "commitment" {
		t.Fatalf("starts in %s", wa.State.Phase.Kind)
	}
	receivesFrom(t, b, "Bo", []string{wa.You.ID, wc.You.ID}, 10)

	waitPhase(t, h, b, "work", 10*time.Second)
	// Let what was forwarded before the switch arrive, then count.
	videoAdvances(t, b, wa.You.ID, 10)
	audioAtB := map[string]uint64{wa.You.ID: b.Packets(wa.You.ID, "audio"), wc.You.ID: b.Packets(wc.You.ID, "audio")}
	audioAtA := a.Packets(wb.You.ID, "audio")
	videoAdvances(t, b, wa.You.ID, 60) // about three seconds of work
	videoAdvances(t, a, wb.You.ID, 10)
	for id, before := range audioAtB {
		if got := b.Packets(id, "audio"); got != before {
			t.Fatalf("Bo heard %d audio packets from %s during work", got-before, id)
		}
	}
	if got := a.Packets(wb.You.ID, "audio"); got != audioAtA {
		t.Fatalf("Ada heard %d audio packets from Bo during work", got-audioAtA)
	}

	waitPhase(t, h, b, "closing", 10*time.Second)
	receivesFrom(t, b, "Bo", []string{wa.You.ID, wc.You.ID}, 20)

	// The host mutes Ada: only Ada's audio stops.
	c.Send(map[string]any{"type": "host", "action": "mute", "participant": wa.You.ID})
	_, err := b.ExpectWhere(h.ctx(5*time.Second), "participant", func(m testpeer.Message) bool {
		var p signaling.WireParticipant
		return m.Decode(&p) == nil && p.ID == wa.You.ID && p.Muted
	})
	if err != nil {
		t.Fatal(err)
	}
	videoAdvances(t, b, wa.You.ID, 10)
	mutedBefore := b.Packets(wa.You.ID, "audio")
	receivesFrom(t, b, "Bo", []string{wc.You.ID}, 50) // Cy is still heard
	receivesFrom(t, c, "Cy", []string{wb.You.ID}, 20) // and so is Bo
	if got := b.Packets(wa.You.ID, "audio"); got != mutedBefore {
		t.Fatalf("muted Ada was heard: %d packets", got-mutedBefore)
	}
	if v := b.Packets(wa.You.ID, "video"); v == 0 {
		t.Fatal("muting stopped video")
	}

	// The host takes the mute back: Ada is heard again, in this phase.
	c.Send(map[string]any{"type": "host", "action": "unmute", "participant": wa.You.ID})
	_, err = b.ExpectWhere(h.ctx(5*time.Second), "participant", func(m testpeer.Message) bool {
		var p signaling.WireParticipant
		return m.Decode(&p) == nil && p.ID == wa.You.ID && !p.Muted
	})
	if err != nil {
		t.Fatal(err)
	}
	receivesFrom(t, b, "Bo", []string{wa.You.ID}, 20)
}
