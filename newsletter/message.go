package newsletter

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"sort"
	"strings"
	"time"
)

// Message is one mail, ready to be written out.
type Message struct {
	From           mail.Address
	To             mail.Address
	Subject        string
	Text           string
	HTML           string
	Calendar       []byte // an iCalendar object, attached when not nil
	CalendarMethod string
	MessageID      string // stable per outbox row, so a repeat is recognisable
	Date           time.Time
	Headers        map[string]string // extra headers (List-Unsubscribe, …)
}

// Bytes writes the message as RFC 5322 with MIME parts: plain text and HTML
// as alternatives, the calendar as an attachment.
func (m Message) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	mixed := multipart.NewWriter(&buf)
	// The alternatives' boundary is chosen first: it goes in the header of the
	// part that holds them.
	altBoundary := multipart.NewWriter(io.Discard).Boundary()
	head := textproto.MIMEHeader{}
	head.Set("From", m.From.String())
	head.Set("To", m.To.String())
	head.Set("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	head.Set("Date", m.Date.Format(time.RFC1123Z))
	head.Set("Message-ID", "<"+m.MessageID+">")
	head.Set("MIME-Version", "1.0")
	head.Set("Content-Type", "multipart/mixed; boundary="+mixed.Boundary())
	for k, v := range m.Headers {
		head.Set(k, v)
	}
	var out bytes.Buffer
	keys := make([]string, 0, len(head))
	for k := range head {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := head.Get(k)
		if strings.ContainsAny(k+v, "\r\n") {
			// Every value above is encoded; this would be a bug, never a
			// header of someone's choosing.
			return nil, errPermanent{fmt.Errorf("header %s carries a line break", k)}
		}
		fmt.Fprintf(&out, "%s: %s\r\n", k, v)
	}
	out.WriteString("\r\n")

	// The alternatives, inside one part of the mixed body.
	altPart, err := mixed.CreatePart(textproto.MIMEHeader{"Content-Type": {"multipart/alternative; boundary=" + altBoundary}})
	if err != nil {
		return nil, err
	}
	alt := multipart.NewWriter(altPart)
	if err := alt.SetBoundary(altBoundary); err != nil {
		return nil, err
	}
	for _, p := range []struct{ ctype, body string }{
		{"text/plain; charset=utf-8", m.Text},
		{"text/html; charset=utf-8", m.HTML},
	} {
		w, err := alt.CreatePart(textproto.MIMEHeader{"Content-Type": {p.ctype}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(p.body)); err != nil {
			return nil, err
		}
		qp.Close()
	}
	if err := alt.Close(); err != nil {
		return nil, err
	}
	if m.Calendar != nil {
		w, err := mixed.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {fmt.Sprintf("text/calendar; charset=utf-8; method=%s; name=invite.ics", m.CalendarMethod)},
			"Content-Disposition":       {"attachment; filename=invite.ics"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write(m.Calendar); err != nil {
			return nil, err
		}
		qp.Close()
	}
	if err := mixed.Close(); err != nil {
		return nil, err
	}
	out.Write(buf.Bytes())
	return out.Bytes(), nil
}
