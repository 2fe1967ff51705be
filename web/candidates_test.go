package web

import (
	"fmt"
	"github.com/worktogether/worktogether/signaling"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
)

// A client that trickles 150 candidates naming other hosts' ports (here:
// 150 sockets of the test's own, which count what reaches them) gets the
// server to probe at most the first few: past the cap each is refused with
// an error, and only the capped number of ports ever hear from the server.
func TestTrickledCandidatesAreCapped(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	// Its own candidates held back: the server has only the others to try.
	p, _ := h.join(h.invite(sess.ID, "Ada", "").Token, testpeer.Options{HoldICE: 10 * time.Second})
	if _, err := p.Expect(h.ctx(5*time.Second), "offer"); err != nil {
		t.Fatal(err)
	}
	const victims = 150
	var reached atomic.Int32
	var wg sync.WaitGroup
	window := time.Now().Add(4 * time.Second)
	lines := make([]string, victims)
	for i := range victims {
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		lines[i] = fmt.Sprintf("candidate:%d 1 udp 2130706431 127.0.0.1 %d typ host", i+1, conn.LocalAddr().(*net.UDPAddr).Port)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = conn.SetReadDeadline(window)
			if _, _, err := conn.ReadFrom(make([]byte, 1500)); err == nil {
				reached.Add(1)
			}
		}()
	}
	for _, l := range lines {
		if err := p.Send(map[string]any{"type": "candidate", "candidate": map[string]any{"candidate": l, "sdpMid": "0", "sdpMLineIndex": 0}}); err != nil {
			t.Fatal(err)
		}
	}
	refused := 0
	for refused < victims-32 {
		m, err := p.ExpectWhere(h.ctx(5*time.Second), "error", nil)
		if err != nil {
			t.Fatalf("after %d refusals: %v", refused, err)
		}
		var e signaling.MsgError
		if m.Decode(&e) == nil && e.Ref == "candidate" && e.Code == signaling.CodeInvalid {
			refused++
		}
	}
	wg.Wait() // until each port heard something, or the window closed
	n := reached.Load()
	t.Logf("%d of %d ports heard from the server; %d candidates refused", n, victims, refused)
	if n == 0 {
		t.Fatal("no port heard from the server: the test shows nothing")
	}
	if n > 32 {
		t.Errorf("%d ports heard from the server, more than the cap of 32 candidates", n)
	}
}
