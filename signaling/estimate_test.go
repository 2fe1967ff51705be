package signaling

import (
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
)

// The server estimates each subscriber's own downlink from that
// subscriber's transport-wide feedback: one behind a 600 kbit/s line is
// soon known to have about that, while one on a fast line beside it is
// known to take more.
func TestEachSubscriberHasItsOwnEstimate(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	// Two publishers of the full three layers: about 1.5 Mbit/s to everyone
	// who asks for the top layer.
	for _, name := range []string{"Ada", "Bea"} {
		h.join(h.invite(sess.ID, name, "").Token, testpeer.Options{Layers: simulcastLayers(t)})
	}
	weakAPI, link, err := testpeer.ShapedAPI(testpeer.Link{Rate: 600_000, Queue: 200 * time.Millisecond, Delay: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, ww := h.joinWith(weakAPI, h.invite(sess.ID, "Weak", "").Token, testpeer.Options{})
	_, sw := h.join(h.invite(sess.ID, "Strong", "").Token, testpeer.Options{})

	estimate := func(id string) (int, bool) {
		p := h.router.PeerOf(sess.ID, id)
		if p == nil {
			return 0, false
		}
		return p.Estimate()
	}
	eventually(t, 15*time.Second, "the weak line's estimate comes down to it", func() bool {
		e, ok := estimate(ww.You.ID)
		return ok && e < 900_000
	})
	eventually(t, 10*time.Second, "the fast line's estimate stays above the weak one's line", func() bool {
		e, ok := estimate(sw.You.ID)
		return ok && e > 1_200_000
	})
	we, _ := estimate(ww.You.ID)
	se, _ := estimate(sw.You.ID)
	t.Logf("estimates: weak %d, strong %d bit/s; weak link %+v", we, se, link.LinkStats())
	if st := link.LinkStats(); st.Packets == 0 {
		t.Fatal("nothing passed the weak line")
	}
}
