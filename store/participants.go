package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

func insertParticipant(ctx context.Context, db execer, p Participant, at time.Time) error {
	_, err := db.ExecContext(ctx, `INSERT INTO participants (id, session_id, name, role, subscriber_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		p.ID, p.SessionID, p.Name, p.Role, p.SubscriberID, ms(at))
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
// the token that brought them was made without a row (for example a guest of
// an open link).
func (s *Store) MarkJoined(ctx context.Context, p Participant, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO participants (id, session_id, name, role, subscriber_id, created_at, joined_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET joined_at = COALESCE(participants.joined_at, excluded.joined_at),
			subscriber_id = CASE WHEN participants.subscriber_id = '' THEN excluded.subscriber_id ELSE participants.subscriber_id END`,
		p.ID, p.SessionID, p.Name, p.Role, p.SubscriberID, ms(at), ms(at))
	if err != nil {
		return fmt.Errorf("mark %s joined: %w", p.ID, err)
	}
	return nil
}

// participantColumns, with participantFrom, read participants with their
// commitment and report.
const (
	participantColumns = `p.id, p.session_id, p.name, p.role, p.subscriber_id, p.muted_phase, c.tasks, r.done, r.note`
	participantFrom    = `
	FROM participants p
	LEFT JOIN commitments c ON c.session_id = p.session_id AND c.participant_id = p.id
	LEFT JOIN reports r ON r.session_id = p.session_id AND r.participant_id = p.id`
	participantQuery = `SELECT ` + participantColumns + participantFrom
)

// participantScan holds the raw columns of a participant while it is read.
type participantScan struct {
	muted             sql.NullInt64
	tasks, done, note sql.NullString
}

func (pc *participantScan) dest(p *Participant) []any {
	return []any{&p.ID, &p.SessionID, &p.Name, &p.Role, &p.SubscriberID, &pc.muted, &pc.tasks, &pc.done, &pc.note}
}

func (pc *participantScan) finish(p Participant) (Participant, error) {
	if pc.muted.Valid {
		idx := int(pc.muted.Int64)
		p.MutedPhase = &idx
	}
	if pc.tasks.Valid {
		if err := json.Unmarshal([]byte(pc.tasks.String), &p.Commitment); err != nil {
			return Participant{}, fmt.Errorf("decode commitment of %s: %w", p.ID, err)
		}
	}
	if pc.done.Valid {
		r := &Report{Note: pc.note.String}
		if err := json.Unmarshal([]byte(pc.done.String), &r.Done); err != nil {
			return Participant{}, fmt.Errorf("decode report of %s: %w", p.ID, err)
		}
		p.Report = r
	}
	return p, nil
}

func scanParticipant(sc scanner) (Participant, error) {
	var (
		p  Participant
		pc participantScan
	)
	if err := sc.Scan(pc.dest(&p)...); err != nil {
		return Participant{}, err
	}
	return pc.finish(p)
}

// GetParticipant returns one participant of a session.
func (s *Store) GetParticipant(ctx context.Context, sessionID, id string) (Participant, error) {
	row := s.rd.QueryRowContext(ctx, participantQuery+` WHERE p.id = ? AND p.session_id = ?`, id, sessionID)
	p, err := scanParticipant(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Participant{}, ErrNotFound
	}
	if err != nil {
		return Participant{}, fmt.Errorf("get participant %s: %w", id, err)
	}
	return p, nil
}

// PendingInvitees counts the participants a host invited to a session who
// have not joined yet (and were not removed): the seats kept for them.
func (s *Store) PendingInvitees(ctx context.Context, sessionID string) (int, error) {
	var n int
	err := s.rd.QueryRowContext(ctx, `SELECT COUNT(*) FROM participants
		WHERE session_id = ? AND joined_at IS NULL AND removed_at IS NULL AND role = 'participant'`, sessionID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count invitees of %s: %w", sessionID, err)
	}
	return n, nil
}

// JoinedParticipants lists everyone who has joined a session so far, in the
// order they first joined, with their commitments and reports.
func (s *Store) JoinedParticipants(ctx context.Context, sessionID string) ([]Participant, error) {
	rows, err := s.rd.QueryContext(ctx, participantQuery+`
		WHERE p.session_id = ? AND p.joined_at IS NOT NULL ORDER BY p.joined_at, p.id`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("list participants of %s: %w", sessionID, err)
	}
	defer rows.Close()
	var out []Participant
	for rows.Next() {
		p, err := scanParticipant(rows)
		if err != nil {
			return nil, fmt.Errorf("list participants of %s: %w", sessionID, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list participants of %s: %w", sessionID, err)
	}
	return out, nil
}

// SaveCommitment stores (or replaces) a participant's commitment.
func (s *Store) SaveCommitment(ctx context.Context, sessionID, id string, tasks []string, at time.Time) error {
	raw, err := json.Marshal(tasks)
	if err != nil {
		return fmt.Errorf("encode commitment: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO commitments (session_id, participant_id, tasks, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(session_id, participant_id) DO UPDATE SET tasks = excluded.tasks, updated_at = excluded.updated_at`,
		sessionID, id, string(raw), ms(at))
	if err != nil {
		return fmt.Errorf("save commitment of %s: %w", id, err)
	}
	return nil
}

// SaveReport stores (or replaces) a participant's report.
func (s *Store) SaveReport(ctx context.Context, sessionID, id string, r Report, at time.Time) error {
	if r.Done == nil {
		r.Done = []bool{}
	}
	raw, err := json.Marshal(r.Done)
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO reports (session_id, participant_id, done, note, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(session_id, participant_id) DO UPDATE SET done = excluded.done, note = excluded.note, updated_at = excluded.updated_at`,
		sessionID, id, string(raw), r.Note, ms(at))
	if err != nil {
		return fmt.Errorf("save report of %s: %w", id, err)
	}
	return nil
}

// SetMuted records that the host muted a participant during a phase (nil:
// not muted).
func (s *Store) SetMuted(ctx context.Context, sessionID, id string, phase *int) error {
	_, err := s.db.ExecContext(ctx, `UPDATE participants SET muted_phase = ? WHERE id = ? AND session_id = ?`, phase, id, sessionID)
	if err != nil {
		return fmt.Errorf("mute %s: %w", id, err)
	}
	return nil
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
	err := s.rd.QueryRowContext(ctx, `SELECT removed_at FROM participants WHERE id = ? AND session_id = ?`, id, sessionID).Scan(&removed)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check participant %s: %w", id, err)
	}
	return removed.Valid, nil
}
