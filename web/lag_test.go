package web

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/signaling"
)

// Slow readers are judged by how far behind they are in time, not by how
// much one talker says (issue 11).

// bigCommit is a commitment of the most tasks of the most characters, each
// one a character JSON writes as six bytes: about 17 KB to every member.
func bigCommit(n int) map[string]any {
	tasks := make([]string, session.MaxTasks)
	for i := range tasks {
		mark := fmt.Sprintf("#%d.%d", n, i)
		tasks[i] = mark + strings.Repeat("<", session.MaxTaskLen-len(mark))
	}
	return map[string]any{"type": "commit", "tasks": tasks}
}

// talk sends a big commitment 40 times a second (within the limit of 50 a
// second) for d, and returns the number of the last one.
func talk(t *testing.T, p *testpeer.Peer, d time.Duration) int {
	t.Helper()
	tick := time.NewTicker(time.Second / 40)
	defer tick.Stop()
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
		n++
		if err := p.Send(bigCommit(n)); err != nil {
			t.Fatalf("commit %d: %v", n, err)
		}
	}
	return n
}

// countErrors counts the error messages p receives until the test ends.
func countErrors(t *testing.T, h *harness, p *testpeer.Peer) *atomic.Int32 {
	var n atomic.Int32
	go func() {
		_, _ = p.ExpectWhere(h.ctx(time.Minute), "error", func(m testpeer.Message) bool {
			n.Add(1)
			t.Logf("talker got %s", m.Raw)
			return false
		})
	}()
	return &n
}

// A member reading 16 KB/s stays in the room while one participant commits
// 40 times a second within the limits (some 700 KB/s to every member), with
// the default limits: superseded commitments are not sent, and what is sent
// is never far behind. It gets the latest word in the end.
func TestSlowReaderKeepsUpWithATalker(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	talker, tw := h.join(h.invite(sess.ID, "Talker", "").Token, testpeer.Options{})
	errs := countErrors(t, h, talker)

	const bytesPerSecond = 16 << 10
	conn := dialThrottled(t, h, h.invite(sess.ID, "Slow", "").Token, bytesPerSecond)
	var (
		latest   atomic.Int64 // the last commitment of the talker it read
		read     atomic.Int64 // bytes
		closed   = make(chan error, 1)
		started  = time.Now()
		slowID   atomic.Value
		welcomed = make(chan struct{})
	)
	go func() {
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				closed <- err
				return
			}
			read.Add(int64(len(data)))
			var m struct {
				Type string `json:"type"`
				signaling.WireParticipant
				You signaling.WireYou `json:"you"`
			}
			if json.Unmarshal(data, &m) != nil {
				continue
			}
			switch {
			case m.Type == "welcome":
				slowID.Store(m.You.ID)
				close(welcomed)
			case m.Type == "participant" && m.ID == tw.You.ID && m.Commitment != nil:
				var n int
				if _, err := fmt.Sscanf(m.Commitment.Tasks[0], "#%d.", &n); err == nil {
					latest.Store(int64(n))
				}
			}
		}
	}()
	select {
	case <-welcomed:
	case err := <-closed:
		t.Fatalf("slow member before welcome: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no welcome for the slow member")
	}

	// Longer than the lag a member may fall behind (10 s).
	last := talk(t, talker, 12*time.Second)
	eventually(t, 30*time.Second, "the slow member reads the talker's last commitment", func() bool {
		select {
		case err := <-closed:
			t.Fatalf("slow member dropped: %v (dropped as slow: %+v) after reading %d bytes in %v", err, h.srv.hub.SlowDrops(), read.Load(), time.Since(started))
		default:
		}
		return latest.Load() == int64(last)
	})
	if d := h.srv.hub.SlowDrops(); d != (signaling.SlowDrops{}) {
		t.Fatalf("clients dropped as slow: %+v", d)
	}
	if n := h.srv.hub.Present(sess.ID); n != 2 {
		t.Fatalf("present: %d, want 2", n)
	}
	if n := errs.Load(); n != 0 {
		t.Fatalf("the talker got %d errors: it was not within the limits", n)
	}
	// It really read slowly: far less than the talker said to it.
	elapsed := time.Since(started).Seconds()
	if got, said := read.Load(), int64(last)*17000; float64(got) > elapsed*bytesPerSecond+64<<10 || got*4 > said {
		t.Fatalf("the slow member read %d bytes in %.1f s of %d said", got, elapsed, said)
	}
	t.Logf("slow member %v read %d bytes in %.1f s; the talker sent %d commitments", slowID.Load(), read.Load(), elapsed, last)
}

// A member that stops reading is dropped once what waits for it has waited
// the lag, although its queue (coalesced) never reaches the backstop.
func TestStoppedReaderIsDroppedInTime(t *testing.T) {
	const lag = time.Second
	h := newHarness(t, Limits{Websocket: signaling.Limits{SendLag: lag, SendQueue: 1 << 20, SendQueueBytes: 1 << 30}})
	sess := h.runningSession(0)
	talker, _ := h.join(h.invite(sess.ID, "Talker", "").Token, testpeer.Options{})
	stopped := newSlowClient(t, h, h.invite(sess.ID, "Stopped", "").Token)
	stopped.welcomeID(t) // and reads no more
	eventually(t, 5*time.Second, "both present", func() bool { return h.srv.hub.Present(sess.ID) == 2 })

	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second / 40)
		defer tick.Stop()
		for n := 1; h.srv.hub.Present(sess.ID) == 2 && n < 40*60; n++ {
			if talker.Send(bigCommit(n)) != nil {
				return
			}
			<-tick.C
		}
	}()
	began := time.Now()
	eventually(t, lag+15*time.Second, "the member that stopped reading is dropped", func() bool {
		return h.srv.hub.Present(sess.ID) == 1
	})
	took := time.Since(began)
	<-done
	if d := h.srv.hub.SlowDrops(); d.Lag != 1 || d.Full != 0 {
		t.Fatalf("dropped as slow: %+v, want one for lag", d)
	}
	t.Logf("dropped %v after the talking began (lag %v)", took.Round(10*time.Millisecond), lag)
}
