// Package newsletter sends the subscribers' mail: confirmations,
// announcements, reminders, updates and cancellations of sessions, each with
// the subscriber's own join link and a calendar entry, in English or German.
//
// Mails are queued as rows of the store's outbox, in the same transaction as
// the change that causes them; the Worker here renders each from the data as
// it is when it goes out and delivers it through a Transport (SMTP, or .eml
// files), with retries and backoff. The body comes from the templates in
// templates/ (HTML through html/template), the MIME structure from
// go-message, the SMTP exchange from go-smtp's client. Each (subscriber,
// session, kind, lead, sequence) is one row, so it is sent once. The one window left is a crash between the mail
// server accepting a mail and the row being marked sent: the mail then goes
// out again on restart with the same Message-ID, which mail systems use to
// drop duplicates. This package knows nothing of HTTP or media.
package newsletter

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/worktogether/worktogether/store"
	"go.uber.org/zap"
)

// Config sets up a Worker.
type Config struct {
	Store     *store.Store
	Renderer  *Renderer
	Transport Transport
	Log       *zap.Logger
	Now       func() time.Time // the server clock; time.Now when nil
	// Backoff is the wait after the nth failed attempt (n from 1);
	// DefaultBackoff when nil.
	Backoff     func(n int) time.Duration
	MaxAttempts int           // after this many failures a mail is given up; 10 when 0
	Poll        time.Duration // longest sleep between looks at the outbox; 30 s when 0
}

// DefaultBackoff waits 30 s, then doubles, up to an hour.
func DefaultBackoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Worker sends what the outbox holds, as it comes due.
type Worker struct {
	cfg  Config
	wake chan struct{}
}

// NewWorker makes a worker; Run starts it.
func NewWorker(cfg Config) *Worker {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 30 * time.Second
	}
	return &Worker{cfg: cfg, wake: make(chan struct{}, 1)}
}

// Wake makes the worker look at the outbox now (after something was queued).
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends mail until ctx is done.
func (w *Worker) Run(ctx context.Context) {
	for {
		w.drain(ctx)
		wait := w.cfg.Poll
		if next, ok, err := w.cfg.Store.NextDue(ctx); err == nil && ok {
			if d := next.Sub(w.cfg.Now()); d < wait {
				wait = max(d, 0)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// SendDue sends every mail due by the worker's clock now, and returns when
// done: what Run does each time it wakes (tests drive it with their own
// clock).
func (w *Worker) SendDue(ctx context.Context) { w.drain(ctx) }

// drain sends every mail that is due, a batch at a time.
func (w *Worker) drain(ctx context.Context) {
	for ctx.Err() == nil {
		due, err := w.cfg.Store.DueMails(ctx, w.cfg.Now(), 20)
		if err != nil {
			if ctx.Err() == nil {
				w.cfg.Log.Error("read outbox", zap.Error(err))
			}
			return
		}
		if len(due) == 0 {
			return
		}
		for _, m := range due {
			w.send(ctx, m)
		}
	}
}

// send renders and delivers one mail, and records how it went.
func (w *Worker) send(ctx context.Context, m store.OutboxMail) {
	log := w.cfg.Log.With(zap.Int64("mail", m.ID), zap.String("kind", m.Kind), zap.String("session", m.SessionID))
	now := w.cfg.Now()
	msg, err := w.cfg.Renderer.Render(ctx, m, now)
	var (
		skip     errSkip
		postpone errPostpone
	)
	if errors.As(err, &postpone) {
		log.Debug("mail postponed", zap.Time("until", postpone.until))
		w.record(ctx, log, w.cfg.Store.Postpone(ctx, m.ID, postpone.until))
		return
	}
	if errors.As(err, &skip) {
		log.Info("mail skipped", zap.String("why", skip.why))
		w.record(ctx, log, w.cfg.Store.MarkDone(ctx, m.ID, "skipped", skip.why))
		return
	}
	var raw []byte
	if err == nil {
		raw, err = msg.Bytes()
	}
	if err == nil {
		err = w.cfg.Transport.Send(ctx, msg.From.Address, msg.To.Address, msg, raw)
	}
	if err == nil {
		log.Info("mail sent", zap.String("to", redact(msg.To)))
		w.record(ctx, log, w.cfg.Store.MarkSent(ctx, m.ID, now))
		return
	}
	// Mail servers name the recipient in their refusals: keep the address
	// out of the log and the outbox.
	why := hideAddress(err.Error(), msg.To.Address)
	attempt := m.Attempts + 1
	var permanent errPermanent
	if errors.As(err, &permanent) || attempt >= w.cfg.MaxAttempts {
		log.Warn("mail failed for good", zap.Int("attempts", attempt), zap.String("error", why))
		w.record(ctx, log, w.cfg.Store.MarkDone(ctx, m.ID, "failed", why))
		return
	}
	next := now.Add(w.cfg.Backoff(attempt))
	log.Info("mail will be retried", zap.Int("attempt", attempt), zap.Time("next", next), zap.String("error", why))
	w.record(ctx, log, w.cfg.Store.MarkRetry(ctx, m.ID, next, why))
}

func (w *Worker) record(ctx context.Context, log *zap.Logger, err error) {
	if err != nil && ctx.Err() == nil {
		log.Error("record mail status", zap.Error(err))
	}
}

// redact keeps logs free of full addresses.
func redact(a mail.Address) string {
	at := len(a.Address)
	for i, c := range a.Address {
		if c == '@' {
			at = i
			break
		}
	}
	if at <= 1 {
		return "…" + a.Address[at:]
	}
	return a.Address[:1] + "…" + a.Address[at:]
}

// hideAddress replaces every mention of addr in s (any case) by its
// redacted form.
func hideAddress(s, addr string) string {
	if addr == "" {
		return s
	}
	short := redact(mail.Address{Address: addr})
	lower, target := strings.ToLower(s), strings.ToLower(addr)
	var b strings.Builder
	for {
		i := strings.Index(lower, target)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(short)
		s, lower = s[i+len(target):], lower[i+len(target):]
	}
}
