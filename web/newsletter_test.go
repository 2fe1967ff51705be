package web

import (
	"bytes"
	"context"
	"github.com/worktogether/worktogether/signaling"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/worktogether/worktogether/internal/smtptest"
	"github.com/worktogether/worktogether/internal/testpeer"
)

// raw sends a request and returns the status and body.
func (h *harness) raw(method, link, contentType, body string) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, link, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) counts() subscribersResponse {
	h.t.Helper()
	var out subscribersResponse
	if code := h.do("GET", "/api/subscribers", testHostKey, nil, &out); code != 200 {
		h.t.Fatalf("subscribers: %d", code)
	}
	return out
}

// nextMail waits for the next mail and checks it is for to.
func (h *harness) nextMail(to, subjectHas string) *smtptest.Mail {
	h.t.Helper()
	m, err := h.smtp.Next(10 * time.Second)
	if err != nil {
		h.t.Fatalf("waiting for %q: %v", subjectHas, err)
	}
	if len(m.To) != 1 || m.To[0] != to || !strings.Contains(m.Subject, subjectHas) {
		h.t.Fatalf("got mail %q to %v, want %q to %s", m.Subject, m.To, subjectHas, to)
	}
	if m.Text == "" || m.HTML == "" {
		h.t.Fatalf("mail %q lacks a text or HTML part", m.Subject)
	}
	if !strings.HasPrefix(m.Header.Get("List-Unsubscribe"), "<"+h.http.URL+"/unsubscribe?token=") ||
		m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		h.t.Fatalf("mail %q unsubscribe headers: %q %q", m.Subject, m.Header.Get("List-Unsubscribe"), m.Header.Get("List-Unsubscribe-Post"))
	}
	return m
}

// event parses a mail's calendar with a real iCalendar parser.
func event(t *testing.T, m *smtptest.Mail) (*ics.Calendar, *ics.VEvent) {
	t.Helper()
	cal, err := ics.ParseCalendar(bytes.NewReader(m.Calendar))
	if err != nil {
		t.Fatalf("calendar of %q: %v\n%s", m.Subject, err, m.Calendar)
	}
	if len(cal.Events()) != 1 {
		t.Fatalf("calendar of %q has %d events", m.Subject, len(cal.Events()))
	}
	return cal, cal.Events()[0]
}

func TestNewsletterFlow(t *testing.T) {
	h := newMailHarness(t)
	const addr = "ada@example.org"
	sub := map[string]string{"email": "Ada@Example.org", "name": "Ada", "lang": "de", "timezone": "Europe/Berlin"}
	var first, again map[string]string
	if code := h.do("POST", "/api/subscribe", "", sub, &first); code != http.StatusAccepted {
		t.Fatalf("subscribe: %d", code)
	}
	for name, body := range map[string]map[string]string{
		"bad address":  {"email": "not-an-address", "name": "X"},
		"display name": {"email": "Eve <eve@example.org>", "name": "X"},
		"bad timezone": {"email": "bo@example.org", "timezone": "Mars/Olympus"},
		"bad language": {"email": "bo@example.org", "lang": "tlh"},
	} {
		var e apiError
		if code := h.do("POST", "/api/subscribe", "", body, &e); code != 400 || e.Error.Code != "invalid" {
			t.Errorf("%s: %d %+v", name, code, e)
		}
	}

	confirm := h.nextMail(addr, "Bitte bestätige")
	link := confirm.Link("/confirm?token=")
	if link == "" {
		t.Fatalf("no confirm link in %q", confirm.Text)
	}
	// A known address gets the very same answer, and no second mail so soon.
	if code := h.do("POST", "/api/subscribe", "", sub, &again); code != http.StatusAccepted || again["message"] != first["message"] {
		t.Fatalf("second subscribe: %d %v", code, again)
	}

	// Opening the link (as a mail scanner would) changes nothing.
	for _, method := range []string{"GET", "HEAD"} {
		if code, _ := h.raw(method, link, "", ""); code != 200 {
			t.Fatalf("%s confirm link: %d", method, code)
		}
	}
	if c := h.counts().Subscribers; c["pending"] != 1 || c["confirmed"] != 0 {
		t.Fatalf("after GET: %v", c)
	}
	u, _ := url.Parse(link)
	tok := u.Query().Get("token")
	tampered := h.http.URL + "/confirm?token=" + url.QueryEscape(tok[:len(tok)-2]+"AA")
	if code, _ := h.raw("POST", tampered, "", ""); code != 400 {
		t.Fatalf("tampered confirm: %d", code)
	}
	// Ada chose German: the pages behind her links are German, whatever
	// the browser says, until she switches.
	if code, body := h.raw("GET", link+"&lang=en", "", ""); code != 200 || !strings.Contains(body, "Confirm your subscription") || !strings.Contains(body, `<html lang="en">`) {
		t.Fatalf("confirm page switched to English: %d %s", code, body)
	}
	if code, body := h.raw("POST", link, "", ""); code != 200 || !strings.Contains(body, "Dein Abo ist bestätigt") || !strings.Contains(body, `<html lang="de">`) {
		t.Fatalf("confirm: %d %s", code, body)
	}
	if c := h.counts().Subscribers; c["confirmed"] != 1 || c["pending"] != 0 {
		t.Fatalf("after POST: %v", c)
	}

	// The host schedules a session: Ada gets an announcement with her link and
	// a calendar invitation.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	local := h.now().In(berlin).Add(72 * time.Hour)
	start := time.Date(local.Year(), local.Month(), local.Day(), 9, 0, 0, 0, berlin)
	sess := h.createSession(start, nil, 0)
	ann := h.nextMail(addr, "Neues Worktogether: Test session")
	if !strings.Contains(ann.Text, "09:00 Uhr (Europe/Berlin)") || !strings.Contains(ann.Text, "10 Min. Vorhaben-Runde") {
		t.Fatalf("announcement text: %s", ann.Text)
	}
	join := ann.Link("/s/" + sess.ID + "?")
	if ju, err := url.Parse(join); join == "" || err != nil || ju.Query().Get("t") == "" || ju.Query().Get("lang") != "de" {
		t.Fatalf("no join link with a token, naming German, in %s", ann.Text)
	}
	cal, ev := event(t, ann)
	if !strings.Contains(ann.CalendarType, "method=REQUEST") || cal.CalendarProperties[0].Value == "" {
		t.Fatalf("calendar type %q", ann.CalendarType)
	}
	dtstart, err := ev.GetStartAt()
	if err != nil || !dtstart.Equal(start) || dtstart.In(berlin).Hour() != 9 {
		t.Fatalf("DTSTART %v %v, want %v", dtstart, err, start)
	}
	if uid := ev.Id(); uid != sess.ID+"@127.0.0.1" {
		t.Fatalf("UID %q", uid)
	}

	// Reminders, on the server's clock.
	h.advanceClock(time.Until(start.Add(-24*time.Hour)) + time.Second)
	h.mail.Wake()
	rem := h.nextMail(addr, "Erinnerung: Test session")
	if rem.Link("/s/"+sess.ID+"?") != join {
		t.Fatal("the reminder carries another join link than the announcement")
	}
	h.advanceClock(time.Until(start.Add(-15*time.Minute)) - time.Duration(h.offset.Load()) + time.Second)
	h.mail.Wake()
	h.nextMail(addr, "Gleich geht's los: Test session")

	// The link in the mail opens the room: GET shows the page, the websocket
	// welcomes Ada by name.
	if code, _ := h.raw("GET", join, "", ""); code != 200 {
		t.Fatalf("join page: %d", code)
	}
	jt, _ := url.Parse(join)
	p, w := h.join(jt.Query().Get("t"), testpeer.Options{})
	if w.You.Name != "Ada" || w.You.Role != signaling.RoleParticipant {
		t.Fatalf("welcome from the mail's link: %+v", w.You)
	}
	p.Close()

	// One click unsubscribes (RFC 8058), and again is harmless; a GET never does.
	unsub := strings.Trim(ann.Header.Get("List-Unsubscribe"), "<>")
	if code, _ := h.raw("GET", unsub, "", ""); code != 200 || h.counts().Subscribers["confirmed"] != 1 {
		t.Fatal("GET unsubscribed")
	}
	for i := 0; i < 2; i++ {
		if code, body := h.raw("POST", unsub, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"); code != 200 || !strings.Contains(body, "Du bist abgemeldet") {
			t.Fatalf("one-click unsubscribe %d: %d", i, code)
		}
	}
	if c := h.counts().Subscribers; c["unsubscribed"] != 1 || c["confirmed"] != 0 {
		t.Fatalf("after unsubscribe: %v", c)
	}

	// Nothing more reaches Ada; nothing was sent twice.
	h.createSession(start.Add(7*24*time.Hour), nil, 0)
	h.mail.Wake()
	ids := map[string]bool{}
	for _, m := range h.smtp.All() {
		id := m.Header.Get("Message-ID")
		if ids[id] {
			t.Fatalf("mail %q arrived twice", m.Subject)
		}
		ids[id] = true
	}
	if len(ids) != 4 {
		t.Fatalf("%d mails arrived, want confirm, announcement and two reminders", len(ids))
	}
	code, body := h.raw("GET", h.http.URL+"/sessions.ics", "", "")
	if code != 200 {
		t.Fatalf("feed: %d", code)
	}
	fc, err := ics.ParseCalendar(strings.NewReader(body))
	if err != nil || len(fc.Events()) != 2 {
		t.Fatalf("feed: %v %d events", err, len(fc.Events()))
	}
}

func TestOutboxRetriesUntilDelivered(t *testing.T) {
	h := newMailHarness(t)
	h.smtp.Refuse.Store(2) // "451 try again later", twice
	h.smtp.Drop.Store(1)   // then the connection breaks mid-mail
	if code := h.do("POST", "/api/subscribe", "", map[string]string{"email": "bo@example.org", "name": "Bo"}, nil); code != 202 {
		t.Fatalf("subscribe: %d", code)
	}
	m := h.nextMail("bo@example.org", "Please confirm")
	if code, _ := h.raw("POST", m.Link("/confirm?token="), "", ""); code != 200 {
		t.Fatal("confirm")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for h.counts().Mail["sent"] != 1 {
		select {
		case <-ctx.Done():
			t.Fatalf("mail counts %v", h.counts().Mail)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if n := len(h.smtp.All()); n != 1 {
		t.Fatalf("%d copies arrived", n)
	}
}

// subscribed signs an address up and confirms it through the mail.
func (h *harness) subscribed(addr string) {
	h.t.Helper()
	if code := h.do("POST", "/api/subscribe", "", map[string]string{"email": addr, "name": "Cy", "timezone": "America/New_York"}, nil); code != 202 {
		h.t.Fatalf("subscribe: %d", code)
	}
	m := h.nextMail(addr, "Please confirm")
	if code, _ := h.raw("POST", m.Link("/confirm?token="), "", ""); code != 200 {
		h.t.Fatal("confirm")
	}
}

func TestRescheduleAndCancelMails(t *testing.T) {
	h := newMailHarness(t)
	const addr = "cy@example.org"
	h.subscribed(addr)
	start := h.now().Add(48 * time.Hour).Truncate(time.Minute)
	sess := h.createSession(start, nil, 0)
	ann := h.nextMail(addr, "New Worktogether")
	_, ev := event(t, ann)
	if seq := ev.GetProperty(ics.ComponentPropertySequence); seq == nil || seq.Value != "0" {
		t.Fatalf("announcement SEQUENCE %v", seq)
	}

	moved := start.Add(26 * time.Hour)
	var out signaling.WireSession
	if code := h.do("PATCH", "/api/sessions/"+sess.ID, testHostKey, map[string]any{"starts_at": moved}, &out); code != 200 || !out.StartsAt.Equal(moved) {
		t.Fatalf("reschedule: %d %+v", code, out)
	}
	upd := h.nextMail(addr, "New time: Test session")
	_, ev = event(t, upd)
	dt, err := ev.GetStartAt()
	if seq := ev.GetProperty(ics.ComponentPropertySequence); err != nil || !dt.Equal(moved) || seq == nil || seq.Value != "1" || ev.Id() != sess.ID+"@127.0.0.1" {
		t.Fatalf("update: start %v %v, sequence %v, uid %s", dt, err, seq, ev.Id())
	}

	if code := h.do("DELETE", "/api/sessions/"+sess.ID, testHostKey, nil, nil); code != 204 {
		t.Fatalf("cancel: %d", code)
	}
	cancelled := h.nextMail(addr, "Cancelled: Test session")
	cal, ev := event(t, cancelled)
	if !strings.Contains(cancelled.CalendarType, "method=CANCEL") || ev.GetProperty(ics.ComponentPropertyStatus).Value != "CANCELLED" ||
		cal.CalendarProperties[0].Value == "" || ev.Id() != sess.ID+"@127.0.0.1" {
		t.Fatalf("cancellation: %s", cancelled.Calendar)
	}
	if cancelled.Link("/s/") != "" {
		t.Fatal("a cancellation offers a join link")
	}
	// The reminders of the cancelled session never go out.
	h.advanceClock(moved.Sub(h.now()) - 10*time.Minute)
	h.mail.Wake()
	if m, err := h.smtp.Next(500 * time.Millisecond); err == nil {
		t.Fatalf("unexpected mail after cancellation: %q", m.Subject)
	}
	if c := h.counts().Mail; c["skipped"] < 2 || c["queued"] != 0 {
		t.Fatalf("mail counts %v", c)
	}
}

func TestSubscribeRateLimits(t *testing.T) {
	h := newHarness(t, Limits{})
	// Per address: three tries, then refused, from wherever they come.
	for i := 0; i < 4; i++ {
		code := h.do("POST", "/api/subscribe", "", map[string]string{"email": "same@example.org", "name": "Same"}, nil)
		if want := map[bool]int{true: 202, false: 429}[i < 3]; code != want {
			t.Fatalf("address try %d: %d, want %d", i+1, code, want)
		}
	}
	// Per client: a burst of five, then refused, whatever the address. (The
	// address above already used four of this client's five.)
	var e apiError
	if code := h.do("POST", "/api/subscribe", "", map[string]string{"email": "other1@example.org"}, nil); code != 202 {
		t.Fatalf("fifth from this client: %d", code)
	}
	if code := h.do("POST", "/api/subscribe", "", map[string]string{"email": "other2@example.org"}, &e); code != 429 || e.Error.Code != "rate_limited" {
		t.Fatalf("sixth from this client: %d %+v", code, e)
	}
	if c := h.counts().Subscribers; c["pending"] != 2 {
		t.Fatalf("subscribers stored: %v", c)
	}
}
