package web

import (
	"fmt"
	"github.com/worktogether/worktogether/signaling"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/worktogether/worktogether/internal/testpeer"
)

// layerLog records what one subscriber receives of one publisher's video:
// the layer each packet came from (the publisher stamps it), and whether
// the numbering stayed continuous.
type layerLog struct {
	mu       sync.Mutex
	byLayer  [3]int
	tids     [4]int
	lastSeq  uint16
	lastTS   uint32
	started  bool
	gaps     int // sequence numbers that did not follow on
	backward int // timestamps that went back
	lastAt   time.Time
}

func (l *layerLog) handler(pkt *rtp.Packet, at time.Time) {
	seq, _, ok := testpeer.ReadStamp(pkt.Payload)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if layer := testpeer.StampLayer(seq); layer < 3 {
		l.byLayer[layer]++
	}
	if len(pkt.Payload) > 5 {
		l.tids[pkt.Payload[5]>>6]++
	}
	if l.started {
		if pkt.SequenceNumber != l.lastSeq+1 {
			l.gaps++
		}
		if d := pkt.Timestamp - l.lastTS; d > 1<<31 {
			l.backward++
		}
	}
	l.started, l.lastSeq, l.lastTS, l.lastAt = true, pkt.SequenceNumber, pkt.Timestamp, at
}

// of is an OnTrack option that records what arrives of publisher's video.
func (l *layerLog) of(publisher string) func(stream, kind string) func(*rtp.Packet, time.Time) {
	return func(stream, kind string) func(*rtp.Packet, time.Time) {
		if stream == publisher && kind == "video" {
			return l.handler
		}
		return nil
	}
}

// reset forgets the counts, keeping the numbering to check continuity.
func (l *layerLog) reset() {
	l.mu.Lock()
	l.byLayer, l.tids = [3]int{}, [4]int{}
	l.mu.Unlock()
}

func (l *layerLog) snapshot() (byLayer [3]int, tids [4]int, gaps, backward int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byLayer, l.tids, l.gaps, l.backward
}

// simulcastLayers are the three layers a test publisher sends: the small
// clip twice (320×180) and the large one (640×360) on top.
func simulcastLayers(t *testing.T) [][][]byte {
	t.Helper()
	small, err := testpeer.ReadIVF(testIVF)
	if err != nil {
		t.Fatal(err)
	}
	large, err := testpeer.ReadIVF(filepath.Join("..", "testdata", "v360.ivf"))
	if err != nil {
		t.Fatal(err)
	}
	return [][][]byte{small, small, large}
}

func sendTile(t *testing.T, p *testpeer.Peer, of string, visible bool, width int, pinned bool) {
	t.Helper()
	err := p.Send(map[string]any{"type": "tiles", "tiles": []map[string]any{
		{"participant": of, "visible": visible, "width": width, "height": width * 9 / 16, "pinned": pinned},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

// onlyLayer waits until what arrives of the publisher, counted afresh, is
// from layer alone. A switch to a layer its publisher had stopped (nobody
// received it) waits for the layers message, the layer's restart and its
// keyframe: under a loaded -race run that took more than 3 s.
func onlyLayer(t *testing.T, log *layerLog, layer int, what string) {
	t.Helper()
	log.reset()
	eventually(t, 6*time.Second, what, func() bool {
		by, _, _, _ := log.snapshot()
		if by[layer] < 10 {
			return false
		}
		for i, n := range by {
			if i != layer && n > 0 {
				log.reset()
				return false
			}
		}
		return true
	})
}

func TestSimulcastTilesPickTheLayer(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	pub, pw := h.join(h.invite(sess.ID, "Ada", "").Token, testpeer.Options{Layers: simulcastLayers(t), Audio: true})
	log := &layerLog{}
	sub, _ := h.join(h.invite(sess.ID, "Bo", "").Token, testpeer.Options{OnTrack: log.of(pw.You.ID)})
	// Without a tile message Bo gets the best layer, as a v1 client would.
	onlyLayer(t, log, 2, "Bo receives Ada's top layer before saying anything")

	sendTile(t, sub, pw.You.ID, true, 200, false)
	onlyLayer(t, log, 0, "a small tile receives the low layer only")
	eventually(t, 3*time.Second, "Ada is told only her low layer is received, and stops the others", func() bool {
		return pub.Active("q") && !pub.Active("h") && !pub.Active("f")
	})
	sentF := pub.SentPackets("f")
	time.Sleep(300 * time.Millisecond) // a window in which a stopped layer must send nothing
	if got := pub.SentPackets("f"); got != sentF {
		t.Fatalf("the top layer nobody receives still sent %d packets", got-sentF)
	}

	switched := time.Now()
	sendTile(t, sub, pw.You.ID, true, 1280, false)
	onlyLayer(t, log, 2, "a large tile switches to the top layer")
	if took := time.Since(switched); took > 2*time.Second {
		t.Fatalf("the switch up took %v", took)
	}
	if _, _, gaps, backward := log.snapshot(); gaps != 0 || backward != 0 {
		t.Fatalf("across the switches: %d sequence gaps, %d timestamps back", gaps, backward)
	}

	sendTile(t, sub, pw.You.ID, false, 0, false)
	eventually(t, 3*time.Second, "a hidden tile receives no video", func() bool {
		log.mu.Lock()
		quiet := time.Since(log.lastAt) > 400*time.Millisecond
		log.mu.Unlock()
		return quiet
	})
	eventually(t, 3*time.Second, "a video nobody receives stops at its publisher", func() bool {
		return !pub.Active("q") && !pub.Active("h") && !pub.Active("f")
	})
	if n := sub.Packets(pw.You.ID, "audio"); n == 0 {
		t.Fatal("hiding the tile stopped the audio")
	}
}

func TestWorkPhaseBringsPresenceVideo(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	pub, pw := h.join(h.invite(sess.ID, "Ada", "").Token, testpeer.Options{Layers: simulcastLayers(t)})
	_ = pub
	log := &layerLog{}
	host, _ := h.join(h.invite(sess.ID, "Hal", signaling.RoleHost).Token, testpeer.Options{OnTrack: log.of(pw.You.ID)})
	sendTile(t, host, pw.You.ID, true, 1280, false)
	onlyLayer(t, log, 2, "a large tile in the commitment round gets the top layer")

	advance := func(kind string) {
		t.Helper()
		if err := host.Send(map[string]any{"type": "host", "action": "advance"}); err != nil {
			t.Fatal(err)
		}
		if _, err := host.ExpectWhere(h.ctx(5*time.Second), "state", func(m testpeer.Message) bool {
			var st signaling.MsgState
			return m.Decode(&st) == nil && st.Phase.Kind == kind
		}); err != nil {
			t.Fatal(err)
		}
	}
	advance("work")
	onlyLayer(t, log, 0, "the work phase brings the low layer")
	log.reset()
	eventually(t, 3*time.Second, "presence video: the base temporal layer only, still moving", func() bool {
		_, tids, _, _ := log.snapshot()
		return tids[0] >= 8 && tids[1] == 0 && tids[2] == 0
	})

	// A pinned tile still gets what its size asks for.
	sendTile(t, host, pw.You.ID, true, 1280, true)
	onlyLayer(t, log, 2, "a pinned tile in the work phase gets the top layer")
	sendTile(t, host, pw.You.ID, true, 1280, false)
	onlyLayer(t, log, 0, "unpinned, presence again")

	advance("break")
	onlyLayer(t, log, 2, "after the work phase the tile's own layer comes back")
	log.reset()
	eventually(t, 3*time.Second, "every temporal layer again", func() bool {
		_, tids, _, _ := log.snapshot()
		return tids[1] > 0 && tids[2] > 0
	})
	if _, _, gaps, backward := log.snapshot(); gaps != 0 || backward != 0 {
		t.Fatalf("across the phases: %d sequence gaps, %d timestamps back", gaps, backward)
	}
}

func TestFullWorkVideoKeepsLayers(t *testing.T) {
	h := newHarness(t, Limits{})
	var sess signaling.WireSession
	body := map[string]any{"title": "Full", "starts_at": h.now().Add(-time.Second).UTC().Format(time.RFC3339Nano), "work_video": "full"}
	if code := h.do("POST", "/api/sessions", testHostKey, body, &sess); code != 201 || sess.WorkVideo != "full" {
		t.Fatalf("create with work_video full: %d %+v", code, sess)
	}
	if code := h.do("POST", "/api/sessions", testHostKey, map[string]any{"title": "x", "starts_at": body["starts_at"], "work_video": "loud"}, nil); code != 400 {
		t.Fatalf("work_video loud: %d, want 400", code)
	}
	_, pw := h.join(h.invite(sess.ID, "Ada", "").Token, testpeer.Options{Layers: simulcastLayers(t)})
	log := &layerLog{}
	host, _ := h.join(h.invite(sess.ID, "Hal", signaling.RoleHost).Token, testpeer.Options{OnTrack: log.of(pw.You.ID)})
	if err := host.Send(map[string]any{"type": "host", "action": "advance"}); err != nil {
		t.Fatal(err)
	}
	onlyLayer(t, log, 2, fmt.Sprintf("session %s: full video in the work phase keeps the top layer", sess.ID))
}
