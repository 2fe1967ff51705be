package web

import (
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
)

// TestPastSessionsForTheHost ends two sessions, with commitments and
// reports, beside one running, one ahead and one cancelled: only the two
// ended ones are listed, latest first, with how they went.
func TestPastSessionsForTheHost(t *testing.T) {
	h := newHarness(t, Limits{})
	// ended runs a session that started ago with each person's tasks and
	// done flags, then ends it.
	ended := func(ago time.Duration, people ...[]bool) signaling.WireSession {
		t.Helper()
		sess := h.createSession(h.now().Add(-ago), nil, 0)
		host, _ := h.join(h.invite(sess.ID, "Host", "host").Token, testpeer.Options{})
		var peers []*testpeer.Peer
		var ids []string
		for _, done := range people {
			p, w := h.join(h.invite(sess.ID, "P", "").Token, testpeer.Options{})
			tasks := make([]string, len(done))
			for j := range tasks {
				tasks[j] = "task"
			}
			p.Send(map[string]any{"type": "commit", "tasks": tasks})
			expectRecord(t, h, host, w.You.ID, func(p signaling.WireParticipant) bool { return p.Commitment != nil })
			peers = append(peers, p)
			ids = append(ids, w.You.ID)
		}
		for host.Send(map[string]any{"type": "host", "action": "advance"}); ; host.Send(map[string]any{"type": "host", "action": "advance"}) {
			msg, err := host.Expect(h.ctx(5*time.Second), "state")
			if err != nil {
				t.Fatal(err)
			}
			var st signaling.MsgState
			msg.Decode(&st)
			if st.Phase.Kind == "closing" {
				break
			}
		}
		for i, p := range peers {
			p.Send(map[string]any{"type": "report", "done": people[i], "note": ""})
			expectRecord(t, h, host, ids[i], func(p signaling.WireParticipant) bool { return p.Report != nil })
		}
		host.Send(map[string]any{"type": "host", "action": "end"})
		waitPhase(t, h, host, "ended", 5*time.Second)
		return sess
	}
	older := ended(5*time.Minute, []bool{true})
	newer := ended(time.Minute, []bool{true, false, true}, []bool{false})
	h.runningSession(0)
	h.createSession(h.now().Add(time.Hour), nil, 0)
	gone := h.createSession(h.now().Add(-time.Minute), nil, 0)
	if code := h.do("DELETE", "/api/sessions/"+gone.ID, testHostKey, nil, nil); code != http.StatusNoContent {
		t.Fatalf("cancel: %d", code)
	}

	var list []pastSession
	if code := h.do("GET", "/api/sessions?state=ended", testHostKey, nil, &list); code != 200 || len(list) != 2 {
		t.Fatalf("past sessions: %d %+v", code, list)
	}
	if list[0].ID != newer.ID || list[1].ID != older.ID || list[0].Phase == nil || list[0].Phase.Kind != "ended" || list[0].HostURL == "" {
		t.Fatalf("order or fields: %+v", list)
	}
	if o := list[0].Outcome; o != (outcome{People: 3, taskTally: taskTally{Tasks: 4, TasksDone: 2}}) {
		t.Errorf("newer outcome %+v, want 3 people (the host too), 4 tasks, 2 done", o)
	}
	if o := list[1].Outcome; o != (outcome{People: 2, taskTally: taskTally{Tasks: 1, TasksDone: 1}}) {
		t.Errorf("older outcome %+v", o)
	}
	if code := h.do("GET", "/api/sessions?state=ended&limit=1", testHostKey, nil, &list); code != 200 || len(list) != 1 || list[0].ID != newer.ID {
		t.Fatalf("limit 1: %d %+v", code, list)
	}
	var upcoming []signaling.WireSession
	if code := h.do("GET", "/api/sessions", "", nil, &upcoming); code != 200 || len(upcoming) != 2 {
		t.Fatalf("upcoming: %d %d sessions, want the running one and the one ahead", code, len(upcoming))
	}
	for name, c := range map[string]struct {
		query, key string
		code       int
		errCode    string
	}{
		"no key":    {"state=ended", "", 401, "unauthorized"},
		"bad state": {"state=soon", testHostKey, 400, "invalid"},
		"limit 0":   {"state=ended&limit=0", testHostKey, 400, "invalid"},
		"limit big": {"state=ended&limit=101", testHostKey, 400, "invalid"},
		"limit nan": {"state=ended&limit=x", testHostKey, 400, "invalid"},
	} {
		var e apiError
		if code := h.do("GET", "/api/sessions?"+c.query, c.key, nil, &e); code != c.code || e.Error.Code != c.errCode {
			t.Errorf("%s: %d %+v", name, code, e)
		}
	}
}
