package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// sqlSteps are the first schema versions, plain SQL.
var sqlSteps = []string{
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

// step brings the schema one version up, inside a transaction.
type step func(ctx context.Context, tx *txn) error

// steps are applied in order; the database remembers how many ran (SQLite:
// PRAGMA user_version; PostgreSQL: the schema_version table), so an old
// database is brought up to date in place. Both engines take the same steps:
// their DDL is written for SQLite and translated for PostgreSQL (ddl).
var steps = append(sqlAsSteps(sqlSteps),
	addSubscriberIDs,   // 5: participants.subscriber_id, filled in for rows that exist
	typedOutbox,        // 6: the outbox's lead and sequence as columns, not in kind
	privateAndFollowed, // 7: private sessions and series, and the series a subscriber stopped following
)

func sqlAsSteps(list []string) []step {
	out := make([]step, len(list))
	for i, q := range list {
		out[i] = func(ctx context.Context, tx *txn) error {
			_, err := tx.ExecContext(ctx, tx.eng.ddl(q))
			return err
		}
	}
	return out
}

// migrate applies the steps up to version to, each in its own transaction
// that first reads the version under the schema lock: two servers starting
// on one PostgreSQL database take each step once.
func (s *Store) migrate(ctx context.Context, to int) error {
	for {
		done, err := s.migrateOne(ctx, to)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next step, if the schema is not at version to
// yet.
func (s *Store) migrateOne(ctx context.Context, to int) (done bool, err error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	version, err := tx.eng.lockSchema(ctx, tx)
	if err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if version >= to {
		return true, tx.Commit()
	}
	if err := steps[version](ctx, tx); err != nil {
		return false, fmt.Errorf("migrate to %d: %w", version+1, err)
	}
	if err := tx.eng.setSchemaVersion(ctx, tx, version+1); err != nil {
		return false, fmt.Errorf("migrate to %d: %w", version+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate to %d: %w", version+1, err)
	}
	return false, nil
}

// SubscriberParticipantID is the participant id a subscriber has in a
// session: the same every time, so their link from any mail is the same
// person.
func SubscriberParticipantID(subscriberID, sessionID string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("worktogether:subscriber:"+subscriberID+":"+sessionID)).String()
}

// addSubscriberIDs gives participants the subscriber whose mailed link
// brought them. Rows that exist get it by recomputing, once, the id every
// subscriber has in every session.
func addSubscriberIDs(ctx context.Context, tx *txn) error {
	if _, err := tx.ExecContext(ctx, tx.eng.ddl(`ALTER TABLE participants ADD COLUMN subscriber_id TEXT NOT NULL DEFAULT '';
		CREATE INDEX participants_subscriber ON participants(subscriber_id) WHERE subscriber_id != '';`)); err != nil {
		return err
	}
	// The participants that could be a subscriber's: their ids, by session.
	candidates := map[string]bool{}
	sessions := map[string]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT id, session_id FROM participants WHERE role = 'participant'`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id, sess string
		if err := rows.Scan(&id, &sess); err != nil {
			rows.Close()
			return err
		}
		candidates[id] = true
		sessions[sess] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(candidates) == 0 {
		return err
	}
	var subs []string
	rows, err = tx.QueryContext(ctx, `SELECT id FROM subscribers`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		subs = append(subs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	upd, err := tx.PrepareContext(ctx, `UPDATE participants SET subscriber_id = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	defer upd.Close()
	for _, sub := range subs {
		for sess := range sessions {
			if id := SubscriberParticipantID(sub, sess); candidates[id] {
				if _, err := upd.ExecContext(ctx, sub, id); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// typedOutbox rebuilds the outbox with the reminder's lead, the session's
// sequence and the time a repeatable mail was asked for as columns; kind
// becomes the bare kind. Old rows are split once here.
func typedOutbox(ctx context.Context, tx *txn) error {
	if _, err := tx.ExecContext(ctx, tx.eng.ddl(`CREATE TABLE outbox_typed (
		id              INTEGER PRIMARY KEY AUTOINCREMENT,
		kind            TEXT NOT NULL, -- confirm, announce, reminder, update, cancel, resend
		lead_seconds    INTEGER NOT NULL DEFAULT 0, -- reminder: how long before the start
		sequence        INTEGER NOT NULL DEFAULT 0, -- reminder, update: the session's sequence
		requested_at    INTEGER NOT NULL DEFAULT 0, -- confirm, resend: when asked for (each is its own mail)
		subscriber_id   TEXT NOT NULL,
		session_id      TEXT NOT NULL DEFAULT '',
		send_after      INTEGER NOT NULL,
		status          TEXT NOT NULL DEFAULT 'queued',
		attempts        INTEGER NOT NULL DEFAULT 0,
		next_attempt_at INTEGER NOT NULL,
		last_error      TEXT NOT NULL DEFAULT '',
		created_at      INTEGER NOT NULL,
		sent_at         INTEGER,
		UNIQUE (subscriber_id, session_id, kind, lead_seconds, sequence, requested_at)
	)`)); err != nil {
		return err
	}
	type row struct {
		id          int64
		kind        string
		n1, n2, req int64
	}
	var old []row
	rows, err := tx.QueryContext(ctx, `SELECT id, kind FROM outbox`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.kind); err != nil {
			rows.Close()
			return err
		}
		old = append(old, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO outbox_typed (id, kind, lead_seconds, sequence, requested_at, subscriber_id,
		session_id, send_after, status, attempts, next_attempt_at, last_error, created_at, sent_at)
		SELECT id, ?, ?, ?, ?, subscriber_id, session_id, send_after, status, attempts, next_attempt_at, last_error, created_at, sent_at
		FROM outbox WHERE id = ?`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for _, r := range old {
		kind, lead, seq, req := splitOldKind(r.kind)
		if _, err := ins.ExecContext(ctx, kind, lead, seq, req, r.id); err != nil {
			return fmt.Errorf("outbox row %d (%q): %w", r.id, r.kind, err)
		}
	}
	if err := tx.eng.idsTaken(ctx, tx, "outbox_typed"); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE outbox;
		ALTER TABLE outbox_typed RENAME TO outbox;
		CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
		CREATE INDEX outbox_session ON outbox(session_id);
		CREATE INDEX outbox_subscriber ON outbox(subscriber_id);`)
	return err
}

// splitOldKind reads a kind as the first schema wrote it: reminder-<lead
// seconds>-<sequence>, update-<sequence>, resend-<ms>, confirm-<ms>. A kind
// it cannot read is kept whole (and skipped when it comes due).
func splitOldKind(kind string) (base string, lead, seq, req int64) {
	parts := strings.Split(kind, "-")
	nums := make([]int64, 0, 2)
	for _, p := range parts[1:] {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return kind, 0, 0, 0
		}
		nums = append(nums, n)
	}
	switch {
	case parts[0] == KindReminder && len(nums) == 2:
		return KindReminder, nums[0], nums[1], 0
	case parts[0] == KindUpdate && len(nums) == 1:
		return KindUpdate, 0, nums[0], 0
	case (parts[0] == KindResend || parts[0] == KindConfirm) && len(nums) == 1:
		return parts[0], 0, 0, nums[0]
	case len(nums) == 0:
		return kind, 0, 0, 0
	}
	return kind, 0, 0, 0
}

// privateAndFollowed adds private sessions and series (invite links only,
// never announced) and the series a subscriber no longer follows.
func privateAndFollowed(ctx context.Context, tx *txn) error {
	_, err := tx.ExecContext(ctx, tx.eng.ddl(`ALTER TABLE sessions ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
		ALTER TABLE series ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
		CREATE TABLE unfollowed (
			subscriber_id TEXT NOT NULL,
			series_id     TEXT NOT NULL,
			at            INTEGER NOT NULL,
			PRIMARY KEY (subscriber_id, series_id)
		);`))
	return err
}
