package newsletter

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Transport delivers one rendered mail.
type Transport interface {
	Send(ctx context.Context, from, to string, msg Message, raw []byte) error
}

// errPermanent marks a delivery the server refused for good (5xx): retrying
// will not help.
type errPermanent struct{ err error }

func (e errPermanent) Error() string { return e.err.Error() }
func (e errPermanent) Unwrap() error { return e.err }

// SMTP sends through a mail server: smtp://user:pass@host:port uses STARTTLS
// (plain text only to a server on this machine), smtps://… TLS from the start.
type SMTP struct {
	addr     string
	host     string
	user     string
	pass     string
	implicit bool
	timeout  time.Duration

	// RootCAs, when set, are the certificates trusted for the server's TLS
	// instead of the system's (tests, private mail servers).
	RootCAs *x509.CertPool
}

// ParseSMTP reads an smtp:// or smtps:// URL.
func ParseSMTP(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-smtp: %w", err)
	}
	s := &SMTP{timeout: time.Minute}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.implicit = true
	default:
		return nil, fmt.Errorf("-smtp %q: scheme must be smtp or smtps", raw)
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, fmt.Errorf("-smtp %q: no host", raw)
	}
	port := u.Port()
	if port == "" {
		port = "587"
		if s.implicit {
			port = "465"
		}
	}
	s.addr = net.JoinHostPort(s.host, port)
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	return s, nil
}

func (s *SMTP) loopback() bool {
	if s.host == "localhost" {
		return true
	}
	ip := net.ParseIP(s.host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers one message.
func (s *SMTP) Send(ctx context.Context, from, to string, _ Message, raw []byte) error {
	d := net.Dialer{Timeout: 15 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", s.addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(s.timeout))
	tlsConfig := &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12, RootCAs: s.RootCAs}
	if s.implicit {
		conn = tls.Client(conn, tlsConfig)
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return classify("greeting", err)
	}
	defer c.Close()
	if !s.implicit {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConfig); err != nil {
				return fmt.Errorf("starttls: %w", err)
			}
		} else if !s.loopback() {
			return errPermanent{fmt.Errorf("%s offers no STARTTLS; use smtps:// or a server with TLS", s.host)}
		}
	}
	if s.user != "" {
		if err := c.Auth(smtp.PlainAuth("", s.user, s.pass, s.host)); err != nil {
			return classify("auth", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return classify("MAIL FROM", err)
	}
	if err := c.Rcpt(to); err != nil {
		return classify("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return classify("DATA", err)
	}
	if _, err := w.Write(raw); err != nil {
		return classify("DATA", err)
	}
	if err := w.Close(); err != nil {
		return classify("DATA", err)
	}
	return c.Quit()
}

// classify marks 5xx answers permanent.
func classify(step string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return errPermanent{fmt.Errorf("%s: %w", step, err)}
	}
	return fmt.Errorf("%s: %w", step, err)
}

// Files writes each mail as an .eml file into a directory: the default when
// no mail server is configured, so the flow can be seen without one. A mail
// written twice lands in the same file.
type Files struct {
	Dir string
}

// Send writes the message to Dir/<message id>.eml.
func (f Files) Send(_ context.Context, _, _ string, msg Message, raw []byte) error {
	if err := os.MkdirAll(f.Dir, 0o750); err != nil {
		return fmt.Errorf("create outbox directory: %w", err)
	}
	name := strings.NewReplacer("@", "_", "/", "_", "<", "", ">", "").Replace(msg.MessageID) + ".eml"
	tmp, err := os.CreateTemp(f.Dir, ".writing-*")
	if err != nil {
		return fmt.Errorf("write mail: %w", err)
	}
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write mail: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write mail: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(f.Dir, name)); err != nil {
		return fmt.Errorf("write mail: %w", err)
	}
	return nil
}
