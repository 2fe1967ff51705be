// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 inside tests, collects what arrives, parses it as a person's mail
// program would, and can misbehave on purpose: refuse mail for a while, or
// drop the connection in the middle of it.
package smtptest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Server is a mail server for one test.
type Server struct {
	Addr     string // host:port
	User     string // when set, AUTH PLAIN with these is required
	Password string

	// Refuse is how many of the next messages to refuse with 451.
	Refuse atomic.Int32
	// Drop is how many of the next messages to cut off by closing the
	// connection.
	Drop atomic.Int32
	// RefuseRcpt is how many of the next recipients to refuse for good
	// (550), naming the address as real servers do.
	RefuseRcpt atomic.Int32

	// Roots trusts the server's certificate (StartTLS only).
	Roots    *x509.CertPool
	implicit bool

	srv  *smtp.Server
	mail chan *Mail
	mu   sync.Mutex
	all  []*Mail
}

// Start runs a server on a free loopback port.
func Start(user, password string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return serve(ln, user, password, nil), nil
}

// serve runs a server on ln; with starttls set it offers STARTTLS.
func serve(ln net.Listener, user, password string, starttls *tls.Config) *Server {
	s := &Server{Addr: ln.Addr().String(), User: user, Password: password, mail: make(chan *Mail, 1000)}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, conn: c}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.TLSConfig = starttls
	go s.srv.Serve(ln)
	return s
}

// URL is the -smtp setting that reaches this server.
func (s *Server) URL() string {
	scheme := "smtp"
	if s.implicit {
		scheme = "smtps"
	}
	if s.User != "" {
		return fmt.Sprintf("%s://%s:%s@%s", scheme, s.User, s.Password, s.Addr)
	}
	return scheme + "://" + s.Addr
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Next waits up to d for the next mail.
func (s *Server) Next(d time.Duration) (*Mail, error) {
	select {
	case m := <-s.mail:
		return m, nil
	case <-time.After(d):
		return nil, fmt.Errorf("no mail within %v", d)
	}
}

// All returns every mail received so far.
func (s *Server) All() []*Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Mail(nil), s.all...)
}

type session struct {
	srv    *Server
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.srv.User || pass != s.srv.Password {
			// What real servers answer (RFC 4954): invalid, not temporary.
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.User != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.RefuseRcpt.Load() > 0 && s.srv.RefuseRcpt.Add(-1) >= 0 {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + strings.ToUpper(to) + ">: mailbox unavailable"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	if s.srv.Drop.Load() > 0 && s.srv.Drop.Add(-1) >= 0 {
		s.conn.Conn().Close()
		return errors.New("connection dropped on purpose")
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.srv.Refuse.Load() > 0 && s.srv.Refuse.Add(-1) >= 0 {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	m, err := Parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "unparsable: " + err.Error()}
	}
	m.From, m.To = s.from, append([]string(nil), s.to...)
	_, m.TLS = s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.all = append(s.srv.all, m)
	s.srv.mu.Unlock()
	s.srv.mail <- m
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// Mail is one message as a reader sees it.
type Mail struct {
	From         string
	To           []string
	Header       mail.Header
	Subject      string
	Text         string
	HTML         string
	Calendar     []byte
	CalendarType string // the calendar part's Content-Type
	Raw          []byte
	TLS          bool // it came over TLS
}

// Parse reads a message as a mail program would: the header with net/mail,
// the MIME tree with go-message, which undoes each part's transfer
// encoding and charset.
func Parse(raw []byte) (*Mail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	m := &Mail{Header: msg.Header, Raw: raw}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return nil, err
	}
	ent, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse MIME: %w", err)
	}
	err = ent.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil {
			return err
		}
		mt, _, err := part.Header.ContentType()
		if err != nil {
			return err
		}
		if strings.HasPrefix(mt, "multipart/") {
			return nil
		}
		data, err := io.ReadAll(part.Body)
		if err != nil {
			return err
		}
		switch mt {
		case "text/plain":
			m.Text = string(data)
		case "text/html":
			m.HTML = string(data)
		case "text/calendar":
			m.Calendar, m.CalendarType = data, part.Header.Get("Content-Type")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("parse MIME: %w", err)
	}
	return m, nil
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// Link returns the first link in the plain text whose path contains part.
func (m *Mail) Link(part string) string {
	for _, l := range linkRE.FindAllString(m.Text, -1) {
		if strings.Contains(l, part) {
			return l
		}
	}
	return ""
}
