package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/worktogether/worktogether/signaling"
	"html"
	"io"
	"net/http"
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	goical "github.com/emersion/go-ical"
	"github.com/google/uuid"
	"github.com/worktogether/worktogether/internal/testpeer"
	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/store"
	xhtml "golang.org/x/net/html"
)

func TestCSVCellNeutralisesFormulas(t *testing.T) {
	cases := map[string]string{
		"=1+2": "'=1+2", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"plain": "plain", "": "", "a=b": "a=b", " =x": " =x",
	}
	for in, want := range cases {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// assertInertHTML parses a page with a real HTML parser and fails when it
// runs an inline script or handler, carries a style attribute (the CSP
// refuses those on pages; mails may have them), or has an element named in
// banned (what hostile text would have made, had it not been escaped).
func assertInertHTML(t *testing.T, what, page string, banned []string) {
	inertHTML(t, what, page, banned, false)
}

func assertInertMail(t *testing.T, what, page string) {
	inertHTML(t, what, page, bannedElements, true)
}

func inertHTML(t *testing.T, what, page string, banned []string, styled bool) {
	t.Helper()
	doc, err := xhtml.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode {
			if slices.Contains(banned, n.Data) {
				t.Errorf("%s: a <%s> element from hostile text", what, n.Data)
			}
			src := ""
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") || (a.Key == "style" && !styled) {
					t.Errorf("%s: <%s %s=%q>", what, n.Data, a.Key, a.Val)
				}
				if a.Key == "src" {
					src = a.Val
				}
				if (a.Key == "href" || a.Key == "src" || a.Key == "action") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
					t.Errorf("%s: <%s %s=%q>", what, n.Data, a.Key, a.Val)
				}
			}
			if n.Data == "script" && src == "" {
				t.Errorf("%s: an inline script", what)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}

// hostileText is what an attacker (or an unlucky user) types. accepted says
// whether a one-line field of 80 characters takes it; every refused one is
// refused with invalid, never a 500.
var hostileText = []struct {
	s        string
	accepted bool
}{
	{`Jo "JJ" Smith`, true},
	{"Eve\r\nBcc: mallory@example.org", false},
	{"line\nfeed", false},
	{"nul\x00byte", false},
	{"esc \x1b[31mred\x7f", false},
	{"bidi \u202egnp.exe", false},
	{"isolate \u2067x\u2069", false},
	{"zero\u200bwidth\u200d", true},
	{`=HYPERLINK("http://evil.example","x")`, true},
	{"+1-2", true},
	{"-2+3", true},
	{"@SUM(A1:A9)", true},
	{"<script>alert(1)</script><b>bold</b>", true},
	{`<img src=x onerror="alert(1)">`, true},
	{"Zoë 👩‍💻 ✓", true},
	{`semi;colon:comma,back\slash`, true},
	{strings.Repeat("W", 300), false},
	{strings.Repeat("é", 80), true},
}

// bannedElements are what the HTML in hostileText would make unescaped.
var bannedElements = []string{"script", "b", "img"}

// trustLoopbackProxy lets a test stand for many clients: X-Forwarded-For
// from 127.0.0.1 is believed, as with -trusted-proxies 127.0.0.1/32. Set
// before the first request.
func (h *harness) trustLoopbackProxy() {
	h.srv.cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
}

// postAs posts JSON as the client at ip (through the trusted proxy).
func (h *harness) postAs(ip, path string, body any, out any) int {
	h.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", h.http.URL+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("POST %s: %d %q", path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode
}

// Every hostile name signs up or is refused; the confirmation carries none
// of it; every confirmed subscriber gets their announcement, whose header,
// calendar and HTML read back inert; text stored before input was checked
// still goes out, and the feed never fails.
func TestHostileTextThroughSignUpAndMail(t *testing.T) {
	h := newMailHarness(t)
	h.trustLoopbackProxy()
	names := map[string]string{} // address → name
	for i, c := range hostileText {
		addr := fmt.Sprintf("h%d@example.org", i)
		var e apiError
		code := h.postAs(fmt.Sprintf("198.51.100.%d", i+1), "/api/subscribe", map[string]string{"email": addr, "name": c.s}, &e)
		if !c.accepted {
			if code != http.StatusBadRequest || e.Error.Code != "invalid" {
				t.Fatalf("name %q: %d %+v", c.s, code, e)
			}
			continue
		}
		if code != http.StatusAccepted {
			t.Fatalf("name %q: %d %+v", c.s, code, e)
		}
		m := h.nextMail(addr, "Please confirm")
		to, err := mail.ParseAddress(m.Header.Get("To"))
		if err != nil || to.Name != "" || to.Address != addr {
			t.Fatalf("confirmation To %q: %+v %v", m.Header.Get("To"), to, err)
		}
		for _, part := range []string{m.Text, m.HTML, string(m.Raw)} {
			if strings.Contains(part, c.s) || strings.Contains(part, html.EscapeString(c.s)) {
				t.Fatalf("the confirmation mail to %s carries the name %q", addr, c.s)
			}
		}
		assertInertMail(t, "confirmation to "+addr, m.HTML)
		if code, _ := h.raw("POST", m.Link("/confirm?token="), "", ""); code != 200 {
			t.Fatalf("confirm %s: %d", addr, code)
		}
		names[addr] = c.s
	}

	// Refused titles, then one title with everything a title may hold.
	future := h.now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	for _, c := range hostileText {
		var e apiError
		code := h.do("POST", "/api/sessions", testHostKey, map[string]any{"title": c.s, "starts_at": future}, &e)
		if !c.accepted && (code != http.StatusBadRequest || e.Error.Code != "invalid") {
			t.Fatalf("title %q: %d %+v", c.s, code, e)
		}
		if c.accepted && code != http.StatusCreated {
			t.Fatalf("title %q: %d %+v", c.s, code, e)
		}
	}
	// Each accepted title was announced to everyone: read them all.
	accepted := 0
	for _, c := range hostileText {
		if c.accepted {
			accepted++
		}
	}
	got := map[string]int{}
	for range accepted * len(names) {
		m, err := h.smtp.Next(20 * time.Second)
		if err != nil {
			t.Fatalf("after %d announcements: %v", len(got), err)
		}
		addr := m.To[0]
		name, ok := names[addr]
		if !ok {
			t.Fatalf("mail to %s", addr)
		}
		got[addr]++
		to, err := mail.ParseAddress(m.Header.Get("To"))
		if err != nil || to.Name != name || to.Address != addr {
			t.Fatalf("announcement To %q: %+v %v, want %q", m.Header.Get("To"), to, err, name)
		}
		if !strings.Contains(m.Text, name) {
			t.Fatalf("announcement to %s does not greet %q", addr, name)
		}
		assertInertMail(t, "announcement to "+addr, m.HTML)
		assertOneEvent(t, m.Calendar, addr)
		if got[addr] == 1 {
			// Their record page shows the name, escaped.
			code, page := h.raw("GET", m.Link("/record?token="), "", "")
			if code != 200 || !strings.Contains(htmlText(t, page), "Your sessions, "+name) {
				t.Fatalf("record page of %s: %d", addr, code)
			}
			assertInertHTML(t, "record page of "+addr, page, bannedElements)
		}
	}
	for addr := range names {
		if got[addr] != accepted {
			t.Errorf("%s got %d announcements, want %d", addr, got[addr], accepted)
		}
	}

	// Text stored before input was checked: a subscriber and a title with
	// control characters still get their mail out, and the feed answers.
	ctx := context.Background()
	old := store.Subscriber{ID: uuid.NewString(), Email: "old@example.org", Name: "Old\r\nName\x00 \"Q\"", Lang: "de", TZ: "UTC"}
	if err := h.store.Subscribe(ctx, old, h.now()); err != nil {
		t.Fatal(err)
	}
	h.nextMail("old@example.org", "Bitte bestätige")
	if _, err := h.store.Confirm(ctx, old.ID, *h.srv.notify()); err != nil {
		t.Fatal(err)
	}
	sess := store.Session{ID: uuid.NewString(), Title: "Old\rtitle\nBEGIN:VEVENT", StartsAt: h.now().Add(72 * time.Hour).Truncate(time.Second),
		Plan: session.DefaultPlan(), Capacity: 5, LobbySeconds: 600, HostParticipant: uuid.NewString(), CreatedAt: h.now()}
	if err := h.store.CreateSession(ctx, sess, store.Participant{ID: sess.HostParticipant, SessionID: sess.ID, Name: "Host", Role: signaling.RoleHost}, h.srv.notify()); err != nil {
		t.Fatal(err)
	}
	h.mail.Wake()
	for range len(names) + 1 {
		m, err := h.smtp.Next(20 * time.Second)
		if err != nil {
			t.Fatalf("mails about the old title: %v", err)
		}
		assertOneEvent(t, m.Calendar, m.To[0])
		if strings.ContainsAny(m.Subject, "\r\n") {
			t.Fatalf("subject %q", m.Subject)
		}
	}
	if c := h.counts().Mail; c["failed"] != 0 {
		t.Fatalf("mails failed: %v", c)
	}
	code, feed := h.raw("GET", h.http.URL+"/sessions.ics", "", "")
	if code != 200 {
		t.Fatalf("feed: %d %s", code, feed)
	}
	cal, err := goical.NewDecoder(strings.NewReader(feed)).Decode()
	if err != nil || len(cal.Events()) != accepted+1 {
		t.Fatalf("feed: %v, want %d events\n%s", err, accepted+1, feed)
	}
	for _, ev := range cal.Events() {
		if s, err := ev.Props.Text(goical.PropSummary); err != nil || strings.ContainsAny(s, "\r\n\x00") {
			t.Fatalf("feed summary %q %v", s, err)
		}
	}
}

// assertOneEvent reads an invitation with a real iCalendar parser: one
// event, one attendee, the right address, and no line a name or title added.
func assertOneEvent(t *testing.T, raw []byte, addr string) {
	t.Helper()
	cal, err := goical.NewDecoder(bytes.NewReader(raw)).Decode()
	if err != nil {
		t.Fatalf("invitation to %s: %v\n%s", addr, err, raw)
	}
	evs := cal.Events()
	if len(evs) != 1 || len(evs[0].Props[goical.PropAttendee]) != 1 || len(evs[0].Props[goical.PropUID]) != 1 {
		t.Fatalf("invitation to %s: %d events\n%s", addr, len(evs), raw)
	}
	if att := evs[0].Props.Get(goical.PropAttendee); att.Value != "mailto:"+addr {
		t.Fatalf("invitation to %s names %s", addr, att.Value)
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(raw), "\r\n"), "\r\n") {
		if strings.ContainsAny(line, "\r\n\x00\x1b") || strings.HasPrefix(line, "BCC") {
			t.Fatalf("invitation to %s: line %q", addr, line)
		}
	}
}

// Hostile guest and invite names, tasks and notes through the API and the
// websocket: refused with invalid or kept as typed, and the summary CSV,
// read back with encoding/csv, has every formula start neutralised.
func TestHostileTextThroughTheRoom(t *testing.T) {
	h := newHarness(t, Limits{})
	h.trustLoopbackProxy()
	plan := session.Plan{{Kind: session.Commitment, Seconds: 600}, {Kind: session.Work, Seconds: 600}, {Kind: session.Closing, Seconds: 600}}
	sess := h.createSession(h.now().Add(-time.Second), plan, 50)
	u, _ := url.Parse(sess.OpenURL)
	open := u.Query().Get("t")
	var guests []inviteResponse
	for i, c := range hostileText {
		var inv inviteResponse
		code := h.postAs(fmt.Sprintf("203.0.113.%d", i+1), "/api/guest", map[string]string{"token": open, "name": c.s}, &inv)
		if c.accepted != (code == http.StatusCreated) || (!c.accepted && code != http.StatusBadRequest) {
			t.Fatalf("guest %q: %d", c.s, code)
		}
		var e apiError
		code = h.do("POST", "/api/sessions/"+sess.ID+"/invites", testHostKey, map[string]string{"name": c.s}, &e)
		if c.accepted != (code == http.StatusCreated) || (!c.accepted && e.Error.Code != "invalid") {
			t.Fatalf("invite %q: %d %+v", c.s, code, e)
		}
		if c.accepted {
			guests = append(guests, inv)
		}
	}
	host, _ := h.join(h.invite(sess.ID, "Hosting", "host").Token, testpeer.Options{})
	p, w := h.join(guests[0].Token, testpeer.Options{})
	if w.You.Name != hostileText[0].s {
		t.Fatalf("welcome name %q", w.You.Name)
	}
	var tasks []string
	for _, c := range hostileText {
		if !c.accepted {
			p.Send(map[string]any{"type": "commit", "tasks": []string{"fine", c.s}})
			msg, err := p.Expect(h.ctx(5*time.Second), "error")
			var e signaling.MsgError
			if err != nil || msg.Decode(&e) != nil || e.Code != signaling.CodeInvalid || e.Ref != "commit" {
				t.Fatalf("task %q: %v %+v", c.s, err, e)
			}
			continue
		}
		if len(tasks) < session.MaxTasks {
			tasks = append(tasks, c.s)
		}
	}
	p.Send(map[string]any{"type": "commit", "tasks": tasks})
	if _, err := p.ExpectWhere(h.ctx(5*time.Second), "participant", func(m testpeer.Message) bool {
		var wp signaling.WireParticipant
		return m.Decode(&wp) == nil && wp.ID == w.You.ID && wp.Commitment != nil && slices.Equal(wp.Commitment.Tasks, tasks)
	}); err != nil {
		t.Fatalf("commitment as typed: %v", err)
	}
	// To the closing round; a note may span lines but holds no other control.
	for range 2 {
		host.Send(map[string]any{"type": "host", "action": "advance"})
	}
	waitPhase(t, h, p, "closing", 5*time.Second)
	done := make([]bool, len(tasks))
	p.Send(map[string]any{"type": "report", "done": done, "note": "=1+1\x00"})
	if msg, err := p.Expect(h.ctx(5*time.Second), "error"); err != nil || !strings.Contains(string(msg.Raw), signaling.CodeInvalid) {
		t.Fatalf("note with NUL: %v %s", err, msg.Raw)
	}
	note := "=cmd|' /C calc'!A0\r\nsecond line <b>x</b>"
	p.Send(map[string]any{"type": "report", "done": done, "note": note})
	if _, err := p.ExpectWhere(h.ctx(5*time.Second), "participant", func(m testpeer.Message) bool {
		var wp signaling.WireParticipant
		return m.Decode(&wp) == nil && wp.ID == w.You.ID && wp.Report != nil
	}); err != nil {
		t.Fatal(err)
	}

	req, _ := http.NewRequest("GET", h.http.URL+"/api/sessions/"+sess.ID+"/summary?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+testHostKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var mine [][]string
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("a cell a spreadsheet would run: %q", cell)
			}
		}
		if row[0] == hostileText[0].s {
			mine = append(mine, row)
		}
	}
	if len(mine) != len(tasks) {
		t.Fatalf("rows of the hostile guest: %q", mine)
	}
	for i, row := range mine {
		if row[3] != csvCell(tasks[i]) || strings.TrimPrefix(row[3], "'") != tasks[i] || row[5] != "'=cmd|' /C calc'!A0\nsecond line <b>x</b>" {
			t.Errorf("row %d: %q (task %q)", i, row, tasks[i])
		}
	}
}

// htmlText is the text a reader sees in page, as an HTML parser reads it.
func htmlText(t *testing.T, page string) string {
	t.Helper()
	doc, err := xhtml.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return b.String()
}
