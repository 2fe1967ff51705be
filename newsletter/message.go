package newsletter

import (
	"bytes"
	"fmt"
	"io"
	"net/mail"
	"sort"
	"time"

	gomail "github.com/emersion/go-message/mail"
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

// Bytes writes the message as RFC 5322 with MIME parts (go-message):
// plain text and HTML as alternatives, the calendar as an attachment. The
// library encodes names and the subject, and refuses a header value with a
// line break.
func (m Message) Bytes() ([]byte, error) {
	var h gomail.Header
	h.SetAddressList("From", []*gomail.Address{{Name: m.From.Name, Address: m.From.Address}})
	h.SetAddressList("To", []*gomail.Address{{Name: m.To.Name, Address: m.To.Address}})
	h.SetSubject(m.Subject)
	h.SetDate(m.Date)
	h.SetMessageID(m.MessageID)
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h.Set(k, m.Headers[k])
	}
	var buf bytes.Buffer
	mw, err := gomail.CreateWriter(&buf, h)
	if err != nil {
		return nil, errPermanent{fmt.Errorf("mail header: %w", err)}
	}
	alt, err := mw.CreateInline()
	if err != nil {
		return nil, err
	}
	for _, p := range []struct{ ctype, body string }{
		{"text/plain", m.Text},
		{"text/html", m.HTML},
	} {
		var ph gomail.InlineHeader
		ph.SetContentType(p.ctype, map[string]string{"charset": "utf-8"})
		if err := writePart(func() (io.WriteCloser, error) { return alt.CreatePart(ph) }, []byte(p.body)); err != nil {
			return nil, err
		}
	}
	if err := alt.Close(); err != nil {
		return nil, err
	}
	if m.Calendar != nil {
		var ah gomail.AttachmentHeader
		ah.SetContentType("text/calendar", map[string]string{"charset": "utf-8", "method": m.CalendarMethod, "name": "invite.ics"})
		ah.SetFilename("invite.ics")
		ah.Set("Content-Transfer-Encoding", "quoted-printable")
		if err := writePart(func() (io.WriteCloser, error) { return mw.CreateAttachment(ah) }, m.Calendar); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writePart creates one part and writes body into it.
func writePart(create func() (io.WriteCloser, error), body []byte) error {
	w, err := create()
	if err != nil {
		return fmt.Errorf("mail part: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		w.Close()
		return fmt.Errorf("mail part: %w", err)
	}
	return w.Close()
}
