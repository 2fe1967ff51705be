package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Kinds of mail in the outbox. Reminders and updates carry the lead and the
// session's sequence in their kind, so that a reschedule gets a fresh set
// while each (subscriber, session, kind) is still sent at most once.
const (
	KindConfirm  = "confirm"
	KindAnnounce = "announce"
	KindCancel   = "cancel"
)

// ReminderKind names the reminder sent lead before a session of sequence seq.
func ReminderKind(lead time.Duration, seq int) string {
	return fmt.Sprintf("reminder-%d-%d", int(lead/time.Second), seq)
}

// UpdateKind names the mail that announces a session's new time.
func UpdateKind(seq int) string { return fmt.Sprintf("update-%d", seq) }

// ResendKind names a reminder the host sent again by hand.
func ResendKind(at time.Time) string { return fmt.Sprintf("resend-%d", at.UnixMilli()) }

// Notify says how to queue the mails a change causes: when it happens and how
// long before a session its reminders go out.
type Notify struct {
	Now   time.Time
	Leads []time.Duration
}

// OutboxMail is one mail to send: what, to whom, about which session.
type OutboxMail struct {
	ID           int64
	Kind         string
	SubscriberID string
	SessionID    string
	SendAfter    time.Time
	Attempts     int
}

// queueForConfirmed queues one mail of kind for every confirmed subscriber.
// A (subscriber, session, kind) already queued or sent is left alone.
func queueForConfirmed(ctx context.Context, tx execer, kind, sessionID string, sendAfter, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO outbox (kind, subscriber_id, session_id, send_after, next_attempt_at, created_at)
		SELECT ?, id, ?, ?, ?, ? FROM subscribers WHERE status = 'confirmed'`,
		kind, sessionID, ms(sendAfter), ms(sendAfter), ms(now))
	if err != nil {
		return fmt.Errorf("queue %s mails: %w", kind, err)
	}
	return nil
}

// queueFor queues one mail for one subscriber.
func queueFor(ctx context.Context, tx execer, kind, subscriberID, sessionID string, sendAfter, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO outbox (kind, subscriber_id, session_id, send_after, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, kind, subscriberID, sessionID, ms(sendAfter), ms(sendAfter), ms(now))
	if err != nil {
		return fmt.Errorf("queue %s mail: %w", kind, err)
	}
	return nil
}

// reminderTimes lists the reminders of a session that are still ahead.
func reminderTimes(sess Session, n Notify) map[string]time.Time {
	out := map[string]time.Time{}
	for _, lead := range n.Leads {
		at := sess.StartsAt.Add(-lead)
		if at.After(n.Now) {
			out[ReminderKind(lead, sess.Sequence)] = at
		}
	}
	return out
}

// skipQueued marks a session's queued mails of the given kinds (a LIKE
// pattern) as skipped.
func skipQueued(ctx context.Context, tx execer, sessionID, kindPattern, reason string) error {
	_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'skipped', last_error = ?
		WHERE session_id = ? AND status = 'queued' AND kind LIKE ?`, reason, sessionID, kindPattern)
	if err != nil {
		return fmt.Errorf("skip queued mails: %w", err)
	}
	return nil
}

// DueMails returns up to limit queued mails whose time has come.
func (s *Store) DueMails(ctx context.Context, now time.Time, limit int) ([]OutboxMail, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, subscriber_id, session_id, send_after, attempts FROM outbox
		WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due mails: %w", err)
	}
	defer rows.Close()
	var out []OutboxMail
	for rows.Next() {
		var (
			m         OutboxMail
			sendAfter int64
		)
		if err := rows.Scan(&m.ID, &m.Kind, &m.SubscriberID, &m.SessionID, &sendAfter, &m.Attempts); err != nil {
			return nil, fmt.Errorf("due mails: %w", err)
		}
		m.SendAfter = fromMS(sendAfter)
		out = append(out, m)
	}
	return out, rows.Err()
}

// NextDue is when the next queued mail is due, if any.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'queued'`).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due mail: %w", err)
	}
	return fromMS(next.Int64), next.Valid, nil
}

// MarkSent records that a mail went out.
func (s *Store) MarkSent(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = '' WHERE id = ?`, ms(at), id)
	if err != nil {
		return fmt.Errorf("mark mail %d sent: %w", id, err)
	}
	return nil
}

// MarkRetry records a failed attempt and when to try again.
func (s *Store) MarkRetry(ctx context.Context, id int64, next time.Time, why string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?`, ms(next), why, id)
	if err != nil {
		return fmt.Errorf("mark mail %d for retry: %w", id, err)
	}
	return nil
}

// MarkDone ends a mail without sending it: status "failed" (gave up) or
// "skipped" (no longer wanted), with the reason.
func (s *Store) MarkDone(ctx context.Context, id int64, status, why string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ? WHERE id = ?`, status, why, id)
	if err != nil {
		return fmt.Errorf("mark mail %d %s: %w", id, status, err)
	}
	return nil
}

// MailCounts counts a session's mails by status (queued, sent, failed,
// skipped); with sessionID "" it counts every mail.
func (s *Store) MailCounts(ctx context.Context, sessionID string) (map[string]int, error) {
	q := `SELECT status, COUNT(*) FROM outbox GROUP BY status`
	args := []any{}
	if sessionID != "" {
		q = `SELECT status, COUNT(*) FROM outbox WHERE session_id = ? GROUP BY status`
		args = append(args, sessionID)
	}
	out, err := s.countByStatus(ctx, []string{"queued", "sent", "failed", "skipped"}, q, args...)
	if err != nil {
		return nil, fmt.Errorf("count mails: %w", err)
	}
	return out, nil
}

// countByStatus runs a "SELECT status, COUNT(*) … GROUP BY status" query;
// every status in known is in the answer, zero when absent.
func (s *Store) countByStatus(ctx context.Context, known []string, query string, args ...any) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]int, len(known))
	for _, k := range known {
		out[k] = 0
	}
	for rows.Next() {
		var (
			status string
			n      int
		)
		if err := rows.Scan(&status, &n); err != nil {
			return nil, err
		}
		out[status] = n
	}
	return out, rows.Err()
}

// QueueResend queues a reminder, sent again by hand, to every confirmed
// subscriber.
func (s *Store) QueueResend(ctx context.Context, sessionID string, now time.Time) error {
	return queueForConfirmed(ctx, s.db, ResendKind(now), sessionID, now, now)
}
