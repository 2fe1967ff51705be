package web

import (
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
)

// One participant reconnecting a hundred times, some quickly one after
// another and some only after the others receive them again, leaves every
// other member's connection about the size it was: the sections of the
// tracks that ended are reused, so the members' SDP stays within a fixed
// size, nobody is disconnected, and the last connection's media reaches
// them. (Before sections were reused, every member gained two for each
// reconnect: after a hundred, answers past 64 KiB closed the whole room.)
func TestReconnectsDoNotGrowTheOthersConnections(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	a, _ := h.join(h.invite(sess.ID, "Ada", "").Token, media)
	b, wb := h.join(h.invite(sess.ID, "Bo", "").Token, media)
	tok := h.invite(sess.ID, "Flaky", "").Token
	flaky, wf := h.join(tok, media)
	id := wf.You.ID
	seen := func(p *testpeer.Peer, kind string, more uint64) func() bool {
		from := p.Packets(id, kind)
		return func() bool { return p.Packets(id, kind) > from+more }
	}
	eventually(t, 10*time.Second, "Ada and Bo receive Flaky", func() bool {
		return a.Packets(id, "video") > 0 && b.Packets(id, "video") > 0 && a.Packets(wb.You.ID, "video") > 0
	})
	size := func(p *testpeer.Peer) (int, int) {
		return len(p.PC().RemoteDescription().SDP), len(p.PC().GetTransceivers())
	}
	sdpBefore, sectionsBefore := size(a)

	for i := range 100 {
		if i%2 == 0 {
			flaky.Close() // gone, then back
		} // else: connecting again replaces the connection
		flaky, _ = h.join(tok, media)
		if i%10 == 9 {
			eventually(t, 10*time.Second, "Ada receives Flaky's new connection", seen(a, "video", 5))
		}
	}
	aSees, bHears := seen(a, "video", 5), seen(b, "audio", 5)
	eventually(t, 10*time.Second, "Ada and Bo receive Flaky's last connection", func() bool {
		return aSees() && bHears()
	})
	sdpAfter, sectionsAfter := size(a)
	t.Logf("Ada's offer: %d bytes, %d sections before; %d bytes, %d sections after 100 reconnects", sdpBefore, sectionsBefore, sdpAfter, sectionsAfter)
	// What Ada needs now is what she had; at most the two sections of the
	// last connection but one may still be ending, and two more may be
	// free for the next.
	if sectionsAfter > sectionsBefore+4 {
		t.Errorf("Ada holds %d sections after 100 reconnects, %d before", sectionsAfter, sectionsBefore)
	}
	if sdpAfter > 2*sdpBefore {
		t.Errorf("Ada's offer grew from %d to %d bytes", sdpBefore, sdpAfter)
	}
	for _, p := range []*testpeer.Peer{a, b} {
		if err := p.Err(); err != nil || p.CloseCode.Load() != 0 {
			t.Errorf("a member was disconnected: %v (close code %d)", err, p.CloseCode.Load())
		}
	}
}
