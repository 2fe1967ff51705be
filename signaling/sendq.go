package signaling

import (
	"container/list"
	"sync"
	"time"
)

// sendQueue holds what the server has for one client and has not written
// yet. It judges a slow client by time: a client is too slow once the
// oldest message waiting for it has waited longer than the lag it may fall
// behind (Limits.SendLag). Its length and bytes are bounded too, as a hard
// backstop, sized well above what a room sends a client within that lag.
//
// A message that only says how something is now (a participant, the
// session's state, the speaking turn) replaces an earlier one about the
// same thing still waiting: that one is taken out and the new one queued
// last. A reader that cannot keep up with one talker gets the latest word
// of that talker, not every word, and still sees everything else in the
// order it happened.
type sendQueue struct {
	limits Limits
	wake   chan struct{} // one token: something was queued

	mu    sync.Mutex
	items list.List // of *queued, oldest first
	byKey map[string]*list.Element
	bytes int
}

// queued is one message waiting: what to write, what it supersedes (key,
// "" for nothing), and since when the client has been owed it.
type queued struct {
	b   []byte
	key string
	at  time.Time
}

// dropReason says why a client was dropped as too slow.
type dropReason int

const (
	keepUp   dropReason = iota // not dropped
	dropLag                    // its oldest message waited too long
	dropFull                   // its queue reached the backstop
)

func newSendQueue(l Limits) *sendQueue {
	return &sendQueue{limits: l, wake: make(chan struct{}, 1), byKey: make(map[string]*list.Element)}
}

// push queues b, replacing the waiting message of the same key if there is
// one. It says whether the client is too slow to keep.
func (q *sendQueue) push(b []byte, key string, now time.Time) dropReason {
	q.mu.Lock()
	defer q.mu.Unlock()
	if front := q.items.Front(); front != nil && now.Sub(front.Value.(*queued).at) > q.limits.SendLag {
		return dropLag
	}
	if e := q.byKey[key]; key != "" && e != nil {
		q.bytes -= len(e.Value.(*queued).b)
		q.items.Remove(e)
		delete(q.byKey, key)
	}
	n := q.items.Len()
	if n >= q.limits.SendQueue || (n > 0 && q.bytes+len(b) > q.limits.SendQueueBytes) {
		return dropFull // one message alone is always let through
	}
	e := q.items.PushBack(&queued{b: b, key: key, at: now})
	if key != "" {
		q.byKey[key] = e
	}
	q.bytes += len(b)
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return keepUp
}

// pop takes the oldest message; false when none waits.
func (q *sendQueue) pop() (queued, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	e := q.items.Front()
	if e == nil {
		return queued{}, false
	}
	q.items.Remove(e)
	m := e.Value.(*queued)
	if m.key != "" {
		delete(q.byKey, m.key)
	}
	q.bytes -= len(m.b)
	return *m, true
}

// len is how many messages wait.
func (q *sendQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.items.Len()
}

// supersedes is the key under which a later message replaces v while v
// still waits, or "" when every one must be delivered.
func supersedes(v any) string {
	switch m := v.(type) {
	case msgParticipant:
		return "participant " + m.ID
	case MsgState:
		return "state"
	case MsgTurn:
		return "turn"
	}
	return ""
}
