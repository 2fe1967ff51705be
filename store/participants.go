package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// execer is what both *sql.DB and *sql.Tx offer for writes.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertParticipant(ctx context.Context, db execer, p Participant, at time.Time) error {
	_, err := db.ExecContext(ctx, `INSERT INTO participants (id, session_id, name, role, created_at) VALUES (?, ?, ?, ?, ?)`,
		p.ID, p.SessionID, p.Name, p.Role, ms(at))
	if err != nil {
		return fmt.Errorf("add participant: %w", err)
	}
	return nil
}

// AddParticipant stores an invited participant.
func (s *Store) AddParticipant(ctx context.Context, p Participant, at time.Time) error {
	return insertParticipant(ctx, s.db, p, at)
}

// MarkJoined records that p has joined its session, adding the participant if
// the token that brought them was made without a row (for example a
// subscriber's link).
func (s *Store) MarkJoined(ctx context.Context, p Participant, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO participants (id, session_id, name, role, created_at, joined_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET joined_at = COALESCE(joined_at, excluded.joined_at)`,
		p.ID, p.SessionID, p.Name, p.Role, ms(at), ms(at))
	if err != nil {
		return fmt.Errorf("mark %s joined: %w", p.ID, err)
	}
	return nil
}

// GetParticipant returns one participant of a session.
func (s *Store) GetParticipant(ctx context.Context, sessionID, id string) (Participant, error) {
	var (
		p      Participant
		joined sql.NullInt64
	)
	err := s.db.QueryRowContext(ctx, `SELECT id, session_id, name, role, joined_at FROM participants WHERE id = ? AND session_id = ?`,
		id, sessionID).Scan(&p.ID, &p.SessionID, &p.Name, &p.Role, &joined)
	if errors.Is(err, sql.ErrNoRows) {
		return Participant{}, ErrNotFound
	}
	if err != nil {
		return Participant{}, fmt.Errorf("get participant %s: %w", id, err)
	}
	p.Joined = joined.Valid
	return p, nil
}

// JoinedParticipants lists everyone who has joined a session so far, in the
// order they first joined.
func (s *Store) JoinedParticipants(ctx context.Context, sessionID string) ([]Participant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, session_id, name, role FROM participants
		WHERE session_id = ? AND joined_at IS NOT NULL ORDER BY joined_at, id`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("list participants of %s: %w", sessionID, err)
	}
	defer rows.Close()
	var out []Participant
	for rows.Next() {
		p := Participant{Joined: true}
		if err := rows.Scan(&p.ID, &p.SessionID, &p.Name, &p.Role); err != nil {
			return nil, fmt.Errorf("list participants of %s: %w", sessionID, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list participants of %s: %w", sessionID, err)
	}
	return out, nil
}

// SetRemoved records that the host removed a participant; their link no
// longer admits them.
func (s *Store) SetRemoved(ctx context.Context, sessionID, id string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE participants SET removed_at = ? WHERE id = ? AND session_id = ?`, ms(at), id, sessionID)
	if err != nil {
		return fmt.Errorf("remove participant %s: %w", id, err)
	}
	return nil
}

// IsRemoved tells whether the host removed a participant.
func (s *Store) IsRemoved(ctx context.Context, sessionID, id string) (bool, error) {
	var removed sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT removed_at FROM participants WHERE id = ? AND session_id = ?`, id, sessionID).Scan(&removed)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check participant %s: %w", id, err)
	}
	return removed.Valid, nil
}
