package web

import (
	"encoding/csv"
	"github.com/worktogether/worktogether/signaling"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
	"github.com/worktogether/worktogether/session"
)

func expectErr(t *testing.T, h *harness, p *testpeer.Peer, code, ref string) {
	t.Helper()
	msg, err := p.Expect(h.ctx(5*time.Second), "error")
	if err != nil {
		t.Fatalf("waiting for error %s: %v", code, err)
	}
	var e signaling.MsgError
	if err := msg.Decode(&e); err != nil || e.Code != code || e.Ref != ref {
		t.Fatalf("got %s, want %s for %s", msg.Raw, code, ref)
	}
}

// expectRecord waits until p sees participant id with a record that check
// accepts.
func expectRecord(t *testing.T, h *harness, p *testpeer.Peer, id string, check func(signaling.WireParticipant) bool) signaling.WireParticipant {
	t.Helper()
	var got signaling.WireParticipant
	_, err := p.ExpectWhere(h.ctx(5*time.Second), "participant", func(m testpeer.Message) bool {
		return m.Decode(&got) == nil && got.ID == id && check(got)
	})
	if err != nil {
		t.Fatalf("participant %s: %v", id, err)
	}
	return got
}

func expectTurn(t *testing.T, h *harness, p *testpeer.Peer, check func(*signaling.WireTurn) bool) *signaling.WireTurn {
	t.Helper()
	var got signaling.MsgTurn
	_, err := p.ExpectWhere(h.ctx(5*time.Second), "turn", func(m testpeer.Message) bool {
		got = signaling.MsgTurn{}
		return m.Decode(&got) == nil && check(got.Turn)
	})
	if err != nil {
		t.Fatalf("turn: %v", err)
	}
	return got.Turn
}

func TestCommitmentsReportsAndTurns(t *testing.T) {
	h := newHarness(t, Limits{})
	plan := session.Plan{{Kind: session.Commitment, Seconds: 600}, {Kind: session.Work, Seconds: 600}, {Kind: session.Closing, Seconds: 600}}
	sess := h.createSession(h.now().Add(time.Hour), plan, 0)
	host, _ := h.join(h.invite(sess.ID, "Hosting", "host").Token, testpeer.Options{})
	invA := h.invite(sess.ID, "Ada", "")
	a, wa := h.join(invA.Token, testpeer.Options{})
	b, wb := h.join(h.invite(sess.ID, "Bo", "").Token, testpeer.Options{})
	ada, bo := wa.You.ID, wb.You.ID

	// Lobby: commitments may be made early; bad ones are refused.
	a.Send(map[string]any{"type": "commit", "tasks": []string{"outline chapter 3", " reply to Jo "}})
	got := expectRecord(t, h, b, ada, func(p signaling.WireParticipant) bool { return p.Commitment != nil })
	if got.Commitment.Tasks[1] != "reply to Jo" {
		t.Fatalf("commitment %+v", got.Commitment)
	}
	a.Send(map[string]any{"type": "commit", "tasks": make([]string, 11)})
	expectErr(t, h, a, signaling.CodeInvalid, "commit")
	a.Send(map[string]any{"type": "commit", "tasks": "not a list"})
	expectErr(t, h, a, signaling.CodeBadMessage, "commit")
	a.Send(map[string]any{"type": "report", "done": []bool{true, true}})
	expectErr(t, h, a, signaling.CodeNotAllowed, "report")
	a.Send(map[string]any{"type": "pass"})
	expectErr(t, h, a, signaling.CodeNotAllowed, "pass")

	// Commitment round: the speaking order is everyone present, in order.
	host.Send(map[string]any{"type": "host", "action": "advance"})
	turn := expectTurn(t, h, b, func(tr *signaling.WireTurn) bool { return tr != nil })
	if len(turn.Order) != 3 || turn.Order[1] != ada || turn.Speaker != turn.Order[0] || turn.Seconds != 200 {
		t.Fatalf("turn %+v", turn)
	}
	b.Send(map[string]any{"type": "pass"}) // not Bo's turn
	expectErr(t, h, b, signaling.CodeNotAllowed, "pass")
	host.Send(map[string]any{"type": "pass"})
	expectTurn(t, h, b, func(tr *signaling.WireTurn) bool { return tr != nil && tr.Speaker == ada })
	a.Send(map[string]any{"type": "pass"}) // Ada is done speaking
	expectTurn(t, h, b, func(tr *signaling.WireTurn) bool { return tr != nil && tr.Speaker == bo })
	b.Send(map[string]any{"type": "commit", "tasks": []string{"fix the invoice bug"}})
	expectRecord(t, h, a, bo, func(p signaling.WireParticipant) bool { return p.Commitment != nil })

	// Work: no commitments, no reports; the round is over.
	host.Send(map[string]any{"type": "host", "action": "advance"})
	expectTurn(t, h, a, func(tr *signaling.WireTurn) bool { return tr == nil })
	a.Send(map[string]any{"type": "commit", "tasks": []string{"sneaky"}})
	expectErr(t, h, a, signaling.CodeNotAllowed, "commit")

	// Closing: reports, one flag per task.
	host.Send(map[string]any{"type": "host", "action": "advance"})
	expectTurn(t, h, a, func(tr *signaling.WireTurn) bool { return tr != nil })
	a.Send(map[string]any{"type": "report", "done": []bool{true}, "note": "half"})
	expectErr(t, h, a, signaling.CodeInvalid, "report")
	a.Send(map[string]any{"type": "report", "done": []bool{true, false}, "note": "Jo can wait", "extra": 1})
	expectErr(t, h, a, signaling.CodeBadMessage, "report")
	a.Send(map[string]any{"type": "report", "done": []bool{true, false}, "note": "Jo can wait"})
	rep := expectRecord(t, h, b, ada, func(p signaling.WireParticipant) bool { return p.Report != nil })
	if !rep.Report.Done[0] || rep.Report.Done[1] || rep.Report.Note != "Jo can wait" {
		t.Fatalf("report %+v", rep.Report)
	}

	// Ada reconnects: her commitment and report are there, as everyone's.
	a.Close()
	a2, wa2 := h.join(invA.Token, testpeer.Options{})
	_ = a2
	for _, p := range wa2.Participants {
		if p.ID == ada && (p.Commitment == nil || p.Report == nil || p.Report.Note != "Jo can wait") {
			t.Fatalf("Ada after reconnect: %+v", p)
		}
		if p.ID == bo && (p.Commitment == nil || p.Commitment.Tasks[0] != "fix the invoice bug" || p.Report != nil) {
			t.Fatalf("Bo seen by Ada after reconnect: %+v", p)
		}
	}
	if wa2.Turn == nil {
		t.Fatal("welcome in the closing round carries no speaking order")
	}

	// The host's summary, as JSON and as CSV; Ada's own view of it.
	var sum summaryResponse
	if code := h.do("GET", "/api/sessions/"+sess.ID+"/summary", testHostKey, nil, &sum); code != 200 || len(sum.Participants) != 3 || len(sum.Phases) != 3 {
		t.Fatalf("summary: %d %+v", code, sum)
	}
	if code := h.do("GET", "/api/sessions/"+sess.ID+"/summary", "", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("summary without key: %d", code)
	}
	req, _ := http.NewRequest("GET", h.http.URL+"/api/sessions/"+sess.ID+"/summary?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+testHostKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(rows) != 5 || rows[2][0] != "Ada" || rows[2][3] != "outline chapter 3" || rows[2][4] != "true" ||
		rows[3][4] != "false" || rows[3][5] != "Jo can wait" {
		t.Fatalf("csv %q %v", rows, err)
	}

	host.Send(map[string]any{"type": "host", "action": "end"})
	waitPhase(t, h, b, "ended", 5*time.Second)
	var me meResponse
	if code := h.do("GET", "/api/me?t="+invA.Token, "", nil, &me); code != 200 || me.Session.Phase.Kind != "ended" ||
		me.Commitment == nil || me.Report == nil || !me.Report.Done[0] {
		t.Fatalf("Ada's look back after the end: %d %+v", code, me)
	}
	refusedWith(t, h, h.wsURL(invA.Token), http.StatusUnauthorized)
}

// TestActionsPerPhaseAndRole walks a session through every phase and tries
// every room action in each, as a participant and as a host.
func TestActionsPerPhaseAndRole(t *testing.T) {
	h := newHarness(t, Limits{})
	plan := session.Plan{{Kind: session.Commitment, Seconds: 600}, {Kind: session.Work, Seconds: 600},
		{Kind: session.Break, Seconds: 600}, {Kind: session.Closing, Seconds: 600}}
	sess := h.createSession(h.now().Add(time.Hour), plan, 0)
	host, _ := h.join(h.invite(sess.ID, "Hosting", "host").Token, testpeer.Options{})
	part, wp := h.join(h.invite(sess.ID, "Ada", "").Token, testpeer.Options{})
	ada := wp.You.ID

	type action struct {
		name    string
		by      *testpeer.Peer
		msg     map[string]any
		ref     string
		allowed map[string]bool // phases where it is allowed
		ok      func(ph string) // waits for the sign that it took effect
	}
	all := map[string]bool{"lobby": true, "commitment": true, "work": true, "break": true, "closing": true}
	actions := []action{
		{name: "participant commits", by: part, ref: "commit", allowed: map[string]bool{"lobby": true, "commitment": true},
			ok: func(ph string) {
				expectRecord(t, h, host, ada, func(p signaling.WireParticipant) bool {
					return p.Commitment != nil && p.Commitment.Tasks[0] == "task in "+ph
				})
			}},
		{name: "participant reports", by: part, ref: "report", msg: map[string]any{"type": "report", "done": []bool{true}, "note": "done"},
			allowed: map[string]bool{"closing": true},
			ok: func(string) {
				expectRecord(t, h, host, ada, func(p signaling.WireParticipant) bool { return p.Report != nil })
			}},
		{name: "participant advances", by: part, ref: "host", msg: map[string]any{"type": "host", "action": "advance"}, allowed: map[string]bool{}},
		{name: "participant mutes", by: part, ref: "host", msg: map[string]any{"type": "host", "action": "mute", "participant": ada}, allowed: map[string]bool{}},
		{name: "host extends", by: host, ref: "host", msg: map[string]any{"type": "host", "action": "extend", "seconds": 60},
			allowed: map[string]bool{"commitment": true, "work": true, "break": true, "closing": true},
			ok:      func(ph string) { waitPhase(t, h, host, ph, 5*time.Second) }},
		{name: "host mutes", by: host, ref: "host", msg: map[string]any{"type": "host", "action": "mute", "participant": ada}, allowed: all,
			ok: func(string) {
				expectRecord(t, h, host, ada, func(p signaling.WireParticipant) bool { return p.Muted })
			}},
		{name: "participant unmutes", by: part, ref: "host", msg: map[string]any{"type": "host", "action": "unmute", "participant": ada}, allowed: map[string]bool{}},
		{name: "host unmutes", by: host, ref: "host", msg: map[string]any{"type": "host", "action": "unmute", "participant": ada}, allowed: all,
			ok: func(string) {
				expectRecord(t, h, host, ada, func(p signaling.WireParticipant) bool { return !p.Muted })
			}},
	}
	for i, ph := range []string{"lobby", "commitment", "work", "break", "closing"} {
		if i > 0 {
			host.Send(map[string]any{"type": "host", "action": "advance"})
			waitPhase(t, h, part, ph, 5*time.Second)
			waitPhase(t, h, host, ph, 5*time.Second)
		}
		for _, a := range actions {
			msg := a.msg
			if a.ref == "commit" {
				msg = map[string]any{"type": "commit", "tasks": []string{"task in " + ph}}
			}
			if err := a.by.Send(msg); err != nil {
				t.Fatal(err)
			}
			if a.allowed[ph] {
				a.ok(ph)
			} else {
				expectErr(t, h, a.by, signaling.CodeNotAllowed, a.ref)
			}
		}
	}
}
