package web

import (
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
	"github.com/worktogether/worktogether/sfu"
)

// A publisher that sends about 19 Mbit/s of video (far beyond any
// browser's camera) is held to the server's per-publisher cap: what its
// subscriber receives of it stays near the cap, whole pictures are
// dropped above it, and another publisher beside it is not touched.
func TestAPublisherIsHeldToTheCap(t *testing.T) {
	const capBits = 2_000_000
	h := buildHarness(t, Limits{}, false, tuning{router: func(c *sfu.Config) { c.PublishBitrate = capBits }})
	sess := h.runningSession(0)
	frames, err := testpeer.ReadIVF(testIVF)
	if err != nil {
		t.Fatal(err)
	}
	// The clip's pictures, each padded to 80 kB: 30 a second are 19 Mbit/s.
	heavy := make([][]byte, len(frames))
	for i, f := range frames {
		heavy[i] = append(append([]byte(nil), f...), make([]byte, 80_000-len(f))...)
	}
	_, hw := h.join(h.invite(sess.ID, "Heavy", "").Token, testpeer.Options{Frames: heavy})
	if hw.PublishLimit != capBits {
		t.Errorf("welcome says the limit is %d, want %d", hw.PublishLimit, capBits)
	}
	_, nw := h.join(h.invite(sess.ID, "Normal", "").Token, media)
	sub, _ := h.join(h.invite(sess.ID, "Sub", "").Token, testpeer.Options{})
	heavyIn := func() uint64 {
		if c := sub.Received(hw.You.ID, "video"); c != nil {
			return c.Bytes.Load()
		}
		return 0
	}
	normalIn := func() uint64 { return sub.Packets(nw.You.ID, "video") }
	eventually(t, 10*time.Second, "Sub receives both", func() bool { return heavyIn() > 0 && normalIn() > 0 })

	// Past the first second's burst, in a window of 3 s.
	start := time.Now()
	eventually(t, 5*time.Second, "the first burst passes", func() bool { return time.Since(start) > 1500*time.Millisecond })
	b0, n0, t0 := heavyIn(), normalIn(), time.Now()
	eventually(t, 10*time.Second, "a window of 3 s", func() bool { return time.Since(t0) > 3*time.Second })
	rate := float64(heavyIn()-b0) * 8 / time.Since(t0).Seconds()
	t.Logf("the heavy publisher reached its subscriber at %.0f bit/s (cap %d); the normal one's packets: %d", rate, capBits, normalIn()-n0)
	if rate > capBits*1.2 {
		t.Errorf("the heavy publisher reached its subscriber at %.0f bit/s, above its cap of %d", rate, capBits)
	}
	if rate < capBits/4 {
		t.Errorf("the heavy publisher reached its subscriber at only %.0f bit/s: nothing of it passes", rate)
	}
	if normalIn()-n0 < 30 {
		t.Errorf("the normal publisher's video barely flows beside it: %d packets in 3 s", normalIn()-n0)
	}
	if st := h.router.Stats(); st.DroppedOverCap == 0 {
		t.Error("nothing counted as dropped over the cap")
	}
}
