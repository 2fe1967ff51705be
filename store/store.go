// Package store keeps what must survive a restart in SQLite (modernc.org/sqlite,
// pure Go): sessions with their plan and current phase, the participants
// invited to or joined in each, their commitments and reports, host mutes and
// removals, and a log of phase changes. It knows nothing of HTTP, websockets or media;
// callers store first and broadcast after.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// Store is the SQLite database of one server.
type Store struct {
	db *sql.DB
}

// migrations are applied in order; the database remembers how many ran.
var migrations = []string{
	`CREATE TABLE sessions (
		id            TEXT PRIMARY KEY,
		title         TEXT NOT NULL,
		starts_at     INTEGER NOT NULL, -- unix milliseconds
		plan          TEXT NOT NULL,    -- JSON
		capacity      INTEGER NOT NULL,
		lobby_seconds INTEGER NOT NULL,
		host_participant TEXT NOT NULL,
		created_at    INTEGER NOT NULL,
		cancelled_at  INTEGER,
		phase_index   INTEGER,          -- NULL until the machine first stores a state
		phase_started_at INTEGER,
		phase_ends_at INTEGER
	);
	CREATE INDEX sessions_starts_at ON sessions(starts_at);
	CREATE TABLE participants (
		id          TEXT PRIMARY KEY,
		session_id  TEXT NOT NULL REFERENCES sessions(id),
		name        TEXT NOT NULL,
		role        TEXT NOT NULL,
		created_at  INTEGER NOT NULL,
		joined_at   INTEGER,
		removed_at  INTEGER
	);
	CREATE INDEX participants_session ON participants(session_id);`,

	`CREATE TABLE commitments (
		session_id     TEXT NOT NULL,
		participant_id TEXT NOT NULL,
		tasks          TEXT NOT NULL, -- JSON array of strings
		updated_at     INTEGER NOT NULL,
		PRIMARY KEY (session_id, participant_id)
	);
	CREATE TABLE reports (
		session_id     TEXT NOT NULL,
		participant_id TEXT NOT NULL,
		done           TEXT NOT NULL, -- JSON array of booleans
		note           TEXT NOT NULL,
		updated_at     INTEGER NOT NULL,
		PRIMARY KEY (session_id, participant_id)
	);
	ALTER TABLE participants ADD COLUMN muted_phase INTEGER; -- muted by the host during this phase index
	CREATE TABLE phase_log (
		session_id  TEXT NOT NULL,
		phase_index INTEGER NOT NULL,
		kind        TEXT NOT NULL,
		started_at  INTEGER NOT NULL,
		ends_at     INTEGER NOT NULL,
		cause       TEXT NOT NULL, -- clock, advance, extend, end
		logged_at   INTEGER NOT NULL
	);
	CREATE INDEX phase_log_session ON phase_log(session_id, logged_at);`,

	`CREATE TABLE subscribers (
		id              TEXT PRIMARY KEY,
		email           TEXT NOT NULL UNIQUE, -- lower case
		name            TEXT NOT NULL,
		lang            TEXT NOT NULL,
		timezone        TEXT NOT NULL,
		status          TEXT NOT NULL, -- pending, confirmed, unsubscribed
		created_at      INTEGER NOT NULL,
		confirmed_at    INTEGER,
		unsubscribed_at INTEGER
	);
	CREATE TABLE outbox (
		id              INTEGER PRIMARY KEY AUTOINCREMENT,
		kind            TEXT NOT NULL,
		subscriber_id   TEXT NOT NULL,
		session_id      TEXT NOT NULL DEFAULT '',
		send_after      INTEGER NOT NULL,
		status          TEXT NOT NULL DEFAULT 'queued', -- queued, sent, failed, skipped
		attempts        INTEGER NOT NULL DEFAULT 0,
		next_attempt_at INTEGER NOT NULL,
		last_error      TEXT NOT NULL DEFAULT '',
		created_at      INTEGER NOT NULL,
		sent_at         INTEGER,
		UNIQUE (subscriber_id, session_id, kind)
	);
	CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
	CREATE INDEX outbox_session ON outbox(session_id);
	CREATE TABLE series (
		id            TEXT PRIMARY KEY,
		title         TEXT NOT NULL,
		rrule         TEXT NOT NULL,
		start_local   TEXT NOT NULL, -- first occurrence, wall clock, 2006-01-02T15:04
		timezone      TEXT NOT NULL,
		plan          TEXT NOT NULL,
		capacity      INTEGER NOT NULL,
		lobby_seconds INTEGER NOT NULL,
		created_at    INTEGER NOT NULL,
		cancelled_at  INTEGER,
		horizon       INTEGER NOT NULL -- occurrences exist up to here (unix ms)
	);
	ALTER TABLE sessions ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE sessions ADD COLUMN series_id TEXT NOT NULL DEFAULT '';
	CREATE UNIQUE INDEX sessions_series_start ON sessions(series_id, starts_at) WHERE series_id != '';`,
	// What video the work phase sends: 'presence' (low layers, a few frames
	// a second) or 'full'.
	`ALTER TABLE sessions ADD COLUMN work_video TEXT NOT NULL DEFAULT 'presence';
	ALTER TABLE series ADD COLUMN work_video TEXT NOT NULL DEFAULT 'presence';`,
}

// Open opens (creating if needed) the database file at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// One connection: SQLite serializes writers anyway, and this rules out
	// SQLITE_BUSY between our own connections.
	db.SetMaxOpenConns(1)
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Check reads from the database, for health checks.
func (s *Store) Check(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM sessions LIMIT 1)`).Scan(&n); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate to %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate to %d: %w", i+1, err)
		}
	}
	return nil
}
