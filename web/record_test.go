package web

import (
	"encoding/json"
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
	"github.com/worktogether/worktogether/session"
)

// TestSubscriberRecord follows the record link of a real mail: empty before
// the subscriber joins anything; after a whole session joined with the mail's
// link, that session with what they committed to and what got done, and
// nothing of sessions they did not join or of other people.
func TestSubscriberRecord(t *testing.T) {
	h := newMailHarness(t)
	const addr = "cy@example.org"
	h.subscribed(addr)
	plan := session.Plan{{Kind: session.Commitment, Seconds: 600}, {Kind: session.Work, Seconds: 600}, {Kind: session.Closing, Seconds: 600}}
	sess := h.createSession(h.now().Add(5*time.Minute), plan, 0)
	ann := h.nextMail(addr, "New Worktogether")
	recordLink := ann.Link("/record?token=")
	join := ann.Link("/s/" + sess.ID + "?")
	if recordLink == "" || join == "" || !strings.Contains(ann.HTML, `href="`+strings.ReplaceAll(recordLink, "&", "&amp;")+`"`) {
		t.Fatalf("announcement lacks the record or join link:\n%s", ann.Text)
	}
	apiLink := strings.Replace(recordLink, "/record?", "/api/record?", 1)
	get := func(link string) (int, recordResponse) {
		t.Helper()
		code, body := h.raw("GET", link, "", "")
		var rec recordResponse
		if code == 200 {
			if err := json.Unmarshal([]byte(body), &rec); err != nil {
				t.Fatalf("record JSON: %v\n%s", err, body)
			}
		}
		return code, rec
	}

	// Nothing joined yet.
	if code, rec := get(apiLink); code != 200 || rec.Name != "Cy" || rec.Timezone != "America/New_York" || len(rec.Sessions) != 0 || rec.Totals != (recordTotals{}) {
		t.Fatalf("empty record: %d %+v", code, rec)
	}
	if code, body := h.raw("GET", recordLink, "", ""); code != 200 || !strings.Contains(body, "Once you join a session") {
		t.Fatalf("empty record page: %d\n%s", code, body)
	}
	// A second session, announced but never joined, stays out.
	h.createSession(h.now().Add(48*time.Hour), plan, 0)
	h.nextMail(addr, "New Worktogether")

	// The whole session, joined with the mail's link; Bo is invited by the host.
	hostInv, boInv := h.invite(sess.ID, "Hosting", "host"), h.invite(sess.ID, "Bo", "")
	host, _ := h.join(hostInv.Token, testpeer.Options{})
	jt, _ := url.Parse(join)
	cy, wc := h.join(jt.Query().Get("t"), testpeer.Options{})
	bo, _ := h.join(boInv.Token, testpeer.Options{})
	// The room page learns where the mail's link holder's record is; an
	// invitee has none.
	var me, boMe meResponse
	if code := h.do("GET", "/api/me?t="+url.QueryEscape(jt.Query().Get("t")), "", nil, &me); code != 200 || me.RecordURL != recordLink {
		t.Fatalf("me for the mail's link: %d record_url %q, want %q", code, me.RecordURL, recordLink)
	}
	if code := h.do("GET", "/api/me?t="+url.QueryEscape(boInv.Token), "", nil, &boMe); code != 200 || boMe.RecordURL != "" {
		t.Fatalf("me for an invite: %d record_url %q", code, boMe.RecordURL)
	}
	cy.Send(map[string]any{"type": "commit", "tasks": []string{"write the intro", "send <the> invoice"}})
	expectRecord(t, h, host, wc.You.ID, func(p signaling.WireParticipant) bool { return p.Commitment != nil })
	bo.Send(map[string]any{"type": "commit", "tasks": []string{"Bo's own task"}})
	host.Send(map[string]any{"type": "host", "action": "advance"}) // commitment round
	waitPhase(t, h, cy, "commitment", 5*time.Second)

	// While the session runs, it is there, not ended, nothing reported yet.
	if code, rec := get(apiLink); code != 200 || len(rec.Sessions) != 1 || rec.Sessions[0].Ended || rec.Sessions[0].Report != nil ||
		rec.Totals != (recordTotals{Sessions: 1, taskTally: taskTally{Tasks: 2}}) {
		t.Fatalf("record during the session: %d %+v", code, rec)
	}

	host.Send(map[string]any{"type": "host", "action": "advance"}) // work
	waitPhase(t, h, cy, "work", 5*time.Second)
	host.Send(map[string]any{"type": "host", "action": "advance"}) // closing
	waitPhase(t, h, cy, "closing", 5*time.Second)
	cy.Send(map[string]any{"type": "report", "done": []bool{true, false}, "note": "intro done, invoice tomorrow"})
	expectRecord(t, h, host, wc.You.ID, func(p signaling.WireParticipant) bool { return p.Report != nil })
	host.Send(map[string]any{"type": "host", "action": "end"})
	waitPhase(t, h, cy, "ended", 5*time.Second)

	code, rec := get(apiLink)
	if code != 200 || len(rec.Sessions) != 1 {
		t.Fatalf("record after the session: %d %+v", code, rec)
	}
	got := rec.Sessions[0]
	if got.ID != sess.ID || got.Title != "Test session" || !got.Ended || !got.StartsAt.Equal(sess.StartsAt) ||
		got.Commitment == nil || len(got.Commitment.Tasks) != 2 || got.Commitment.Tasks[1] != "send <the> invoice" ||
		got.Report == nil || !got.Report.Done[0] || got.Report.Done[1] || got.Report.Note != "intro done, invoice tomorrow" {
		t.Fatalf("session in the record: %+v", got)
	}
	if rec.Totals != (recordTotals{Sessions: 1, taskTally: taskTally{Tasks: 2, TasksDone: 1}}) {
		t.Fatalf("totals %+v", rec.Totals)
	}
	code, page := h.raw("GET", recordLink, "", "")
	for _, want := range []string{"Your sessions, Cy", "1 session · 1 of 2 tasks done", "✓ write the intro", "○ send &lt;the&gt; invoice",
		"intro done, invoice tomorrow", "(America/New York)", `<html lang="en">`} {
		if !strings.Contains(page, want) {
			t.Errorf("record page lacks %q", want)
		}
	}
	if code != 200 || strings.Contains(page, "Bo&#39;s own task") || strings.Contains(page, "send <the>") {
		t.Fatalf("record page: %d\n%s", code, page)
	}

	// Refused links: tampered, missing, or another link's token.
	tok, _ := url.Parse(recordLink)
	raw := tok.Query().Get("token")
	unsub := strings.Trim(ann.Header.Get("List-Unsubscribe"), "<>")
	unsubTok, _ := url.Parse(unsub)
	for name, q := range map[string]string{
		"tampered":          raw[:len(raw)-2] + "AA",
		"missing":           "",
		"unsubscribe token": unsubTok.Query().Get("token"),
	} {
		var e apiError
		if code := h.do("GET", "/api/record?token="+url.QueryEscape(q), "", nil, &e); code != 400 || e.Error.Code != "invalid_token" {
			t.Errorf("%s: %d %+v", name, code, e)
		}
		if code, body := h.raw("GET", h.http.URL+"/record?token="+url.QueryEscape(q), "", ""); code != 400 || !strings.Contains(body, "not valid") {
			t.Errorf("%s page: %d", name, code)
		}
		if code := h.do("DELETE", "/api/record?token="+url.QueryEscape(q), "", nil, nil); code != 400 {
			t.Errorf("%s delete: %d", name, code)
		}
	}

	// Cy asks to be forgotten: the record page links to it, opening the link
	// only asks, the button deletes.
	forget := h.http.URL + "/forget?token=" + url.QueryEscape(raw)
	if !strings.Contains(page, `href="/forget?token=`) {
		t.Fatal("the record page does not offer deletion")
	}
	if code, body := h.raw("GET", forget, "", ""); code != 200 || !strings.Contains(body, "Delete everything") {
		t.Fatalf("forget page: %d", code)
	}
	if code, _ := get(apiLink); code != 200 {
		t.Fatal("opening the forget link deleted something")
	}
	if code, body := h.raw("POST", forget, "", ""); code != 200 || !strings.Contains(body, "deleted") {
		t.Fatalf("forget: %d %s", code, body)
	}
	if c := h.counts().Subscribers; c["confirmed"] != 0 || c["pending"] != 0 || c["unsubscribed"] != 0 {
		t.Fatalf("subscribers after forgetting: %v", c)
	}
	if code, _ := get(apiLink); code != 404 {
		t.Fatalf("record after forgetting: %d", code)
	}
	var sum summaryResponse
	if code := h.do("GET", "/api/sessions/"+sess.ID+"/summary", testHostKey, nil, &sum); code != 200 || len(sum.Participants) != 2 {
		t.Fatalf("summary after forgetting Cy: %d %+v", code, sum.Participants)
	}
	for _, p := range sum.Participants {
		if p.ID == wc.You.ID {
			t.Fatal("Cy is still in the host's summary")
		}
	}
	var e apiError
	if code := h.do("GET", "/api/me?t="+url.QueryEscape(jt.Query().Get("t")), "", nil, &e); code != 401 || !strings.Contains(e.Error.Message, "no longer valid") {
		t.Fatalf("the mail's join link after forgetting: %d %+v", code, e)
	}
	if code, _ := h.raw("POST", forget, "", ""); code != 404 {
		t.Fatalf("forgetting twice: %d", code)
	}
	if code := h.do("DELETE", "/api/record?token="+url.QueryEscape(raw), "", nil, nil); code != 404 {
		t.Fatalf("DELETE after forgetting: %d", code)
	}

	// The same through the API, for Dee.
	h.subscribed("dee@example.org")
	h.createSession(h.now().Add(72*time.Hour), plan, 0)
	deeLink, _ := url.Parse(h.nextMail("dee@example.org", "New Worktogether").Link("/record?token="))
	if code := h.do("DELETE", "/api/record?token="+url.QueryEscape(deeLink.Query().Get("token")), "", nil, nil); code != http.StatusNoContent {
		t.Fatalf("DELETE /api/record: %d", code)
	}
	if c := h.counts().Subscribers; c["confirmed"] != 0 {
		t.Fatalf("subscribers after Dee's DELETE: %v", c)
	}
}
