// Package store keeps what must survive a restart in SQLite (modernc.org/sqlite,
// pure Go): sessions with their plan and current phase, the participants
// invited to or joined in each, their commitments and reports, host mutes and
// removals, a log of phase changes, series, subscribers and the outbox of
// their mail (queued in the same transaction as the change that causes it).
// It owns the one definition of when a session ends (Session.Machine) and
// of who is told of a session and when (announcements, reminders). It
// knows nothing of HTTP, websockets, media or how a mail looks; callers
// store first and broadcast after.
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

// Store is the SQLite database of one server. Writes go through one
// connection (SQLite has one writer at a time, and one connection rules out
// SQLITE_BUSY between our own writers); reads go through a pool of
// read-only connections, which WAL lets run beside the writer.
type Store struct {
	db *sql.DB // the writer, and reads inside its transactions
	rd *sql.DB // reads
}

// ReadConns is how many connections the read pool holds.
const ReadConns = 4

// Open opens (creating if needed) the database file at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenDriver(ctx, path, "sqlite")
}

// OpenDriver is Open through the database/sql driver registered as driver:
// modernc.org/sqlite's, or one wrapping it (tests count queries so).
func OpenDriver(ctx context.Context, path, driver string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	pragmas := "_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	db, err := sql.Open(driver, "file:"+path+"?"+pragmas)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.SetMaxOpenConns(1)
	s := &Store{db: db}
	if err := s.migrate(ctx, len(steps)); err != nil {
		db.Close()
		return nil, err
	}
	// The readers open after the schema is in place (and WAL is on).
	rd, err := sql.Open(driver, "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open database for reading: %w", err)
	}
	rd.SetMaxOpenConns(ReadConns)
	rd.SetMaxIdleConns(ReadConns)
	s.rd = rd
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.rd.Close(), s.db.Close())
}

// Check reads from the database, for health checks.
func (s *Store) Check(ctx context.Context) error {
	var n int
	if err := s.rd.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM sessions LIMIT 1)`).Scan(&n); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}
