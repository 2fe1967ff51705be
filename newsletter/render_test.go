package newsletter

import (
	"bytes"
	"context"
	"net/mail"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/worktogether/worktogether/i18n"
	"github.com/worktogether/worktogether/internal/smtptest"
	"github.com/worktogether/worktogether/links"
	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/static"
	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/token"
	"golang.org/x/net/html"
)

// TestEveryKindInBothLanguagesOverSMTP renders every kind of mail for an
// English and a German subscriber with hostile names and a hostile title,
// sends each through the go-smtp client to a real SMTP server in the test,
// and reads what arrives as a mail program would: the header with net/mail,
// the parts with go-message, the HTML with an HTML parser, the calendar with
// an iCalendar parser.
func TestEveryKindInBothLanguagesOverSMTP(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "wt.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	signer, err := token.NewSigner(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	lm, err := links.New("https://cowork.example.org", signer)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC)
	const title = `<script>alert(1)</script> "Q" & Co`
	sess := store.Session{ID: "s1", Title: title, StartsAt: now.Add(48 * time.Hour), Plan: session.DefaultPlan(),
		Capacity: 10, LobbySeconds: 600, HostParticipant: "h1", CreatedAt: now}
	if err := st.CreateSession(ctx, sess, store.Participant{ID: "h1", SessionID: "s1", Name: "Host", Role: "host"}, nil); err != nil {
		t.Fatal(err)
	}
	// Names as they might have been stored before input was checked.
	names := map[string]string{"en": "Jo \"JJ\" <b>Smith</b>\r\nBcc: eve@example.org", "de": "Jörg, \"der Große\" <i>x</i>"}
	want := map[string]map[string]string{
		"en": {store.KindConfirm: "Please confirm", store.KindAnnounce: "New Worktogether: ", store.KindReminder: "Reminder: ",
			store.KindUpdate: "New time: ", store.KindCancel: "Cancelled: ", store.KindResend: "Reminder: "},
		"de": {store.KindConfirm: "Bitte bestätige", store.KindAnnounce: "Neues Worktogether: ", store.KindReminder: "Erinnerung: ",
			store.KindUpdate: "Neue Zeit: ", store.KindCancel: "Abgesagt: ", store.KindResend: "Erinnerung: "},
	}
	srv, err := smtptest.Start("mailer", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	transport, err := ParseSMTP(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	r := &Renderer{Store: st, Links: lm, From: mail.Address{Name: "Worktogether", Address: "hello@cowork.example.org"}, Text: shippedText(t)}
	id := int64(0)
	for _, lang := range []string{"en", "de"} {
		addr := lang + "@example.org"
		if err := st.Subscribe(ctx, store.Subscriber{ID: "sub-" + lang, Email: addr, Name: names[lang], Lang: lang, TZ: "Europe/Berlin"}, now); err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{store.KindConfirm, store.KindAnnounce, store.KindReminder, store.KindUpdate, store.KindResend, store.KindCancel} {
			if kind == store.KindAnnounce { // the rest go to a confirmed subscriber
				if _, err := st.Confirm(ctx, "sub-"+lang, store.Notify{Now: now}); err != nil {
					t.Fatal(err)
				}
			}
			id++
			om := store.OutboxMail{ID: id, Kind: kind, SubscriberID: "sub-" + lang, Lead: 24 * time.Hour}
			if kind != store.KindConfirm {
				om.SessionID = "s1"
			}
			msg, err := r.Render(ctx, om, now)
			if err != nil {
				t.Fatalf("%s %s: %v", lang, kind, err)
			}
			raw, err := msg.Bytes()
			if err != nil {
				t.Fatalf("%s %s: %v", lang, kind, err)
			}
			if err := transport.Send(ctx, msg.From.Address, msg.To.Address, msg, raw); err != nil {
				t.Fatalf("%s %s: %v", lang, kind, err)
			}
			got, err := srv.Next(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			checkArrived(t, lang, kind, want[lang][kind], title, got)
			// The words are the catalog's, the same the pages use.
			if kind != store.KindConfirm {
				for _, w := range []string{r.Text.LongTime(lang, sess.StartsAt, "Europe/Berlin"), r.Text.PlanPart(lang, "commitment", 600), r.Text.T(lang, "phase.closing")} {
					if !strings.Contains(got.Text, w) {
						t.Errorf("%s %s: the mail lacks %q:\n%s", lang, kind, w, got.Text)
					}
				}
			}
		}
	}
}

func checkArrived(t *testing.T, lang, kind, subject, title string, m *smtptest.Mail) {
	t.Helper()
	what := lang + " " + kind
	if !strings.HasPrefix(m.Subject, subject) {
		t.Errorf("%s: subject %q, want it to start %q", what, m.Subject, subject)
	}
	if kind != store.KindConfirm && !strings.Contains(m.Subject, title) {
		t.Errorf("%s: subject %q lacks the title", what, m.Subject)
	}
	// One recipient, the subscriber's address; the name cannot add one.
	to, err := mail.ParseAddressList(m.Header.Get("To"))
	if err != nil || len(to) != 1 || to[0].Address != lang+"@example.org" || m.Header.Get("Bcc") != "" {
		t.Errorf("%s: To %q (%v), Bcc %q", what, m.Header.Get("To"), err, m.Header.Get("Bcc"))
	}
	if kind == store.KindConfirm && to[0].Name != "" {
		t.Errorf("%s: a confirmation names %q", what, to[0].Name)
	}
	// The HTML has no element the name or title brought, and shows both as text.
	doc, err := html.Parse(strings.NewReader(m.HTML))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var textContent strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "b", "i":
				t.Errorf("%s: a <%s> element in the HTML", what, n.Data)
			}
			if n.Data == "html" && attr(n, "lang") != lang {
				t.Errorf("%s: <html lang=%q>", what, attr(n, "lang"))
			}
		}
		if n.Type == html.TextNode {
			textContent.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if kind != store.KindConfirm && !strings.Contains(textContent.String(), title) {
		t.Errorf("%s: the HTML does not show the title as text", what)
	}
	if kind == store.KindConfirm {
		if m.Link("/confirm?token=") == "" || m.Calendar != nil {
			t.Errorf("%s: confirm link %q, calendar %d bytes", what, m.Link("/confirm?token="), len(m.Calendar))
		}
		return
	}
	// The calendar part is whole and names the same session.
	cal, err := ics.ParseCalendar(bytes.NewReader(m.Calendar))
	if err != nil || len(cal.Events()) != 1 {
		t.Fatalf("%s: calendar %v\n%s", what, err, m.Calendar)
	}
	ev := cal.Events()[0]
	if s := ev.GetProperty(ics.ComponentPropertySummary); s == nil || s.Value != title {
		t.Errorf("%s: SUMMARY %+v", what, s)
	}
	method := "method=REQUEST"
	if kind == store.KindCancel {
		method = "method=CANCEL"
	}
	if !strings.Contains(m.CalendarType, method) {
		t.Errorf("%s: calendar type %q", what, m.CalendarType)
	}
	// A join link (none in a cancellation) with a token, naming the
	// subscriber's language so the room speaks it.
	join := m.Link("/s/s1?")
	if kind == store.KindCancel {
		if join != "" {
			t.Errorf("%s: join link %q", what, join)
		}
		return
	}
	u, err := url.Parse(join)
	if err != nil || u.Query().Get("t") == "" || u.Query().Get("lang") != lang {
		t.Errorf("%s: join link %q (%v)", what, join, err)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// shippedText is the message catalog the server ships (static/i18n).
func shippedText(t testing.TB) *i18n.Catalog {
	t.Helper()
	c, err := i18n.Load(static.Files, "i18n", Languages...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
