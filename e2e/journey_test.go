package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/worktogether/worktogether/i18n"
	"github.com/worktogether/worktogether/internal/smtptest"
	"github.com/worktogether/worktogether/links"
	"github.com/worktogether/worktogether/newsletter"
	"github.com/worktogether/worktogether/sfu"
	"github.com/worktogether/worktogether/static"
	"github.com/worktogether/worktogether/web"
)

// withMail is a server tune that sends the server's mail to a real SMTP
// server in the test, as the worktogether binary's mail worker does.
func withMail(smtp *smtptest.Server) func(*testing.T, *web.Config, *sfu.Router) func() {
	return func(t *testing.T, cfg *web.Config, _ *sfu.Router) func() {
		transport, err := newsletter.ParseSMTP(smtp.URL())
		if err != nil {
			t.Fatal(err)
		}
		lm, err := links.New(cfg.PublicURL, cfg.Signer)
		if err != nil {
			t.Fatal(err)
		}
		text, err := i18n.Load(static.Files, "i18n", newsletter.Languages...)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Text = text
		w := newsletter.NewWorker(newsletter.Config{Store: cfg.Store, Transport: transport, Log: cfg.Log.Named("mail"),
			Renderer: &newsletter.Renderer{Store: cfg.Store, Links: lm, From: mail.Address{Name: "Worktogether", Address: "hello@worktogether.test"}, Text: text},
			Backoff:  func(int) time.Duration { return 50 * time.Millisecond }, Poll: 200 * time.Millisecond})
		cfg.Mail = w
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); w.Run(ctx) }()
		return func() { cancel(); <-done }
	}
}

// catalogCheck returns a check of the page in a tab against lang's catalog
// (foreignJS) and axe, with a screenshot named prefix-state.
func catalogCheck(t *testing.T, lang, prefix string, user, dates []string) func(tab context.Context, state string) {
	raw, err := fs.ReadFile(static.Files, "i18n/"+lang+".json")
	if err != nil {
		t.Fatal(err)
	}
	axe := axeSource(t)
	userJSON, _ := json.Marshal(user)
	datesJSON, _ := json.Marshal(dates)
	return func(tab context.Context, state string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(tab, 5*time.Second)
		defer cancel()
		bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(foreignJS, lang, raw, userJSON, datesJSON)))
		if err != nil {
			t.Fatal(err)
		}
		if len(bad) > 0 {
			t.Errorf("%s: text not in the %s catalog: %q", state, lang, bad)
		}
		screenshot(t, tab, prefix+"-"+state)
		accessible(t, tab, axe, prefix+"-"+state)
	}
}

// TestSubscriberJourney is the "done when", in each language: a
// subscriber signs up on the landing page, confirms from the mail, joins
// the announced session from its mail, goes through every phase to the
// end and on to their record, and meets only their language's words on
// the way: on every page, in every mail (and in the room, whatever the
// browser's own language, since the mail's link names theirs).
func TestSubscriberJourney(t *testing.T) {
	for _, tc := range []struct{ lang, chromium, accept, other, otherChromium string }{
		{"de", "de-DE", "de-DE,de", "en", "en-US"},
		{"en", "en-US", "en-US,en", "de", "de-DE"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			text, err := i18n.Load(static.Files, "i18n", newsletter.Languages...)
			if err != nil {
				t.Fatal(err)
			}
			smtp, err := smtptest.Start("mailer", "secret")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(smtp.Close)
			srv := startServerWith(t, withMail(smtp))
			browser := newBrowser(t, chromedp.Flag("lang", tc.chromium), chromedp.Flag("accept-lang", tc.accept))
			user := []string{"Schreibzeit", "Ada", "Dee", "dee@example.org", "Kapitel zwei", "Mails", "Lief gut.", "fake_device_0"}
			startsAt := time.Now().UTC()
			check := catalogCheck(t, tc.lang, "journey-"+tc.lang, user, []string{startsAt.Format(time.RFC3339)})
			// Every mail to Dee is in her language: none has a mail
			// message of the other language in it.
			mailFor := func(subject string) *smtptest.Mail {
				t.Helper()
				for {
					m, err := smtp.Next(20 * time.Second)
					if err != nil {
						t.Fatalf("no mail %q: %v", subject, err)
					}
					for _, key := range []string{"mail.greeting_anon", "mail.signoff", "mail.when", "mail.plan", "mail.join", "mail.unsubscribe", "phase.commitment", "phase.closing"} {
						if other := text.T(tc.other, key); other != text.T(tc.lang, key) && strings.Contains(m.Text, strings.TrimSuffix(other, "{name},")) {
							t.Errorf("%q has %q, from the %s catalog:\n%s", m.Subject, other, tc.other, m.Text)
						}
					}
					if strings.HasPrefix(m.Subject, subject) {
						return m
					}
				}
			}

			dee := newTab(t, browser)
			within(t, dee, 20*time.Second, chromedp.Navigate(srv.url+"/"), chromedp.WaitVisible("#subscribe-form"))
			check(dee, "landing")
			within(t, dee, 10*time.Second,
				chromedp.SendKeys(`#subscribe-form input[name="email"]`, "dee@example.org"),
				chromedp.SendKeys(`#subscribe-form input[name="name"]`, "Dee"),
				chromedp.Click("#subscribe-form button"),
				chromedp.WaitVisible("#subscribe-result.ok"))
			check(dee, "subscribed")
			confirm := mailFor(strings.SplitN(text.T(tc.lang, "mail.confirm.subject"), " ", 2)[0])
			within(t, dee, 10*time.Second, chromedp.Navigate(confirm.Link("/confirm?token=")), chromedp.WaitVisible("main h1"))
			check(dee, "confirm")
			within(t, dee, 10*time.Second, chromedp.Click("main form button"))
			afterNavigation(t, dee, `document.querySelector('main h1').textContent`, text.T(tc.lang, "confirm.done.title"))
			check(dee, "confirmed")

			// The host schedules a session; Dee's announcement brings her link.
			plan := []map[string]any{{"kind": "commitment", "seconds": 600}, {"kind": "work", "seconds": 600}, {"kind": "closing", "seconds": 600}}
			var sess struct{ ID string }
			srv.post(t, "/api/sessions", map[string]any{"title": "Schreibzeit", "starts_at": startsAt.Format(time.RFC3339), "plan": plan}, &sess)
			var host struct{ URL string }
			srv.post(t, "/api/sessions/"+sess.ID+"/invites", map[string]any{"name": "Ada", "role": "host"}, &host)
			ann := mailFor(strings.TrimSuffix(text.T(tc.lang, "mail.announce.subject"), "{title}"))
			mustContain(t, "the announcement", ann.Text, text.T(tc.lang, "phase.commitment"), text.T(tc.lang, "phase.closing"))
			join := ann.Link("/s/" + sess.ID)
			if !strings.Contains(join, "lang="+tc.lang) {
				t.Fatalf("the mail's room link does not name the language: %s", join)
			}

			// Her link opens the room in her language, even in a browser
			// set to the other one.
			otherBrowser := newBrowser(t, chromedp.Flag("lang", tc.otherChromium), chromedp.Flag("accept-lang", tc.otherChromium))
			elsewhere := newTab(t, otherBrowser)
			within(t, elsewhere, 20*time.Second, chromedp.Navigate(join), chromedp.WaitEnabled("#join"))
			check(elsewhere, "prejoin-other-browser")

			ada := newTab(t, browser)
			within(t, ada, 20*time.Second, chromedp.Navigate(host.URL), chromedp.WaitEnabled("#join"), chromedp.Click("#join"),
				chromedp.WaitVisible(`#status[data-status="connected"]`))
			within(t, dee, 20*time.Second, chromedp.Navigate(join), chromedp.WaitEnabled("#join"))
			check(dee, "prejoin")
			within(t, dee, 20*time.Second, chromedp.Click("#join"), chromedp.WaitVisible("#commit-form"),
				chromedp.WaitVisible(`#status[data-status="connected"]`))
			waitText(t, dee, "#tiles", "Ada", 10*time.Second)
			check(dee, "commitment")
			within(t, dee, 5*time.Second, chromedp.SendKeys("#commit-form textarea", "Kapitel zwei\nMails"), chromedp.Click("#commit-form button"))
			waitText(t, ada, "#people", "Kapitel zwei", 5*time.Second)
			for _, kind := range []string{"work", "closing"} {
				within(t, ada, 5*time.Second, chromedp.Click(`[data-host="advance"]`))
				waitText(t, dee, "#phase", text.T(tc.lang, "phase."+kind), 10*time.Second)
				check(dee, kind)
			}
			within(t, dee, 5*time.Second, chromedp.WaitVisible("#report-form"), chromedp.Click(`#report-form input[data-task="0"]`),
				chromedp.SendKeys("#report-form textarea", "Lief gut."), chromedp.Click("#report-form button"))
			waitText(t, ada, "#people", "Lief gut.", 5*time.Second)
			check(dee, "closing-reported")
			within(t, ada, 5*time.Second, chromedp.Click(`[data-host="advance"]`))
			within(t, dee, 10*time.Second, chromedp.WaitVisible("#record-link"))
			waitText(t, dee, "#notice", text.T(tc.lang, "room.ended"), 5*time.Second)
			check(dee, "ended")

			// Her record: the session, its date in her words and zone.
			within(t, dee, 10*time.Second, chromedp.Click("#record-link"), chromedp.WaitVisible("main.record"))
			mustContain(t, "the record", text2(t, dee, "main.record"),
				text.T(tc.lang, "record.heading", "name", "Dee"), "Schreibzeit",
				text.LongTime(tc.lang, startsAt, "UTC"),
				text.Plural(tc.lang, "record.sessions", 1)+" · "+text.Plural(tc.lang, "record.tasks", 2, "done", 1))
			check(dee, "record")
		})
	}
}

// text2 is the visible text of sel (innerText, as a person reads it).
func text2(t *testing.T, tab context.Context, sel string) string {
	t.Helper()
	return value(t, tab, fmt.Sprintf(`document.querySelector(%q).innerText`, sel))
}

// afterNavigation waits, through a navigation under way, until js gives
// want on the page the tab ends on: a wait in the page that the navigation
// cuts short is begun again on the next.
func afterNavigation(t *testing.T, tab context.Context, js, want string) {
	t.Helper()
	cond := fmt.Sprintf(`(() => { try { return String(%s) === %q; } catch (e) { return false; } })()`, js, want)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithDeadline(tab, deadline)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](cond))
		cancel()
		if err == nil {
			return
		}
	}
	t.Fatalf("%s: want %q, got %q", js, want, value(t, tab, "String("+js+")"))
}
