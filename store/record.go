package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// RecordEntry is one session a subscriber took part in, with what they
// committed to and reported there.
type RecordEntry struct {
	Session     Session
	Participant Participant
}

// inList is "(?, ?, …)" for n values, and the values as arguments.
func inList(ids []string) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "(?" + strings.Repeat(", ?", len(ids)-1) + ")", args
}

// subscriberExists returns ErrNotFound for no such subscriber.
func subscriberExists(ctx context.Context, q rowQueryer, id string) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM subscribers WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("subscriber %s: %w", id, err)
	}
	return nil
}

// ForgetSubscriber deletes a subscriber and everything kept of them: their
// row, their mails, the series they stopped following and, in every session
// they joined with a mail's link, their participant, commitment and report.
// It returns ErrNotFound for no such subscriber.
func (s *Store) ForgetSubscriber(ctx context.Context, subscriberID string) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("forget subscriber: %w", err)
	}
	defer tx.Rollback()
	if err := subscriberExists(ctx, tx, subscriberID); err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM commitments WHERE participant_id IN (SELECT id FROM participants WHERE subscriber_id = ?)`,
		`DELETE FROM reports WHERE participant_id IN (SELECT id FROM participants WHERE subscriber_id = ?)`,
		`DELETE FROM participants WHERE subscriber_id = ?`,
		`DELETE FROM outbox WHERE subscriber_id = ?`,
		`DELETE FROM unfollowed WHERE subscriber_id = ?`,
		`DELETE FROM subscribers WHERE id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, subscriberID); err != nil {
			return fmt.Errorf("forget subscriber: %w", err)
		}
	}
	return tx.Commit()
}

// sessionColumnsOf is sessionColumns, each qualified with the table alias.
func sessionColumnsOf(alias string) string {
	cols := strings.Split(sessionColumns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// SubscriberRecord lists the sessions (not cancelled) a subscriber joined
// with the personal link from their mails, newest first, in one query. It
// returns ErrNotFound for no such subscriber.
func (s *Store) SubscriberRecord(ctx context.Context, subscriberID string) ([]RecordEntry, error) {
	if err := subscriberExists(ctx, s.rd, subscriberID); err != nil {
		return nil, err
	}
	rows, err := s.rd.QueryContext(ctx, `SELECT `+sessionColumnsOf("s")+`, `+participantColumns+participantFrom+`
		JOIN sessions s ON s.id = p.session_id
		WHERE p.subscriber_id = ? AND p.joined_at IS NOT NULL AND s.cancelled_at IS NULL
		ORDER BY s.starts_at DESC, s.id`, subscriberID)
	if err != nil {
		return nil, fmt.Errorf("record of %s: %w", subscriberID, err)
	}
	defer rows.Close()
	var out []RecordEntry
	for rows.Next() {
		var e RecordEntry
		if err := scanSessionAndParticipant(rows, &e.Session, &e.Participant); err != nil {
			return nil, fmt.Errorf("record of %s: %w", subscriberID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("record of %s: %w", subscriberID, err)
	}
	return out, nil
}

// scanSessionAndParticipant reads a row of sessionColumns followed by
// participantColumns.
func scanSessionAndParticipant(rows *sql.Rows, sess *Session, p *Participant) error {
	var (
		sc  sessionScan
		pc  participantScan
		err error
	)
	if err := rows.Scan(append(sc.dest(sess), pc.dest(p)...)...); err != nil {
		return err
	}
	if *sess, err = sc.finish(*sess); err != nil {
		return err
	}
	*p, err = pc.finish(*p)
	return err
}

// Outcome is how a session went, in numbers: how many joined, how many
// tasks they committed to and how many got done.
type Outcome struct {
	People    int
	Tasks     int
	TasksDone int
}

// Outcomes tallies the given sessions in one query.
func (s *Store) Outcomes(ctx context.Context, sessionIDs []string) (map[string]Outcome, error) {
	out := make(map[string]Outcome, len(sessionIDs))
	if len(sessionIDs) == 0 {
		return out, nil
	}
	list, args := inList(sessionIDs)
	rows, err := s.rd.QueryContext(ctx, participantQuery+` WHERE p.joined_at IS NOT NULL AND p.session_id IN `+list, args...)
	if err != nil {
		return nil, fmt.Errorf("outcomes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanParticipant(rows)
		if err != nil {
			return nil, fmt.Errorf("outcomes: %w", err)
		}
		o := out[p.SessionID]
		tasks, done := p.Tally()
		o.People++
		o.Tasks += tasks
		o.TasksDone += done
		out[p.SessionID] = o
	}
	return out, rows.Err()
}

// MailCountsOf counts the mails of each given session by status, in one
// query; every status is in each answer, zero when absent.
func (s *Store) MailCountsOf(ctx context.Context, sessionIDs []string) (map[string]map[string]int, error) {
	out := make(map[string]map[string]int, len(sessionIDs))
	for _, id := range sessionIDs {
		out[id] = map[string]int{"queued": 0, "sent": 0, "failed": 0, "skipped": 0}
	}
	// In chunks of inChunk ids: SQLite bounds the arguments of a query.
	for ids := sessionIDs; len(ids) > 0; {
		n := min(len(ids), inChunk)
		if err := s.countMails(ctx, ids[:n], out); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}

// inChunk is the most ids one query takes.
const inChunk = 500

func (s *Store) countMails(ctx context.Context, ids []string, out map[string]map[string]int) error {
	list, args := inList(ids)
	rows, err := s.rd.QueryContext(ctx, `SELECT session_id, status, COUNT(*) FROM outbox WHERE session_id IN `+list+
		` GROUP BY session_id, status`, args...)
	if err != nil {
		return fmt.Errorf("count mails: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, status string
			n          int
		)
		if err := rows.Scan(&id, &status, &n); err != nil {
			return fmt.Errorf("count mails: %w", err)
		}
		out[id][status] = n
	}
	return rows.Err()
}
