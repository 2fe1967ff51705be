package newsletter

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/worktogether/worktogether/i18n"
	"github.com/worktogether/worktogether/links"
	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/text"
)

// errSkip marks a mail that is no longer wanted: its subscriber left, its
// session was cancelled or is over.
type errSkip struct{ why string }

func (e errSkip) Error() string { return "skip: " + e.why }

// Renderer turns an outbox row into a message, from the data as it is when
// the mail goes out (so a reminder carries the latest time and title).
type Renderer struct {
	Store *store.Store
	Links *links.Maker
	From  mail.Address
	// Text is the message catalog the mails' words come from.
	Text *i18n.Catalog
}

// errPostpone marks a mail that is not due yet after all: the
// announcement of a series' occurrence while an earlier one is still ahead.
type errPostpone struct{ until time.Time }

func (e errPostpone) Error() string { return "postpone until " + e.until.Format(time.RFC3339) }

// Render composes the mail, or returns errSkip.
func (r *Renderer) Render(ctx context.Context, m store.OutboxMail, now time.Time) (Message, error) {
	sub, err := r.Store.GetSubscriber(ctx, m.SubscriberID)
	if errors.Is(err, store.ErrNotFound) {
		return Message{}, errSkip{"no such subscriber"}
	}
	if err != nil {
		return Message{}, err
	}
	// Names and titles stored before input was checked: no control
	// character reaches a subject, a greeting or a heading.
	sub.Name = text.Clean(sub.Name)
	base := m.Kind
	if r.Text == nil {
		return Message{}, errors.New("render mail: no message catalog")
	}
	w := words{cat: r.Text, lang: sub.Lang}
	host := r.Links.Base().Hostname()
	unsub, err := r.Links.Unsubscribe(sub)
	if err != nil {
		return Message{}, err
	}
	msg := Message{
		From:      r.From,
		To:        mail.Address{Name: sub.Name, Address: sub.Email},
		MessageID: fmt.Sprintf("wt-%d-%s@%s", m.ID, m.Kind, host),
		Date:      now,
		Headers: map[string]string{
			"List-Unsubscribe":      "<" + unsub + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			"List-Id":               "Worktogether <worktogether." + host + ">",
			"Auto-Submitted":        "auto-generated",
		},
	}
	b := body{lang: sub.Lang}
	if base == store.KindConfirm {
		// The address has not confirmed yet: the mail carries nothing the
		// person who signed up chose (no name in To or in the greeting),
		// so sign-ups cannot send others words of their choosing.
		msg.To.Name = ""
		b.line(w.t("mail.greeting_anon"))
		switch sub.Status {
		case store.StatusConfirmed:
			return Message{}, errSkip{"already confirmed"}
		case store.StatusUnsubscribed:
			return Message{}, errSkip{"unsubscribed"}
		}
		link, err := r.Links.Confirm(sub, now)
		if err != nil {
			return Message{}, err
		}
		msg.Subject = w.t("mail.confirm.subject")
		b.line(w.t("mail.confirm.intro"))
		b.button(w.t("mail.confirm.button"), link)
		b.line(w.t("mail.confirm.ignore"))
		b.line(w.t("mail.signoff"))
		msg.Text, msg.HTML, err = b.render(msg.Subject)
		return msg, err
	}
	if sub.Status != store.StatusConfirmed {
		return Message{}, errSkip{"subscriber is " + sub.Status}
	}
	b.line(w.t("mail.greeting", "name", sub.Name))
	sess, err := r.Store.GetSession(ctx, m.SessionID)
	if errors.Is(err, store.ErrNotFound) {
		return Message{}, errSkip{"no such session"}
	}
	if err != nil {
		return Message{}, err
	}
	sess.Title = text.Clean(sess.Title)
	if sess.Cancelled && base != store.KindCancel {
		return Message{}, errSkip{"session cancelled"}
	}
	if base != store.KindCancel && sess.Over(now) {
		return Message{}, errSkip{"session is over"}
	}
	if base != store.KindCancel && base != store.KindConfirm && !sess.Announced() {
		return Message{}, errSkip{"session is not announced"}
	}
	if (base == store.KindAnnounce || base == store.KindReminder) && sess.SeriesID != "" {
		// A series announces only its next occurrence: this one waits
		// until the one before it has begun (and so do its reminders, which
		// never come before the announcement).
		earlier, ok, err := r.Store.NextOccurrence(ctx, sess.SeriesID, now, sess.StartsAt)
		if err != nil {
			return Message{}, err
		}
		if ok {
			return Message{}, errPostpone{earlier.StartsAt}
		}
	}
	join, err := r.Links.SubscriberJoin(sess, sub)
	if err != nil {
		return Message{}, err
	}
	method := MethodRequest
	switch base {
	case store.KindAnnounce:
		msg.Subject = w.t("mail.announce.subject", "title", sess.Title)
		b.line(w.t("mail.announce.intro"))
	case store.KindReminder, store.KindResend:
		msg.Subject = w.t("mail.reminder.subject", "title", sess.Title)
		if base == store.KindReminder && m.Lead <= time.Hour {
			msg.Subject = w.t("mail.reminder.soon_subject", "title", sess.Title)
		}
		b.line(w.t("mail.reminder.intro"))
	case store.KindUpdate:
		msg.Subject = w.t("mail.update.subject", "title", sess.Title)
		b.line(w.t("mail.update.intro"))
	case store.KindCancel:
		msg.Subject = w.t("mail.cancel.subject", "title", sess.Title)
		b.line(w.t("mail.cancel.intro"))
		method = MethodCancel
	default:
		return Message{}, errSkip{"unknown kind " + m.Kind}
	}
	b.heading(sess.Title)
	b.field(w.t("mail.when"), r.Text.LongTime(sub.Lang, sess.StartsAt, sub.TZ))
	b.field(w.t("mail.plan"), strings.Join(w.planLines(sess.Plan), " · "))
	if method == MethodRequest {
		b.button(w.t("mail.join"), join)
		b.line(w.t("mail.join_note"))
		b.line(w.t("mail.calendar_note"))
		record, err := r.Links.Record(sub)
		if err != nil {
			return Message{}, err
		}
		b.link(w.t("mail.record"), record)
		if sess.SeriesID != "" {
			b.link(w.t("mail.series"), record+"#series")
		}
	}
	b.line(w.t("mail.signoff"))
	b.footer(w.t("mail.unsubscribe"), unsub)
	if msg.Text, msg.HTML, err = b.render(msg.Subject); err != nil {
		return Message{}, err
	}

	ev := Event{Session: sess, URL: join, Organizer: r.From.Address, Attendee: sub.Email, AttendeeCN: sub.Name,
		Description: strings.Join(w.planLines(sess.Plan), "\n") + "\n\n" + join}
	if method == MethodCancel {
		ev.URL, ev.Description = "", ""
	}
	if msg.Calendar, err = Calendar(method, host, now, ev); err != nil {
		return Message{}, err
	}
	msg.CalendarMethod = method
	return msg, nil
}

//go:embed templates
var templateFiles embed.FS

// The mail's two bodies, from the same blocks: HTML (html/template escapes
// every text and link) and plain text.
var (
	htmlMail = htmltemplate.Must(htmltemplate.ParseFS(templateFiles, "templates/mail.html"))
	textMail = texttemplate.Must(texttemplate.New("mail.txt").Funcs(texttemplate.FuncMap{
		"underline": func(s string) string { return strings.Repeat("=", len([]rune(s))) },
	}).ParseFS(templateFiles, "templates/mail.txt"))
)

// block is one piece of a mail's body.
type block struct {
	Kind  string // line, heading, field, button, link, footer
	Text  string
	Lines []string
	Label string
	Link  string
}

// body gathers a mail's blocks, in order.
type body struct {
	lang   string
	blocks []block
}

func (b *body) line(s string) {
	b.blocks = append(b.blocks, block{Kind: "line", Lines: strings.Split(s, "\n")})
}
func (b *body) heading(s string) { b.blocks = append(b.blocks, block{Kind: "heading", Text: s}) }
func (b *body) field(name, value string) {
	b.blocks = append(b.blocks, block{Kind: "field", Label: name, Text: value})
}
func (b *body) button(label, link string) {
	b.blocks = append(b.blocks, block{Kind: "button", Label: label, Link: link})
}
func (b *body) link(text, link string) {
	b.blocks = append(b.blocks, block{Kind: "link", Label: text, Link: link})
}
func (b *body) footer(text, link string) {
	b.blocks = append(b.blocks, block{Kind: "footer", Label: text, Link: link})
}

// render writes the plain text and the HTML.
func (b *body) render(subject string) (plain, rich string, err error) {
	view := struct {
		Lang, Subject string
		Blocks        []block
	}{b.lang, subject, b.blocks}
	var t, h bytes.Buffer
	if err := textMail.Execute(&t, view); err != nil {
		return "", "", fmt.Errorf("render mail text: %w", err)
	}
	if err := htmlMail.Execute(&h, view); err != nil {
		return "", "", fmt.Errorf("render mail HTML: %w", err)
	}
	return t.String(), h.String(), nil
}
