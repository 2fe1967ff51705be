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

// SubscriberRecord lists the sessions a subscriber joined with the personal
// link from their mails, newest first. participantID gives the participant
// id a subscriber has in a session (the same in every mail); sessions that
// started before the subscriber signed up cannot have been announced to
// them and are not looked at. It returns ErrNotFound for no such subscriber.
func (s *Store) SubscriberRecord(ctx context.Context, subscriberID string, participantID func(sessionID string) string) ([]RecordEntry, error) {
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT created_at FROM subscribers WHERE id = ?`, subscriberID).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("record of %s: %w", subscriberID, err)
	}
	// A day's margin: a session moved a little earlier after it was announced.
	sessions, err := s.ListSessions(ctx, fromMS(created).Add(-24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("record of %s: %w", subscriberID, err)
	}
	byParticipant := make(map[string]Session, len(sessions))
	ids := make([]string, 0, len(sessions))
	for _, sess := range sessions {
		id := participantID(sess.ID)
		byParticipant[id] = sess
		ids = append(ids, id)
	}
	var out []RecordEntry
	for len(ids) > 0 {
		n := min(len(ids), recordChunk)
		chunk := ids[:n]
		ids = ids[n:]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.db.QueryContext(ctx, participantQuery+` WHERE p.joined_at IS NOT NULL AND p.id IN (?`+
			strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
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
