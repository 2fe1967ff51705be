package store

import (
	"context"
	"database/sql"
	"encoding/json"
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
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create series: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO series (id, title, rrule, start_local, timezone, plan, capacity, lobby_seconds, created_at, horizon, work_video)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ser.ID, ser.Title, ser.RRule, ser.First.Format(LocalLayout), ser.TZ,
		string(plan), ser.Capacity, ser.LobbySeconds, ms(ser.CreatedAt), ms(ser.Horizon), workVideo(ser.WorkVideo))
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
	tx, err := s.db.BeginTx(ctx, nil)
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
		&created, &cancelled, &horizon, &ser.WorkVideo); err != nil {
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

const seriesColumns = `id, title, rrule, start_local, timezone, plan, capacity, lobby_seconds, created_at, cancelled_at, horizon, work_video`

// ListSeries returns the series that are not cancelled.
func (s *Store) ListSeries(ctx context.Context) ([]Series, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+seriesColumns+` FROM series WHERE cancelled_at IS NULL ORDER BY created_at`)
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
	rows, err := s.db.QueryContext(ctx, "SELECT "+sessionColumns+
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
