package newsletter

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/mail"
	"strconv"
	"strings"
	"time"

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
}

// kindOf splits an outbox kind into its base ("reminder") and the lead of a
// reminder.
func kindOf(kind string) (base string, lead time.Duration) {
	parts := strings.Split(kind, "-")
	if parts[0] == "reminder" && len(parts) >= 2 {
		secs, _ := strconv.Atoi(parts[1])
		lead = time.Duration(secs) * time.Second
	}
	return parts[0], lead
}

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
	base, lead := kindOf(m.Kind)
	w := wordsFor(sub.Lang)
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
	var b body
	if base == store.KindConfirm {
		// The address has not confirmed yet: the mail carries nothing the
		// person who signed up chose (no name in To or in the greeting),
		// so sign-ups cannot send others words of their choosing.
		msg.To.Name = ""
		b.line(w.greetingAnon)
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
		msg.Subject = w.confirmSubject
		b.line(w.confirmIntro)
		b.button(w.confirmButton, link)
		b.line(w.confirmIgnore)
		b.line(w.signoff)
		msg.Text, msg.HTML = b.text(), b.html()
		return msg, nil
	}
	if sub.Status != store.StatusConfirmed {
		return Message{}, errSkip{"subscriber is " + sub.Status}
	}
	b.line(fmt.Sprintf(w.greeting, sub.Name))
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
	if base != store.KindCancel && !now.Before(sess.StartsAt.Add(sess.Plan.Duration())) {
		return Message{}, errSkip{"session is over"}
	}
	join, err := r.Links.SubscriberJoin(sess, sub)
	if err != nil {
		return Message{}, err
	}
	method := MethodRequest
	switch base {
	case store.KindAnnounce:
		msg.Subject = fmt.Sprintf(w.announceSubject, sess.Title)
		b.line(w.announceIntro)
	case "reminder", "resend":
		msg.Subject = fmt.Sprintf(w.reminderSubject, sess.Title)
		if base == "reminder" && lead <= time.Hour {
			msg.Subject = fmt.Sprintf(w.reminderSoonSubject, sess.Title)
		}
		b.line(w.reminderIntro)
	case "update":
		msg.Subject = fmt.Sprintf(w.updateSubject, sess.Title)
		b.line(w.updateIntro)
	case store.KindCancel:
		msg.Subject = fmt.Sprintf(w.cancelSubject, sess.Title)
		b.line(w.cancelIntro)
		method = MethodCancel
	default:
		return Message{}, errSkip{"unknown kind " + m.Kind}
	}
	b.heading(sess.Title)
	b.field(w.when, w.localTime(sess.StartsAt, sub.TZ))
	b.field(w.plan, strings.Join(w.planLines(sess.Plan), " · "))
	if method == MethodRequest {
		b.button(w.join, join)
		b.line(w.joinNote)
		b.line(w.calendarNote)
		record, err := r.Links.Record(sub)
		if err != nil {
			return Message{}, err
		}
		b.link(w.record, record)
	}
	b.line(w.signoff)
	b.footer(w.unsubscribe, unsub)
	msg.Text, msg.HTML = b.text(), b.html()

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

// body builds the plain text and the HTML of a mail side by side.
type body struct {
	plain strings.Builder
	rich  strings.Builder
}

func (b *body) line(s string) {
	b.plain.WriteString(s + "\n\n")
	b.rich.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(s), "\n", "<br>") + "</p>\n")
}

func (b *body) heading(s string) {
	b.plain.WriteString(s + "\n" + strings.Repeat("=", len([]rune(s))) + "\n")
	b.rich.WriteString(`<h2 style="margin:24px 0 8px;font-size:20px">` + html.EscapeString(s) + "</h2>\n")
}

func (b *body) field(name, value string) {
	b.plain.WriteString(name + ": " + value + "\n")
	b.rich.WriteString(`<p style="margin:4px 0"><strong>` + html.EscapeString(name) + ":</strong> " + html.EscapeString(value) + "</p>\n")
}

func (b *body) button(label, link string) {
	b.plain.WriteString("\n" + label + ": " + link + "\n\n")
	b.rich.WriteString(`<p style="margin:20px 0"><a href="` + html.EscapeString(link) +
		`" style="background:#2f6f5e;color:#fff;padding:10px 18px;border-radius:8px;text-decoration:none;font-weight:600">` +
		html.EscapeString(label) + "</a></p>\n")
}

func (b *body) link(text, link string) {
	b.plain.WriteString(text + "\n" + link + "\n\n")
	b.rich.WriteString("<p>" + html.EscapeString(text) + ` <a href="` + html.EscapeString(link) + `">` + html.EscapeString(link) + "</a></p>\n")
}

func (b *body) footer(text, link string) {
	b.plain.WriteString("--\n" + text + "\n" + link + "\n")
	b.rich.WriteString(`<hr style="border:0;border-top:1px solid #ddd;margin:24px 0"><p style="color:#777;font-size:13px">` +
		html.EscapeString(text) + ` <a href="` + html.EscapeString(link) + `" style="color:#777">` + html.EscapeString(link) + "</a></p>\n")
}

func (b *body) text() string { return b.plain.String() }

func (b *body) html() string {
	return `<!doctype html><html><body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2328;max-width:560px;margin:auto;line-height:1.5">` +
		"\n" + b.rich.String() + "</body></html>\n"
}
