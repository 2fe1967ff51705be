package newsletter

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
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

// ParseSMTP reads an smtp:// or smtps:// URL. Its errors never repeat the
// URL, which may carry a password.
func ParseSMTP(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL itself
		}
		return nil, fmt.Errorf("-smtp is not a URL like smtp://user:password@host:587: %w", err)
	}
	s := &SMTP{timeout: time.Minute}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.implicit = true
	default:
		return nil, errors.New("-smtp: scheme must be smtp or smtps")
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, errors.New("-smtp: no host")
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

// Send delivers one message with the go-smtp client: STARTTLS when offered
// (required unless the server is on this machine), AUTH PLAIN when a user
// is set. The whole exchange has one deadline.
func (s *SMTP) Send(ctx context.Context, from, to string, _ Message, raw []byte) error {
	deadline := time.Now().Add(s.timeout)
	tlsConfig := &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12, RootCAs: s.RootCAs}
	c, err := s.open(ctx, deadline, tlsConfig)
	if err != nil {
		return err
	}
	defer c.Close()
	if s.user != "" {
		if err := c.Auth(sasl.NewPlainClient("", s.user, s.pass)); err != nil {
			return classify("auth", err)
		}
	}
	if err := c.Mail(from, nil); err != nil {
		return classify("MAIL FROM", err)
	}
	if err := c.Rcpt(to, nil); err != nil {
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

// open connects and says hello, over TLS unless the server is on this
// machine and offers none.
func (s *SMTP) open(ctx context.Context, deadline time.Time, tlsConfig *tls.Config) (*smtp.Client, error) {
	dial := func() (net.Conn, error) {
		d := net.Dialer{Timeout: 15 * time.Second, Deadline: deadline}
		conn, err := d.DialContext(ctx, "tcp", s.addr)
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", s.addr, err)
		}
		return deadlineConn{Conn: conn, limit: deadline}, nil
	}
	conn, err := dial()
	if err != nil {
		return nil, err
	}
	if s.implicit {
		c := smtp.NewClient(tls.Client(conn, tlsConfig))
		if err := c.Hello("localhost"); err != nil {
			c.Close()
			return nil, classify("greeting", err)
		}
		return c, nil
	}
	c := smtp.NewClient(conn)
	if err := c.Hello("localhost"); err != nil {
		c.Close()
		return nil, classify("greeting", err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		if s.loopback() {
			return c, nil
		}
		c.Close()
		return nil, errPermanent{fmt.Errorf("%s offers no STARTTLS; use smtps:// or a server with TLS", s.host)}
	}
	// go-smtp starts TLS only on a fresh client: ask again on a new
	// connection, now knowing the server offers it.
	c.Close()
	if conn, err = dial(); err != nil {
		return nil, err
	}
	tc, err := smtp.NewClientStartTLS(conn, tlsConfig)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("starttls: %w", err)
	}
	return tc, nil
}

// deadlineConn keeps every deadline the SMTP client sets within one limit
// for the whole exchange.
type deadlineConn struct {
	net.Conn
	limit time.Time
}

func (c deadlineConn) clamp(t time.Time) time.Time {
	if t.IsZero() || t.After(c.limit) {
		return c.limit
	}
	return t
}

func (c deadlineConn) SetDeadline(t time.Time) error      { return c.Conn.SetDeadline(c.clamp(t)) }
func (c deadlineConn) SetReadDeadline(t time.Time) error  { return c.Conn.SetReadDeadline(c.clamp(t)) }
func (c deadlineConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.clamp(t)) }

// classify marks 5xx answers permanent.
func classify(step string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 {
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
