package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/worktogether/worktogether/session"
)

// Session is a stored session.
type Session struct {
	ID              string
	Title           string
	StartsAt        time.Time
	Plan            session.Plan
	Capacity        int
	LobbySeconds    int
	HostParticipant string // the participant behind the host's own link
	CreatedAt       time.Time
	Cancelled       bool
	Phase           *session.State // nil until a state was stored
	Sequence        int            // bumped on every reschedule (iCalendar SEQUENCE)
	SeriesID        string         // the recurring series it belongs to, if any
	WorkVideo       string         // WorkVideoPresence or WorkVideoFull
	Private         bool           // invite links only: never announced, not listed
}

// Machine is the session's state machine as stored, caught up with now. It
// is the one definition of where a session stands and when it ends, for the
// room, the links and the mail alike.
func (s Session) Machine(now time.Time) *session.Machine {
	m := session.New(s.Plan, s.StartsAt, s.LobbySeconds, s.Phase)
	m.Tick(now)
	return m
}

// End is when the session ends, or ended: its plan from the stored state
// on, so extensions, advances and an early end all count.
func (s Session) End() time.Time {
	return session.New(s.Plan, s.StartsAt, s.LobbySeconds, s.Phase).PlannedEnd()
}

// Over tells whether the session has ended by now.
func (s Session) Over(now time.Time) bool { return s.Machine(now).Ended() }

// What the work phase's video is: low layers at a few frames a second, or
// what each tile asks for as in the rounds.
const (
	WorkVideoPresence = "presence"
	WorkVideoFull     = "full"
)

// workVideo is v, or the default for an empty one.
func workVideo(v string) string {
	if v == "" {
		return WorkVideoPresence
	}
	return v
}

// Participant is someone invited to, or joined in, a session, with what they
// committed to and reported.
type Participant struct {
	ID        string
	SessionID string
	Name      string
	Role      string
	// SubscriberID is the subscriber whose mailed link brought them ("" for
	// everyone else).
	SubscriberID string
	Commitment   []string // nil: none yet
	Report       *Report  // nil: none yet
	MutedPhase   *int     // the phase index during which the host muted them
}

// Report is what someone says got done in the closing round.
type Report struct {
	Done []bool
	Note string
}

// Tally is how many tasks p committed to and how many of them got done.
func (p Participant) Tally() (tasks, done int) {
	if p.Report != nil {
		for i, d := range p.Report.Done {
			if d && i < len(p.Commitment) {
				done++
			}
		}
	}
	return len(p.Commitment), done
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// flag is how a boolean is stored on every engine: 1 or 0 (it reads back
// into a bool).
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateSession stores a new session together with its host participant and,
// when n is not nil, queues its announcement and reminders to every confirmed
// subscriber in the same transaction.
func (s *Store) CreateSession(ctx context.Context, sess Session, host Participant, n *Notify) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	defer tx.Rollback()
	if err := createSessionTx(ctx, tx, sess, host, n); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// createSessionTx is CreateSession inside a transaction.
func createSessionTx(ctx context.Context, tx execer, sess Session, host Participant, n *Notify) error {
	plan, err := json.Marshal(sess.Plan)
	if err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO sessions
		(id, title, starts_at, plan, capacity, lobby_seconds, host_participant, created_at, series_id, work_video, private)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sess.ID, sess.Title, ms(sess.StartsAt), string(plan), sess.Capacity, sess.LobbySeconds,
		sess.HostParticipant, ms(sess.CreatedAt), sess.SeriesID, workVideo(sess.WorkVideo), flag(sess.Private))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	if err := insertParticipant(ctx, tx, host, sess.CreatedAt); err != nil {
		return err
	}
	if n != nil {
		return queueAnnouncement(ctx, tx, sess, *n)
	}
	return nil
}

const sessionColumns = `id, title, starts_at, plan, capacity, lobby_seconds, host_participant,
	created_at, cancelled_at, phase_index, phase_started_at, phase_ends_at, sequence, series_id, work_video, private`

type scanner interface{ Scan(...any) error }

// sessionScan holds the raw columns of a session while it is read.
type sessionScan struct {
	startsAt, createdAt         int64
	plan                        string
	cancelled, idx, start, ends sql.NullInt64
}

// dest lists where each of sessionColumns goes.
func (sc *sessionScan) dest(sess *Session) []any {
	return []any{&sess.ID, &sess.Title, &sc.startsAt, &sc.plan, &sess.Capacity, &sess.LobbySeconds,
		&sess.HostParticipant, &sc.createdAt, &sc.cancelled, &sc.idx, &sc.start, &sc.ends, &sess.Sequence,
		&sess.SeriesID, &sess.WorkVideo, &sess.Private}
}

// finish decodes what dest could not take as it is.
func (sc *sessionScan) finish(sess Session) (Session, error) {
	if err := json.Unmarshal([]byte(sc.plan), &sess.Plan); err != nil {
		return Session{}, fmt.Errorf("decode plan of %s: %w", sess.ID, err)
	}
	sess.StartsAt = fromMS(sc.startsAt)
	sess.CreatedAt = fromMS(sc.createdAt)
	sess.Cancelled = sc.cancelled.Valid
	if sc.idx.Valid {
		sess.Phase = &session.State{Index: int(sc.idx.Int64), StartedAt: fromMS(sc.start.Int64), EndsAt: fromMS(sc.ends.Int64)}
	}
	return sess, nil
}

func scanSession(r scanner) (Session, error) {
	var (
		sess Session
		sc   sessionScan
	)
	if err := r.Scan(sc.dest(&sess)...); err != nil {
		return Session{}, err
	}
	return sc.finish(sess)
}

// GetSession returns one session, cancelled or not.
func (s *Store) GetSession(ctx context.Context, id string) (Session, error) {
	row := s.rd.QueryRowContext(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE id = ?", id)
	sess, err := scanSession(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("get session %s: %w", id, err)
	}
	return sess, nil
}

// ListSessions returns the sessions that are not cancelled and whose planned
// start is after since, soonest first.
func (s *Store) ListSessions(ctx context.Context, since time.Time) ([]Session, error) {
	return s.querySessions(ctx, "list sessions",
		"WHERE cancelled_at IS NULL AND starts_at >= ? ORDER BY starts_at, id", ms(since))
}

// PastSessions returns at most limit sessions that are not cancelled and
// started before before, latest first (some may still be running).
func (s *Store) PastSessions(ctx context.Context, before time.Time, limit int) ([]Session, error) {
	return s.querySessions(ctx, "list past sessions",
		"WHERE cancelled_at IS NULL AND starts_at < ? ORDER BY starts_at DESC, id LIMIT ?", ms(before), limit)
}

// querySessions reads the sessions the where clause (with its order and
// limit) picks; what names the query in errors.
func (s *Store) querySessions(ctx context.Context, what, where string, args ...any) ([]Session, error) {
	rows, err := s.rd.QueryContext(ctx, "SELECT "+sessionColumns+" FROM sessions "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// CancelSession marks a session cancelled. With n, in the same transaction,
// its mails not yet sent are dropped and every confirmed subscriber who was
// told of it is sent a cancellation. It returns ErrNotFound when there is no
// such session or it was cancelled already.
func (s *Store) CancelSession(ctx context.Context, id string, at time.Time, n *Notify) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("cancel session %s: %w", id, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "UPDATE sessions SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL", ms(at), id)
	if err != nil {
		return fmt.Errorf("cancel session %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if n != nil {
		if err := skipQueued(ctx, tx, id, "cancelled"); err != nil {
			return err
		}
		// The casts: PostgreSQL cannot tell a parameter's type under DISTINCT.
		_, err = tx.ExecContext(ctx, outboxInsert+`SELECT DISTINCT CAST(? AS TEXT), 0, 0, 0, o.subscriber_id,
			CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT)
			FROM outbox o JOIN subscribers sub ON sub.id = o.subscriber_id
			WHERE o.session_id = ? AND o.status = 'sent' AND sub.status = 'confirmed'`+onDup,
			KindCancel, id, ms(n.Now), ms(n.Now), ms(n.Now), id)
		if err != nil {
			return fmt.Errorf("queue cancellations: %w", err)
		}
	}
	return tx.Commit()
}

// RescheduleSession changes a session's title and start, bumps its sequence,
// and with n, in the same transaction, replaces its pending reminders and
// queues an update to every confirmed subscriber.
func (s *Store) RescheduleSession(ctx context.Context, id, title string, startsAt time.Time, n *Notify) (Session, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return Session{}, fmt.Errorf("reschedule %s: %w", id, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE sessions SET title = ?, starts_at = ?, sequence = sequence + 1,
		phase_index = NULL, phase_started_at = NULL, phase_ends_at = NULL
		WHERE id = ? AND cancelled_at IS NULL`, title, ms(startsAt), id)
	if err != nil {
		return Session{}, fmt.Errorf("reschedule %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Session{}, ErrNotFound
	}
	sess, err := scanSession(tx.QueryRowContext(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE id = ?", id))
	if err != nil {
		return Session{}, fmt.Errorf("reschedule %s: %w", id, err)
	}
	if n != nil && sess.Announced() {
		if err := rescheduleMails(ctx, tx, sess, *n); err != nil {
			return Session{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return Session{}, fmt.Errorf("reschedule %s: %w", id, err)
	}
	return sess, nil
}

// rescheduleMails replaces a moved session's pending reminders, tells those
// who heard of it already the new time, and moves the announcements still
// waiting to the new time's announcement (those subscribers get no update).
func rescheduleMails(ctx context.Context, tx execer, sess Session, n Notify) error {
	if err := skipQueued(ctx, tx, sess.ID, "rescheduled", KindReminder); err != nil {
		return err
	}
	// Everyone told of it, or being told now (a mail in flight is not yet
	// marked sent): every follower but those whose announcement still waits.
	_, err := tx.ExecContext(ctx, outboxInsert+`SELECT ?, 0, ?, 0, sub.id, ?, ?, ?, ?
		FROM subscribers sub WHERE `+followers+` AND NOT EXISTS (SELECT 1 FROM outbox w
			WHERE w.subscriber_id = sub.id AND w.session_id = ? AND w.kind = ? AND w.status = 'queued' AND w.next_attempt_at > ?)`+onDup,
		KindUpdate, sess.Sequence, sess.ID, ms(n.Now), ms(n.Now), ms(n.Now), sess.ID, sess.ID, KindAnnounce, ms(n.Now))
	if err != nil {
		return fmt.Errorf("queue updates: %w", err)
	}
	at := ms(announceAt(sess, n))
	if _, err := tx.ExecContext(ctx, `UPDATE outbox SET send_after = ?, next_attempt_at = ?
		WHERE session_id = ? AND kind = ? AND status = 'queued'`, at, at, sess.ID, KindAnnounce); err != nil {
		return fmt.Errorf("move announcements: %w", err)
	}
	for q, at := range reminderTimes(sess, n) {
		if err := queueForFollowers(ctx, tx, q, sess.ID, at, n.Now); err != nil {
			return err
		}
	}
	return nil
}

// SavePhase stores the session machine's state and logs why it changed
// (clock, advance, extend, end).
func (s *Store) SavePhase(ctx context.Context, id string, st session.State, cause string, at time.Time) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("save phase of %s: %w", id, err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `UPDATE sessions SET phase_index = ?, phase_started_at = ?, phase_ends_at = ? WHERE id = ?`,
		st.Index, ms(st.StartedAt), ms(st.EndsAt), id)
	if err == nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO phase_log (session_id, phase_index, kind, started_at, ends_at, cause, logged_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, st.Index, st.Kind.String(), ms(st.StartedAt), ms(st.EndsAt), cause, ms(at))
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return fmt.Errorf("save phase of %s: %w", id, err)
	}
	return nil
}

// PhaseChange is one line of a session's phase log.
type PhaseChange struct {
	Index     int       `json:"index"`
	Kind      string    `json:"kind"`
	StartedAt time.Time `json:"started_at"`
	EndsAt    time.Time `json:"ends_at"`
	Cause     string    `json:"cause"`
}

// PhaseLog lists a session's phase changes in the order they happened.
func (s *Store) PhaseLog(ctx context.Context, id string) ([]PhaseChange, error) {
	rows, err := s.rd.QueryContext(ctx, `SELECT phase_index, kind, started_at, ends_at, cause FROM phase_log
		WHERE session_id = ? ORDER BY logged_at, rowid`, id)
	if err != nil {
		return nil, fmt.Errorf("phase log of %s: %w", id, err)
	}
	defer rows.Close()
	var out []PhaseChange
	for rows.Next() {
		var (
			c           PhaseChange
			start, ends int64
		)
		if err := rows.Scan(&c.Index, &c.Kind, &start, &ends, &c.Cause); err != nil {
			return nil, fmt.Errorf("phase log of %s: %w", id, err)
		}
		c.StartedAt, c.EndsAt = fromMS(start), fromMS(ends)
		out = append(out, c)
	}
	return out, rows.Err()
}
