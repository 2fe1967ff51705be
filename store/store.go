// Package store keeps what must survive a restart in a database: SQLite
// (modernc.org/sqlite, pure Go, one file in the data directory) by default,
// or PostgreSQL (pgx, through database/sql) for servers that share one. It
// holds sessions with their plan and current phase, the participants
// invited to or joined in each, their commitments and reports, host mutes
// and removals, a log of phase changes, series, subscribers and the outbox
// of their mail (queued in the same transaction as the change that causes
// it), and it brings either engine's schema up to date when it opens. It
// owns the one definition of when a session ends (Session.Machine) and of
// who is told of a session and when (announcements, reminders). Each query
// is written once for both engines (db.go rebinds it); what differs between
// them stays in this package. It knows nothing of HTTP, websockets, media or
// how a mail looks; callers store first and broadcast after.
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

// Store is the database of one server. Writes go through one connection
// (SQLite has one writer at a time, and one connection rules out
// SQLITE_BUSY between our own writers; on PostgreSQL it keeps the same
// order of writes); reads go through a pool of read-only connections, which
// WAL (or PostgreSQL's snapshots) lets run beside the writer.
type Store struct {
	db *handle // the writer, and reads inside its transactions
	rd *handle // reads
}

// ReadConns is how many connections the read pool holds.
const ReadConns = 4

// Open opens (creating if needed) the SQLite database file at path and
// brings its schema up to date.
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
	eng := &engine{name: engineSQLite}
	s := &Store{db: &handle{db: db, eng: eng}}
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
	s.rd = &handle{db: rd, eng: eng}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.rd.Close(), s.db.Close())
}

// Check reads from the database, for health checks.
func (s *Store) Check(ctx context.Context) error {
	var n int
	if err := s.rd.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM sessions LIMIT 1) AS one`).Scan(&n); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}
