package web

import (
	"context"
	"fmt"
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/smtptest"
	"github.com/worktogether/worktogether/session"
)

// quietMailHarness is a mail harness whose worker does not run by itself:
// the test sends what is due with SendDue, at the harness clock's time, so
// the clock alone says what goes out.
func quietMailHarness(t *testing.T, announceLead time.Duration) *harness {
	h := buildHarness(t, Limits{}, true, tuning{server: func(_ *harness, c *Config) { c.AnnounceLead = announceLead }})
	h.stopMail()
	h.stopMail = func() {}
	return h
}

// confirmQuietly signs addr up in lang and confirms it, sending the mail by
// hand.
func (h *harness) confirmQuietly(addr, lang string) {
	h.t.Helper()
	if code := h.do("POST", "/api/subscribe", "", map[string]string{"email": addr, "name": "Sub " + lang, "lang": lang, "timezone": "UTC"}, nil); code != 202 {
		h.t.Fatalf("subscribe %s: %d", addr, code)
	}
	h.mail.SendDue(context.Background())
	m, err := h.smtp.Next(5 * time.Second)
	if err != nil || len(m.To) != 1 || m.To[0] != addr {
		h.t.Fatalf("confirmation for %s: %v %+v", addr, err, m)
	}
	if code, _ := h.raw("POST", m.Link("/confirm?token="), "", ""); code != 200 {
		h.t.Fatalf("confirm %s: %d", addr, code)
	}
}

// announcements lists, per address, the starts of the sessions announced
// to it so far ("New Worktogether" / "Neues Worktogether"), and fails on
// any mail about a title in never.
func announcements(t *testing.T, all []*smtptest.Mail, never ...string) map[string][]time.Time {
	t.Helper()
	out := map[string][]time.Time{}
	for _, m := range all {
		for _, title := range never {
			if strings.Contains(m.Subject, title) {
				t.Fatalf("a mail about %q went out: %q to %v", title, m.Subject, m.To)
			}
		}
		if !strings.HasPrefix(m.Subject, "New Worktogether:") && !strings.HasPrefix(m.Subject, "Neues Worktogether:") {
			continue
		}
		_, ev := event(t, m)
		start, err := ev.GetStartAt()
		if err != nil {
			t.Fatal(err)
		}
		out[m.To[0]] = append(out[m.To[0]], start.UTC())
	}
	return out
}

// TestMailRespectsTheList runs a weekly series for two subscribers (one
// German, one English) with the scheduler and the mail worker driven by an
// injected clock, an hour at a time: each gets exactly one announcement,
// for the next occurrence, until the following one's lead time; then one
// more, for that one. A private session and a short try-out send nothing.
// With a lead longer than the series' period, or a daily series, the answer
// is the same: only the next occurrence is ever announced, and no reminder
// comes before its announcement.
func TestMailRespectsTheList(t *testing.T) {
	for _, tc := range []struct {
		rrule string
		lead  time.Duration
	}{
		{"FREQ=WEEKLY;BYDAY=WE", 7 * 24 * time.Hour},
		{"FREQ=WEEKLY;BYDAY=WE", 30 * 24 * time.Hour},
		{"FREQ=DAILY", 7 * 24 * time.Hour}, // a reminder 24 h ahead falls when the one before starts
	} {
		lead := tc.lead
		t.Run(fmt.Sprint(tc.rrule, " ", lead), func(t *testing.T) {
			h := quietMailHarness(t, lead)
			ctx := context.Background()
			// Monday noon UTC; the series meets on Wednesdays at 09:00.
			h.advanceClock(time.Until(time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC)))
			subs := []string{"de@example.org", "en@example.org"}
			h.confirmQuietly(subs[0], "de")
			h.confirmQuietly(subs[1], "en")

			var ser wireSeries
			body := map[string]any{"title": "Wednesday focus", "first": "2027-01-06T09:00", "timezone": "UTC", "rrule": tc.rrule}
			if code := h.do("POST", "/api/series", testHostKey, body, &ser); code != 201 || len(ser.Sessions) < 3 {
				t.Fatalf("create series: %d %+v", code, ser)
			}
			first, second := ser.Sessions[0].StartsAt, ser.Sessions[1].StartsAt
			var priv, short signaling.WireSession
			if code := h.do("POST", "/api/sessions", testHostKey, map[string]any{"title": "Private planning", "private": true,
				"starts_at": h.now().Add(30 * time.Hour)}, &priv); code != 201 || !priv.Private {
				t.Fatalf("private session: %d %+v", code, priv)
			}
			tryout := session.Plan{{Kind: session.Commitment, Seconds: 60}, {Kind: session.Work, Seconds: 120}, {Kind: session.Closing, Seconds: 60}}
			if code := h.do("POST", "/api/sessions", testHostKey, map[string]any{"title": "Try-out", "plan": tryout,
				"starts_at": h.now().Add(26 * time.Hour)}, &short); code != 201 {
				t.Fatalf("try-out: %d %+v", code, short)
			}
			// Neither is listed for the public; the private one is for the host.
			var public []signaling.WireSession
			h.do("GET", "/api/sessions", "", nil, &public)
			for _, s := range public {
				if s.ID == priv.ID {
					t.Fatal("the private session is listed publicly")
				}
			}
			_, feed := h.raw("GET", h.http.URL+"/sessions.ics", "", "")
			if strings.Contains(feed, "Private planning") {
				t.Fatal("the private session is in the public calendar feed")
			}

			// The following occurrence's announcement is due when the first
			// begins: step the clock an hour at a time until just before.
			step := func() {
				if err := h.srv.ExtendSeries(ctx); err != nil {
					t.Fatal(err)
				}
				h.mail.SendDue(ctx)
			}
			for h.now().Add(time.Hour).Before(first) {
				step()
				h.advanceClock(time.Hour)
			}
			step()
			got := announcements(t, h.smtp.All(), "Private planning", "Try-out")
			for _, addr := range subs {
				if len(got[addr]) != 1 || !got[addr][0].Equal(first) {
					t.Fatalf("%s before the first occurrence got announcements for %v, want just %v", addr, got[addr], first)
				}
			}
			// Past the first occurrence's start: the second is the next one.
			h.advanceClock(first.Sub(h.now()) + time.Minute)
			step()
			h.advanceClock(time.Hour)
			step()
			got = announcements(t, h.smtp.All(), "Private planning", "Try-out")
			for _, addr := range subs {
				if len(got[addr]) != 2 || !got[addr][1].Equal(second) {
					t.Fatalf("%s after the first occurrence got announcements for %v, want %v then %v", addr, got[addr], first, second)
				}
			}
			// Nobody hears of a session first from a reminder.
			announced := map[string]bool{}
			for _, m := range h.smtp.All() {
				if m.Calendar == nil {
					continue
				}
				_, ev := event(t, m)
				key := m.To[0] + " " + ev.Id()
				if strings.HasPrefix(m.Subject, "New Worktogether:") || strings.HasPrefix(m.Subject, "Neues Worktogether:") {
					announced[key] = true
				} else if !announced[key] {
					t.Fatalf("%q reached %s before the announcement", m.Subject, m.To[0])
				}
			}
			if c, err := h.store.MailCounts(ctx, priv.ID); err != nil || c["queued"]+c["sent"]+c["failed"] != 0 {
				t.Fatalf("mails of the private session: %v %v", c, err)
			}
			if c, err := h.store.MailCounts(ctx, short.ID); err != nil || c["queued"]+c["sent"]+c["failed"] != 0 {
				t.Fatalf("mails of the try-out: %v %v", c, err)
			}
		})
	}
}

// TestChooseSeries follows the link in an announcement to the record page,
// stops the series there (a plain form, as a browser sends it) and checks
// the next occurrence is not announced; following it again brings the
// announcement back.
func TestChooseSeries(t *testing.T) {
	h := quietMailHarness(t, 7*24*time.Hour)
	ctx := context.Background()
	h.advanceClock(time.Until(time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC)))
	const addr = "fi@example.org"
	h.confirmQuietly(addr, "en")
	var ser wireSeries
	body := map[string]any{"title": "Wednesday focus", "first": "2027-01-06T09:00", "timezone": "UTC", "rrule": "FREQ=WEEKLY;BYDAY=WE"}
	if code := h.do("POST", "/api/series", testHostKey, body, &ser); code != 201 {
		t.Fatalf("create series: %d", code)
	}
	h.mail.SendDue(ctx)
	ann, err := h.smtp.Next(5 * time.Second)
	if err != nil || !strings.HasPrefix(ann.Subject, "New Worktogether") {
		t.Fatalf("announcement: %v %+v", err, ann)
	}
	link := ann.Link("#series")
	if link == "" || !strings.Contains(ann.HTML, "#series") {
		t.Fatalf("no series link in the announcement:\n%s", ann.Text)
	}
	code, page := h.raw("GET", link, "", "")
	if code != 200 || !strings.Contains(page, `id="series"`) || !strings.Contains(page, "Stop mails about this series") {
		t.Fatalf("record page %d:\n%s", code, page)
	}
	tok := link[strings.Index(link, "token=")+len("token=") : strings.Index(link, "#")]
	stop := func(follow string) {
		t.Helper()
		req := "series=" + ser.ID + "&follow=" + follow
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Post(h.http.URL+"/record/series?token="+tok, "application/x-www-form-urlencoded", strings.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "#series") {
			t.Fatalf("follow=%s: %d %s", follow, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	stop("0")
	var rec recordResponse
	if code := h.do("GET", "/api/record?token="+tok, "", nil, &rec); code != 200 || len(rec.Series) != 1 || rec.Series[0].Following {
		t.Fatalf("record after stopping: %d %+v", code, rec.Series)
	}
	// Past the first occurrence: the second would be announced now.
	h.advanceClock(ser.Sessions[0].StartsAt.Sub(h.now()) + time.Minute)
	h.mail.SendDue(ctx)
	for _, m := range h.smtp.All()[2:] {
		t.Fatalf("mail after stopping the series: %q", m.Subject)
	}
	// A wrong series or token changes nothing.
	var e apiError
	if code := h.do("POST", "/api/record/series?token="+tok, "", map[string]any{"series_id": "nope", "follow": true}, &e); code != 404 {
		t.Fatalf("unknown series: %d %+v", code, e)
	}
	if code := h.do("POST", "/api/record/series?token=x"+tok, "", map[string]any{"series_id": ser.ID, "follow": true}, &e); code != 400 {
		t.Fatalf("bad token: %d %+v", code, e)
	}
	if code := h.do("POST", "/api/record/series?token="+tok, "", map[string]any{"series_id": ser.ID, "follow": true}, nil); code != 204 {
		t.Fatalf("follow again: %d", code)
	}
	h.mail.SendDue(ctx)
	again, err := h.smtp.Next(5 * time.Second)
	if err != nil || !strings.HasPrefix(again.Subject, "New Worktogether") {
		t.Fatalf("announcement after following again: %v %+v", err, again)
	}
	if _, ev := event(t, again); ev != nil {
		if start, _ := ev.GetStartAt(); !start.Equal(ser.Sessions[1].StartsAt) {
			t.Fatalf("announced %v, want the second occurrence %v", start, ser.Sessions[1].StartsAt)
		}
	}
}
