package web

import (
	"github.com/worktogether/worktogether/signaling"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
)

func on(b *bool) bool  { return b != nil && *b }
func off(b *bool) bool { return b != nil && !*b }

// TestStatusIsRelayed: what a participant says of their mic, camera, hand
// and "be right back" reaches everyone, in participant messages and in a
// newcomer's welcome; bad status messages are refused; a phase change lowers
// hands; leaving forgets the status.
func TestStatusIsRelayed(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	host, _ := h.join(h.invite(sess.ID, "Host", "host").Token, testpeer.Options{})
	invA := h.invite(sess.ID, "Ada", "")
	a, wa := h.join(invA.Token, testpeer.Options{})
	for _, p := range wa.Participants {
		if p.ID == wa.You.ID && (p.Mic != nil || p.Camera != nil || p.Hand || p.Away) {
			t.Fatalf("a status before any was said: %+v", p)
		}
	}
	if err := a.Send(map[string]any{"type": "status", "mic": false, "camera": true, "hand": true}); err != nil {
		t.Fatal(err)
	}
	expectRecord(t, h, host, wa.You.ID, func(p signaling.WireParticipant) bool { return off(p.Mic) && on(p.Camera) && p.Hand && !p.Away })
	expectRecord(t, h, a, wa.You.ID, func(p signaling.WireParticipant) bool { return off(p.Mic) && p.Hand })

	// A newcomer finds it in the welcome.
	_, wb := h.join(h.invite(sess.ID, "Bo", "").Token, testpeer.Options{})
	found := false
	for _, p := range wb.Participants {
		if p.ID == wa.You.ID {
			found = off(p.Mic) && on(p.Camera) && p.Hand
		}
	}
	if !found {
		t.Fatalf("welcome lacks Ada's status: %+v", wb.Participants)
	}

	for _, bad := range []map[string]any{
		{"type": "status"},
		{"type": "status", "mic": "yes"},
		{"type": "status", "mic": nil},
		{"type": "status", "volume": 3},
		{"type": "status", "away": 1},
	} {
		if err := a.Send(bad); err != nil {
			t.Fatal(err)
		}
		expectErr(t, h, a, signaling.CodeBadMessage, "status")
	}

	if err := a.Send(map[string]any{"type": "status", "away": true, "camera": false}); err != nil {
		t.Fatal(err)
	}
	expectRecord(t, h, host, wa.You.ID, func(p signaling.WireParticipant) bool { return p.Away && off(p.Camera) && p.Hand })

	// The next phase lowers the hand; the rest stays.
	if err := host.Send(map[string]any{"type": "host", "action": "advance"}); err != nil {
		t.Fatal(err)
	}
	expectRecord(t, h, host, wa.You.ID, func(p signaling.WireParticipant) bool { return !p.Hand && p.Away && off(p.Mic) })

	// A flood of changes reaches the room only up to the bound; the rest is
	// refused, and the last state said is what everyone has.
	for i := 0; i < 3*signaling.StatusBurst; i++ {
		if err := a.Send(map[string]any{"type": "status", "hand": i%2 == 0}); err != nil {
			t.Fatal(err)
		}
	}
	expectErr(t, h, a, signaling.CodeRateLimited, "status")

	// Leaving forgets it: back again, nothing is said yet.
	a.Close()
	expectParticipant(t, h.ctx(5*time.Second), host, wa.You.ID, false)
	_, again := h.join(invA.Token, testpeer.Options{})
	for _, p := range again.Participants {
		if p.ID == wa.You.ID && (p.Mic != nil || p.Away || p.Hand) {
			t.Fatalf("status survived leaving: %+v", p)
		}
	}
}
