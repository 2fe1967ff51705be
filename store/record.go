package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// RecordEntry is one session a subscriber took part in, with what they
// committed to and reported there.
type RecordEntry struct {
	Session     Session
	Participant Participant
}

// recordChunk is how many participant ids go into one query.
const recordChunk = 500

// subscriberParticipants gives the participant id the subscriber has in
// every session since they signed up, or with all in every session there
// is, cancelled ones too (whether they joined it or not), and the session of
// each. It returns ErrNotFound for no such subscriber.
func (s *Store) subscriberParticipants(ctx context.Context, subscriberID string, participantID func(string) string, all bool) (map[string]Session, []string, error) {
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT created_at FROM subscribers WHERE id = ?`, subscriberID).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sessions of subscriber %s: %w", subscriberID, err)
	}
	var sessions []Session
	if all { // cancelled ones too
		sessions, err = s.querySessions(ctx, "every session", "ORDER BY starts_at, id")
	} else {
		// A day's margin: a session moved a little earlier after it was announced.
		sessions, err = s.ListSessions(ctx, fromMS(created).Add(-24*time.Hour))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sessions of subscriber %s: %w", subscriberID, err)
	}
	byParticipant := make(map[string]Session, len(sessions))
	ids := make([]string, 0, len(sessions))
	for _, sess := range sessions {
		id := participantID(sess.ID)
		byParticipant[id] = sess
		ids = append(ids, id)
	}
	return byParticipant, ids, nil
}

// inList is "(?, ?, …)" for n values, and the values as arguments.
func inList(ids []string) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "(?" + strings.Repeat(", ?", len(ids)-1) + ")", args
}

// ForgetSubscriber deletes a subscriber and everything kept of them: their
// row, their mails, and, in every session they joined with a mail's link,
// their participant, commitment and report. It returns ErrNotFound for no
// such subscriber.
func (s *Store) ForgetSubscriber(ctx context.Context, subscriberID string, participantID func(string) string) error {
	_, ids, err := s.subscriberParticipants(ctx, subscriberID, participantID, true)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("forget subscriber: %w", err)
	}
	defer tx.Rollback()
	for len(ids) > 0 {
		n := min(len(ids), recordChunk)
		list, args := inList(ids[:n])
		ids = ids[n:]
		for _, table := range []string{"commitments", "reports"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE participant_id IN `+list, args...); err != nil {
				return fmt.Errorf("forget subscriber: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM participants WHERE id IN `+list, args...); err != nil {
			return fmt.Errorf("forget subscriber: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE subscriber_id = ?`, subscriberID); err != nil {
		return fmt.Errorf("forget subscriber: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM subscribers WHERE id = ?`, subscriberID); err != nil {
		return fmt.Errorf("forget subscriber: %w", err)
	}
	return tx.Commit()
}

// SubscriberRecord lists the sessions a subscriber joined with the personal
// link from their mails, newest first. participantID gives the participant
// id a subscriber has in a session (the same in every mail); sessions that
// started before the subscriber signed up cannot have been announced to
// them and are not looked at. It returns ErrNotFound for no such subscriber.
func (s *Store) SubscriberRecord(ctx context.Context, subscriberID string, participantID func(sessionID string) string) ([]RecordEntry, error) {
	byParticipant, ids, err := s.subscriberParticipants(ctx, subscriberID, participantID, false)
	if err != nil {
		return nil, err
	}
	var out []RecordEntry
	for len(ids) > 0 {
		n := min(len(ids), recordChunk)
		list, args := inList(ids[:n])
		ids = ids[n:]
		rows, err := s.db.QueryContext(ctx, participantQuery+` WHERE p.joined_at IS NOT NULL AND p.id IN `+list, args...)
		if err != nil {
			return nil, fmt.Errorf("record of %s: %w", subscriberID, err)
		}
		for rows.Next() {
			p, err := scanParticipant(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("record of %s: %w", subscriberID, err)
			}
			if sess, ok := byParticipant[p.ID]; ok && sess.ID == p.SessionID {
				out = append(out, RecordEntry{Session: sess, Participant: p})
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("record of %s: %w", subscriberID, err)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Session.StartsAt.Equal(out[j].Session.StartsAt) {
			return out[i].Session.StartsAt.After(out[j].Session.StartsAt)
		}
		return out[i].Session.ID < out[j].Session.ID
	})
	return out, nil
}
