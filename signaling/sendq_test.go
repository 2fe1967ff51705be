package signaling

import (
	"testing"
	"time"
)

func TestSendQueueSupersedesAndJudgesByTime(t *testing.T) {
	l := Limits{SendLag: time.Second, SendQueue: 4, SendQueueBytes: 100}
	q := newSendQueue(l)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	push := func(b, key string, at time.Time) dropReason { return q.push([]byte(b), key, at) }
	if push("a1", "participant a", t0) != keepUp || push("offer", "", t0) != keepUp || push("b1", "participant b", t0) != keepUp {
		t.Fatal("refused while nothing is late")
	}
	// a's newer word replaces the one waiting and comes after what was
	// queued since.
	if push("a2", "participant a", t0.Add(500*time.Millisecond)) != keepUp {
		t.Fatal("refused a superseding message")
	}
	var got []string
	for m, ok := q.pop(); ok; m, ok = q.pop() {
		got = append(got, string(m.b))
	}
	if want := []string{"offer", "b1", "a2"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("delivered %q, want %q", got, want)
	}
	if q.bytes != 0 || len(q.byKey) != 0 {
		t.Fatalf("empty queue holds %d bytes, %d keys", q.bytes, len(q.byKey))
	}

	// Behind in time: the oldest waiting message is older than the lag.
	push("x", "", t0)
	if r := push("y", "", t0.Add(time.Second)); r != keepUp {
		t.Fatalf("at exactly the lag: %v", r)
	}
	if r := push("z", "participant z", t0.Add(time.Second+time.Millisecond)); r != dropLag {
		t.Fatalf("past the lag: %v, want dropLag", r)
	}

	// The backstop: messages and bytes; one message alone always goes.
	q = newSendQueue(l)
	for i := range 4 {
		if push("m", "", t0) != keepUp {
			t.Fatalf("message %d refused", i)
		}
	}
	if push("m", "", t0) != dropFull {
		t.Fatal("a fifth message queued past the bound of 4")
	}
	q = newSendQueue(l)
	if push(string(make([]byte, 150)), "", t0) != keepUp {
		t.Fatal("one message over the byte bound refused alone")
	}
	if push("m", "", t0) != dropFull {
		t.Fatal("queued past the byte bound")
	}
}
