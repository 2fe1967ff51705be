package newsletter

import (
	"context"
	"errors"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/smtptest"
)

func testMessage(id string) Message {
	return Message{
		From: mail.Address{Name: "Worktogether", Address: "hello@worktogether.test"}, To: mail.Address{Name: "Ada", Address: "ada@example.org"},
		Subject: "Grüße aus dem Test", Text: "plain ünïcode", HTML: "<p>rich</p>", MessageID: id + "@test", Date: time.Now(),
		Calendar: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), CalendarMethod: MethodRequest,
		Headers: map[string]string{"List-Unsubscribe": "<http://127.0.0.1/unsubscribe?token=x>"},
	}
}

func send(t *testing.T, s *SMTP, msg Message) error {
	t.Helper()
	raw, err := msg.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Send(ctx, msg.From.Address, msg.To.Address, msg, raw)
}

// Mail goes over TLS, STARTTLS or from the first byte, with authentication,
// and arrives as sent.
func TestSMTPOverTLSWithAuth(t *testing.T) {
	for _, implicit := range []bool{false, true} {
		srv, err := smtptest.StartTLS("mailer", "s3cret", implicit)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		s, err := ParseSMTP(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		s.RootCAs = srv.Roots
		if err := send(t, s, testMessage("tls")); err != nil {
			t.Fatalf("implicit=%v: %v", implicit, err)
		}
		m, err := srv.Next(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !m.TLS || m.Subject != "Grüße aus dem Test" || m.Text != "plain ünïcode" || m.HTML != "<p>rich</p>" ||
			!strings.Contains(m.CalendarType, "method=REQUEST") || m.Header.Get("Message-Id") != "<tls@test>" {
			t.Fatalf("implicit=%v: arrived %+v", implicit, m)
		}
	}
}

func TestSMTPRefusals(t *testing.T) {
	srv, err := smtptest.StartTLS("mailer", "s3cret", false)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// A certificate nobody vouches for is refused.
	s, _ := ParseSMTP(srv.URL())
	if err := send(t, s, testMessage("untrusted")); err == nil {
		t.Fatal("sent to a server with an untrusted certificate")
	}
	// Wrong credentials are refused for good, not retried.
	bad, _ := ParseSMTP(strings.Replace(srv.URL(), "s3cret", "wrong", 1))
	bad.RootCAs = srv.Roots
	err = send(t, bad, testMessage("badauth"))
	var perm errPermanent
	if err == nil || !errors.As(err, &perm) {
		t.Fatalf("bad credentials: %v", err)
	}
	for _, raw := range []string{"http://x", "smtp://", "::"} {
		if _, err := ParseSMTP(raw); err == nil {
			t.Errorf("%q accepted", raw)
		}
	}
}

func TestFilesWritesEachMailOnce(t *testing.T) {
	dir := t.TempDir()
	f := Files{Dir: filepath.Join(dir, "outbox")}
	msg := testMessage("wt-1-announce@host")
	raw, _ := msg.Bytes()
	for i := 0; i < 2; i++ { // sent twice (a retry): still one file
		if err := f.Send(context.Background(), "", "", msg, raw); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "outbox", "*"))
	if len(files) != 1 || !strings.HasSuffix(files[0], ".eml") {
		t.Fatalf("files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	if m, err := smtptest.Parse(b); err != nil || m.Subject != msg.Subject {
		t.Fatalf("eml: %v", err)
	}
}
