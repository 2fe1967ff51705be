package web

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/worktogether/worktogether/internal/testpeer"
)

// seqLog keeps the first and last RTP sequence number and timestamp of
// each participant's video as a slot subscriber receives it.
type seqLog struct {
	mu                     sync.Mutex
	first, last            map[string]uint16
	firstTS, lastTS        map[string]uint32
	backwards, outOfSeries int // packets numbered before the last, or after a gap
}

func newSeqLog() *seqLog {
	return &seqLog{first: map[string]uint16{}, last: map[string]uint16{}, firstTS: map[string]uint32{}, lastTS: map[string]uint32{}}
}

func (l *seqLog) onTrack(id, kind string) func(*rtp.Packet, time.Time) {
	if kind != "video" {
		return nil
	}
	return func(p *rtp.Packet, _ time.Time) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if last, ok := l.last[id]; ok {
			if d := int16(p.SequenceNumber - last); d <= 0 {
				l.backwards++
			} else if d > 1 {
				l.outOfSeries++
			}
		} else {
			l.first[id], l.firstTS[id] = p.SequenceNumber, p.Timestamp
		}
		l.last[id], l.lastTS[id] = p.SequenceNumber, p.Timestamp
	}
}

func (l *seqLog) get(id string) (first, last uint16, firstTS, lastTS uint32, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok = l.first[id]
	return l.first[id], l.last[id], l.firstTS[id], l.lastTS[id], ok
}

// A subscriber that asks for two video slots in a room of three
// publishers gets one offer, at its join, and never another: it receives
// the two publishers it shows, audio of all three in its audio slots, and
// when it hides one tile and shows another the slot carries the new
// publisher on as one stream (sequence numbers and timestamps continue).
// Others joining and leaving change nothing in its connection.
func TestSlotsCarryWhatTheTilesShowWithoutRenegotiating(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	var pubs []string
	var peers []*testpeer.Peer
	for i, name := range []string{"Ada", "Bo", "Cy"} {
		p, w := h.join(h.invite(sess.ID, name, "").Token, media)
		pubs, peers = append(pubs, w.You.ID), append(peers, p)
		// Slots go by who published first: each publishes before the next
		// joins (a track is published when its first packet arrives).
		eventually(t, 10*time.Second, name+" publishes", func() bool { return h.router.Stats().Tracks == 2*(i+1) })
	}
	log := newSeqLog()
	sub, _ := h.join(h.invite(sess.ID, "Slots", "").Token, testpeer.Options{Slots: 2, OnTrack: log.onTrack})
	ada, bo, cy := pubs[0], pubs[1], pubs[2]

	seen := ""
	eventually(t, 10*time.Second, "the first two publishers' video and everyone's audio arrive", func() bool {
		has := func(id, kind string) bool { return sub.Packets(id, kind) > 0 }
		now := fmt.Sprint("video ", has(ada, "video"), has(bo, "video"), ", audio ", has(ada, "audio"), has(bo, "audio"), has(cy, "audio"), ", slots ", sub.SlotOwners())
		if now != seen {
			seen = now
			t.Log(now)
		}
		return has(ada, "video") && has(bo, "video") && has(ada, "audio") && has(bo, "audio") && has(cy, "audio")
	})
	if n := sub.Packets(cy, "video"); n != 0 {
		t.Fatalf("a third video arrived in two slots (%d packets)", n)
	}
	sections := len(sub.PC().RemoteDescription().SDP)

	// Hide Ada, show Cy: Ada's slot carries Cy.
	if err := sub.Send(map[string]any{"type": "tiles", "tiles": []map[string]any{
		{"participant": ada, "visible": false}, {"participant": cy, "visible": true, "width": 320, "height": 180},
	}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "Cy's video arrives in Ada's slot", func() bool { return sub.Packets(cy, "video") > 20 })
	adaPackets := sub.Packets(ada, "video")
	_, adaLast, _, adaLastTS, _ := log.get(ada)
	cyFirst, _, cyFirstTS, _, _ := log.get(cy)
	if cyFirst != adaLast+1 {
		t.Errorf("the slot's numbering jumped from Ada's last %d to Cy's first %d", adaLast, cyFirst)
	}
	// On by the time between the two (Cy's clip has a keyframe every few
	// seconds, what the switch waits for), never back.
	if d := int32(cyFirstTS - adaLastTS); d <= 0 || d > 90000*10 {
		t.Errorf("the slot's timestamps went from %d to %d (%d ticks)", adaLastTS, cyFirstTS, d)
	}

	// Churn: someone joins and leaves five times.
	for range 5 {
		p, _ := h.join(h.invite(sess.ID, "Churn", "").Token, media)
		p.Close()
	}
	owners := func() map[string]bool {
		out := map[string]bool{}
		for _, id := range sub.SlotOwners() {
			out[id] = true
		}
		return out
	}
	if got := sub.Packets(ada, "video"); got > adaPackets+1 {
		t.Errorf("Ada's video went on after her tile was hidden (%d more packets)", got-adaPackets)
	}
	if n := sub.Answers(); n != 1 {
		t.Errorf("the slot subscriber answered %d offers; slots need one", n)
	}
	if n := len(sub.PC().RemoteDescription().SDP); n != sections {
		t.Errorf("its offer changed size from %d to %d bytes", sections, n)
	}
	if !owners()[bo] || !owners()[cy] {
		t.Errorf("slots carry %v, want Bo and Cy", sub.SlotOwners())
	}
	log.mu.Lock()
	backwards, gaps := log.backwards, log.outOfSeries
	log.mu.Unlock()
	if backwards > 0 || gaps > 2 {
		t.Errorf("in the slots %d packets went backwards and %d came after a gap", backwards, gaps)
	}

	// A publisher in a slot leaves: the slot is emptied, and says so.
	peers[1].Close()
	eventually(t, 5*time.Second, "Bo's slot is emptied", func() bool { return !owners()[bo] })
	if n := sub.Answers(); n != 1 {
		t.Errorf("after a leave the slot subscriber had answered %d offers", n)
	}
}

// Slot counts out of bounds are refused before the websocket opens.
func TestSlotsOutOfBoundsAreRefused(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(0)
	for _, q := range []string{"video_slots=0", "video_slots=abc", "video_slots=65", "audio_slots=2", "video_slots=4&audio_slots=17"} {
		tok := h.invite(sess.ID, "Bad", "").Token
		_, err := testpeer.Dial(context.Background(), h.api, h.wsURL(tok)+"&"+q, testpeer.Options{})
		var refused testpeer.ErrRefused
		if !errors.As(err, &refused) || refused.Status != 400 {
			t.Errorf("%s: %v, want a 400", q, err)
		}
	}
}
