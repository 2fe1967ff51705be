package signaling

import (
	"context"
	"testing"
	"time"
)

// A room nobody joins closes after the idle time: its goroutine ends, the
// hub forgets it and counts it, and what was parked for sessions already
// over is forgotten with it.
func TestEmptyRoomClosesAndPrunesWhatIsOver(t *testing.T) {
	h := testHub(t, &fakeStore{})
	h.cfg.IdleClose = 50 * time.Millisecond // before any room runs
	h.mu.Lock()
	h.parked["over"] = &parked{end: testNow.Add(-time.Minute)}
	h.parked["ahead"] = &parked{end: testNow.Add(time.Hour)}
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := h.roomFor(ctx, testSession("s"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		t.Fatal("the empty room never closed")
	}
	if h.Open("s") || h.IdleClosed() != 1 || !r.closedIdle {
		t.Fatalf("after the close: open %v, closed for idleness %d", h.Open("s"), h.IdleClosed())
	}
	h.mu.Lock()
	_, over := h.parked["over"]
	_, ahead := h.parked["ahead"]
	_, s := h.parked["s"] // a lobby with nobody in it knew nothing beyond the store
	h.mu.Unlock()
	if over || !ahead || s {
		t.Fatalf("parked after the close: over %v, ahead %v, s %v", over, ahead, s)
	}
	// The next join opens a fresh room.
	again, err := h.roomFor(ctx, testSession("s"))
	if err != nil || again == r || !h.Open("s") {
		t.Fatalf("room after the close: %v (the same: %v)", err, again == r)
	}
}
