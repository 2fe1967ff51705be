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

// Series is a recurring session: a rule, a first occurrence in a time zone,
// and the shape every occurrence has. Occurrences are ordinary sessions
// (SeriesID set), made some weeks ahead.
type Series struct {
	ID           string
	Title        string
	RRule        string
	First        time.Time // the first occurrence, in its zone
	TZ           string
	Plan         session.Plan
	Capacity     int
	LobbySeconds int
	CreatedAt    time.Time
	Cancelled    bool
	Horizon      time.Time // occurrences exist up to here
	WorkVideo    string    // for its sessions: WorkVideoPresence or WorkVideoFull
	Private      bool      // its sessions are private
}

// Occurrence is one session of a series with its host participant.
type Occurrence struct {
	Session Session
	Host    Participant
}

// LocalLayout is how a series' first occurrence is written: wall-clock
// time, no zone (the zone is stored beside it).
const LocalLayout = "2006-01-02T15:04"

// CreateSeries stores a series with its first occurrences, queueing their
// mails, in one transaction.
func (s *Store) CreateSeries(ctx context.Context, ser Series, occ []Occurrence, n *Notify) error {
	plan, err := json.Marshal(ser.Plan)
	if err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("create series: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO series (id, title, rrule, start_local, timezone, plan, capacity, lobby_seconds, created_at, horizon, work_video, private)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ser.ID, ser.Title, ser.RRule, ser.First.Format(LocalLayout), ser.TZ,
		string(plan), ser.Capacity, ser.LobbySeconds, ms(ser.CreatedAt), ms(ser.Horizon), workVideo(ser.WorkVideo), flag(ser.Private))
	if err != nil {
		return fmt.Errorf("create series: %w", err)
	}
	for _, o := range occ {
		if err := createSessionTx(ctx, tx, o.Session, o.Host, n); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// ExtendSeries adds occurrences (those already there are skipped) and moves
// the series' horizon, in one transaction.
func (s *Store) ExtendSeries(ctx context.Context, id string, occ []Occurrence, horizon time.Time, n *Notify) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("extend series: %w", err)
	}
	defer tx.Rollback()
	for _, o := range occ {
		var exists int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE series_id = ? AND starts_at = ?`, id, ms(o.Session.StartsAt)).Scan(&exists)
		if err != nil {
			return fmt.Errorf("extend series: %w", err)
		}
		if exists > 0 {
			continue
		}
		if err := createSessionTx(ctx, tx, o.Session, o.Host, n); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE series SET horizon = ? WHERE id = ?`, ms(horizon), id); err != nil {
		return fmt.Errorf("extend series: %w", err)
	}
	return tx.Commit()
}

func scanSeries(sc scanner) (Series, error) {
	var (
		ser              Series
		first, plan      string
		created, horizon int64
		cancelled        sql.NullInt64
	)
	if err := sc.Scan(&ser.ID, &ser.Title, &ser.RRule, &first, &ser.TZ, &plan, &ser.Capacity, &ser.LobbySeconds,
		&created, &cancelled, &horizon, &ser.WorkVideo, &ser.Private); err != nil {
		return Series{}, err
	}
	loc, err := time.LoadLocation(ser.TZ)
	if err != nil {
		return Series{}, fmt.Errorf("series %s: %w", ser.ID, err)
	}
	if ser.First, err = time.ParseInLocation(LocalLayout, first, loc); err != nil {
		return Series{}, fmt.Errorf("series %s: %w", ser.ID, err)
	}
	if err := json.Unmarshal([]byte(plan), &ser.Plan); err != nil {
		return Series{}, fmt.Errorf("series %s: %w", ser.ID, err)
	}
	ser.CreatedAt, ser.Horizon, ser.Cancelled = fromMS(created), fromMS(horizon), cancelled.Valid
	return ser, nil
}

const seriesColumns = `id, title, rrule, start_local, timezone, plan, capacity, lobby_seconds, created_at, cancelled_at, horizon, work_video, private`

// ListSeries returns the series that are not cancelled.
func (s *Store) ListSeries(ctx context.Context) ([]Series, error) {
	rows, err := s.rd.QueryContext(ctx, `SELECT `+seriesColumns+` FROM series WHERE cancelled_at IS NULL ORDER BY created_at`)
	if err != nil {
		return nil, fmt.Errorf("list series: %w", err)
	}
	defer rows.Close()
	var out []Series
	for rows.Next() {
		ser, err := scanSeries(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ser)
	}
	return out, rows.Err()
}

// CancelSeries ends a series; its occurrences still ahead are cancelled by
// the caller, one by one, so each sends its cancellation.
func (s *Store) CancelSeries(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE series SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL`, ms(at), id)
	if err != nil {
		return fmt.Errorf("cancel series: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SeriesSessions lists a series' sessions that are not cancelled and start
// after since.
func (s *Store) SeriesSessions(ctx context.Context, id string, since time.Time) ([]Session, error) {
	rows, err := s.rd.QueryContext(ctx, "SELECT "+sessionColumns+
		" FROM sessions WHERE series_id = ? AND cancelled_at IS NULL AND starts_at >= ? ORDER BY starts_at", id, ms(since))
	if err != nil {
		return nil, fmt.Errorf("series sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sess)
	}
	return out, rows.Err()
}

// NextOccurrence is the soonest session of a series, not cancelled, that
// starts after now and before before: the one the list hears of first.
func (s *Store) NextOccurrence(ctx context.Context, seriesID string, now, before time.Time) (Session, bool, error) {
	row := s.rd.QueryRowContext(ctx, "SELECT "+sessionColumns+` FROM sessions
		WHERE series_id = ? AND cancelled_at IS NULL AND starts_at > ? AND starts_at < ? ORDER BY starts_at LIMIT 1`,
		seriesID, ms(now), ms(before))
	sess, err := scanSession(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, false, nil
	}
	if err != nil {
		return Session{}, false, fmt.Errorf("next occurrence of %s: %w", seriesID, err)
	}
	return sess, true, nil
}

// Followed is a series as one subscriber sees it: whether they get its
// mails.
type Followed struct {
	Series    Series
	Following bool
}

// FollowedSeries lists the series not cancelled and not private, each with
// whether the subscriber follows it (everyone follows every series until
// they say otherwise).
func (s *Store) FollowedSeries(ctx context.Context, subscriberID string) ([]Followed, error) {
	rows, err := s.rd.QueryContext(ctx, `SELECT `+seriesColumns+`,
		NOT EXISTS (SELECT 1 FROM unfollowed u WHERE u.series_id = series.id AND u.subscriber_id = ?)
		FROM series WHERE cancelled_at IS NULL AND private = 0 ORDER BY created_at`, subscriberID)
	if err != nil {
		return nil, fmt.Errorf("followed series: %w", err)
	}
	defer rows.Close()
	var out []Followed
	for rows.Next() {
		var f Followed
		if f.Series, err = scanSeries(followScanner{rows, &f.Following}); err != nil {
			return nil, fmt.Errorf("followed series: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// followScanner reads seriesColumns and then whether it is followed.
type followScanner struct {
	rows      *sql.Rows
	following *bool
}

func (f followScanner) Scan(dest ...any) error { return f.rows.Scan(append(dest, f.following)...) }

// SetFollowing says whether a subscriber gets the mails of a series. Leaving
// it drops their queued mails of its sessions; following again queues the
// announcements and reminders still ahead. It returns ErrNotFound for no
// such subscriber or series.
func (s *Store) SetFollowing(ctx context.Context, subscriberID, seriesID string, follow bool, n Notify) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("follow series: %w", err)
	}
	defer tx.Rollback()
	if err := subscriberExists(ctx, tx, subscriberID); err != nil {
		return err
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM series WHERE id = ? AND private = 0`, seriesID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("follow series: %w", err)
	}
	if !follow {
		inSeries := `session_id IN (SELECT id FROM sessions WHERE series_id = ?)`
		if _, err := tx.ExecContext(ctx, `INSERT INTO unfollowed (subscriber_id, series_id, at) VALUES (?, ?, ?)`+onDup,
			subscriberID, seriesID, ms(n.Now)); err != nil {
			return fmt.Errorf("unfollow series: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'skipped', last_error = 'unfollowed'
			WHERE subscriber_id = ? AND status = 'queued' AND kind != ? AND `+inSeries, subscriberID, KindCancel, seriesID); err != nil {
			return fmt.Errorf("unfollow series: %w", err)
		}
		return tx.Commit()
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM unfollowed WHERE subscriber_id = ? AND series_id = ?`, subscriberID, seriesID)
	if err != nil {
		return fmt.Errorf("follow series: %w", err)
	}
	if changed, _ := res.RowsAffected(); changed == 0 {
		return tx.Commit() // followed already
	}
	// What was dropped on leaving comes back while still ahead.
	// (An announcement of a session still ahead, a reminder whose time is.)
	if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'queued', last_error = ''
		WHERE subscriber_id = ? AND status = 'skipped' AND last_error = 'unfollowed'
		AND session_id IN (SELECT id FROM sessions WHERE series_id = ? AND starts_at > ?)
		AND (kind = ? OR send_after > ?)`,
		subscriberID, seriesID, ms(n.Now), KindAnnounce, ms(n.Now)); err != nil {
		return fmt.Errorf("follow series: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+sessionColumns+` FROM sessions
		WHERE series_id = ? AND cancelled_at IS NULL AND starts_at > ?`, seriesID, ms(n.Now))
	if err != nil {
		return fmt.Errorf("follow series: %w", err)
	}
	var ahead []Session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("follow series: %w", err)
		}
		ahead = append(ahead, sess)
	}
	rows.Close()
	for _, sess := range ahead {
		if !sess.Announced() {
			continue
		}
		if err := queueFor(ctx, tx, queued{kind: KindAnnounce}, subscriberID, sess.ID, announceAt(sess, n), n.Now); err != nil {
			return err
		}
		for q, at := range reminderTimes(sess, n) {
			if err := queueFor(ctx, tx, q, subscriberID, sess.ID, at, n.Now); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}
