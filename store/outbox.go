package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Kinds of mail in the outbox. A reminder also has its lead and the
// session's sequence, an update the sequence, a confirmation and a resend the
// time they were asked for: each (subscriber, session, kind, lead, sequence,
// asked) is one row, so a reschedule gets a fresh set while each is still
// sent at most once.
const (
	KindConfirm  = "confirm"
	KindAnnounce = "announce"
	KindReminder = "reminder"
	KindUpdate   = "update"
	KindCancel   = "cancel"
	KindResend   = "resend"
)

// MinAnnounced is the shortest plan that is announced to the list: shorter
// ones are try-outs.
const MinAnnounced = 10 * time.Minute

// Notify says how to queue the mails a change causes: when it happens, how
// long before a session its reminders go out, and how long before it the
// list hears of it (0: at once).
type Notify struct {
	Now          time.Time
	Leads        []time.Duration
	AnnounceLead time.Duration
}

// OutboxMail is one mail to send: what, to whom, about which session.
type OutboxMail struct {
	ID           int64
	Kind         string
	Lead         time.Duration // a reminder's lead
	Sequence     int           // the session's sequence a reminder or update was queued for
	SubscriberID string
	SessionID    string
	SendAfter    time.Time
	Attempts     int
}

// queued is one kind of mail to queue.
type queued struct {
	kind      string
	lead      time.Duration
	seq       int
	requested time.Time // confirm, resend: each request is its own mail
}

func (q queued) args() []any {
	var req int64
	if !q.requested.IsZero() {
		req = ms(q.requested)
	}
	return []any{q.kind, int64(q.lead / time.Second), q.seq, req}
}

// outboxInsert, with a SELECT or VALUES after it and onDup at the end,
// queues mails; a mail already there (the same subscriber, session, kind,
// lead, sequence and request time) is left as it is.
const outboxInsert = `INSERT INTO outbox (kind, lead_seconds, sequence, requested_at, subscriber_id, session_id,
	send_after, next_attempt_at, created_at) `

// onDup ends an insert that leaves an existing row alone (SQLite's INSERT
// OR IGNORE, in the spelling both engines take). In SQLite an INSERT …
// SELECT before it needs a WHERE, or ON would read as a join's.
const onDup = `
	ON CONFLICT DO NOTHING`

// followers picks, from subscribers aliased sub, the confirmed ones who
// still follow the series of session ? (all of them for a single session).
const followers = `sub.status = 'confirmed' AND NOT EXISTS (SELECT 1 FROM unfollowed u JOIN sessions fs ON fs.series_id = u.series_id
	WHERE fs.id = ? AND u.subscriber_id = sub.id)`

// queueForFollowers queues one mail for every confirmed subscriber who
// follows the session's series. A mail already queued or sent is left alone.
func queueForFollowers(ctx context.Context, tx execer, q queued, sessionID string, sendAfter, now time.Time) error {
	args := append(q.args(), sessionID, ms(sendAfter), ms(sendAfter), ms(now), sessionID)
	_, err := tx.ExecContext(ctx, outboxInsert+`SELECT ?, ?, ?, ?, sub.id, ?, ?, ?, ? FROM subscribers sub WHERE `+followers+onDup, args...)
	if err != nil {
		return fmt.Errorf("queue %s mails: %w", q.kind, err)
	}
	return nil
}

// queueFor queues one mail for one subscriber.
func queueFor(ctx context.Context, tx execer, q queued, subscriberID, sessionID string, sendAfter, now time.Time) error {
	args := append(q.args(), subscriberID, sessionID, ms(sendAfter), ms(sendAfter), ms(now))
	_, err := tx.ExecContext(ctx, outboxInsert+`VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`+onDup, args...)
	if err != nil {
		return fmt.Errorf("queue %s mail: %w", q.kind, err)
	}
	return nil
}

// Announced tells whether the list hears of a session at all: not when it
// is private (invite links only) or a try-out shorter than MinAnnounced.
func (s Session) Announced() bool {
	return !s.Private && s.Plan.Duration() >= MinAnnounced
}

// announceAt is when the list hears of sess: AnnounceLead before it starts,
// or now when that has passed.
func announceAt(sess Session, n Notify) time.Time {
	if n.AnnounceLead <= 0 {
		return n.Now
	}
	if at := sess.StartsAt.Add(-n.AnnounceLead); at.After(n.Now) {
		return at
	}
	return n.Now
}

// reminderTimes lists the reminders of a session that are still ahead and
// come after its announcement.
func reminderTimes(sess Session, n Notify) map[queued]time.Time {
	out := map[queued]time.Time{}
	first := announceAt(sess, n)
	for _, lead := range n.Leads {
		at := sess.StartsAt.Add(-lead)
		if at.After(n.Now) && !at.Before(first) {
			out[queued{kind: KindReminder, lead: lead, seq: sess.Sequence}] = at
		}
	}
	return out
}

// queueAnnouncement queues a session's announcement and reminders to its
// followers, when it is announced at all.
func queueAnnouncement(ctx context.Context, tx execer, sess Session, n Notify) error {
	if !sess.Announced() {
		return nil
	}
	if err := queueForFollowers(ctx, tx, queued{kind: KindAnnounce}, sess.ID, announceAt(sess, n), n.Now); err != nil {
		return err
	}
	for q, at := range reminderTimes(sess, n) {
		if err := queueForFollowers(ctx, tx, q, sess.ID, at, n.Now); err != nil {
			return err
		}
	}
	return nil
}

// skipQueued marks a session's queued mails of the given kinds (all with
// none) as skipped.
func skipQueued(ctx context.Context, tx execer, sessionID, reason string, kinds ...string) error {
	q := `UPDATE outbox SET status = 'skipped', last_error = ? WHERE session_id = ? AND status = 'queued'`
	args := []any{reason, sessionID}
	if len(kinds) > 0 {
		list, kargs := inList(kinds)
		q += ` AND kind IN ` + list
		args = append(args, kargs...)
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("skip queued mails: %w", err)
	}
	return nil
}

// DueMails returns up to limit queued mails whose time has come.
func (s *Store) DueMails(ctx context.Context, now time.Time, limit int) ([]OutboxMail, error) {
	rows, err := s.rd.QueryContext(ctx, `SELECT id, kind, lead_seconds, sequence, subscriber_id, session_id, send_after, attempts FROM outbox
		WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due mails: %w", err)
	}
	defer rows.Close()
	var out []OutboxMail
	for rows.Next() {
		var (
			m               OutboxMail
			lead, sendAfter int64
		)
		if err := rows.Scan(&m.ID, &m.Kind, &lead, &m.Sequence, &m.SubscriberID, &m.SessionID, &sendAfter, &m.Attempts); err != nil {
			return nil, fmt.Errorf("due mails: %w", err)
		}
		m.SendAfter = fromMS(sendAfter)
		m.Lead = time.Duration(lead) * time.Second
		out = append(out, m)
	}
	return out, rows.Err()
}

// NextDue is when the next queued mail is due, if any.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	err := s.rd.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'queued'`).Scan(&next)
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
	rows, err := s.rd.QueryContext(ctx, query, args...)
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
// subscriber who follows the session; a session the list never hears of
// (private, a try-out) gets none.
func (s *Store) QueueResend(ctx context.Context, sessionID string, now time.Time) error {
	sess, err := s.GetSession(ctx, sessionID)
	if err != nil {
		return err
	}
	if !sess.Announced() {
		return nil
	}
	return queueForFollowers(ctx, s.db, queued{kind: KindResend, requested: now}, sessionID, now, now)
}

// Postpone moves a queued mail to a later time without counting an attempt
// (an announcement that waits until its series' earlier occurrence has
// begun).
func (s *Store) Postpone(ctx context.Context, id int64, until time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = ?, send_after = ? WHERE id = ? AND status = 'queued'`, ms(until), ms(until), id)
	if err != nil {
		return fmt.Errorf("postpone mail %d: %w", id, err)
	}
	return nil
}
