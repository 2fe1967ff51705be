package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// ErrInvalidText is returned (errors.Is) on PostgreSQL for a query given a
// string its text cannot hold: one with a NUL byte, or one that is not
// UTF-8. The API refuses such text before it gets here; this makes what
// slips past a clear error instead of the server's. SQLite keeps such text
// as it is (rows stored before the API checked input may hold it).
var ErrInvalidText = errors.New("text holds a NUL byte or is not valid UTF-8")

// engine is what differs between the databases the store runs on. Every
// query is written once, in the spelling both accept, with ? for its
// parameters; the engine rebinds them (PostgreSQL wants $1, $2, …), once
// per query string. The queries are this package's own, so the cache stays
// small (IN lists add one entry per length, up to inChunk).
type engine struct {
	name  string   // engineSQLite or enginePostgres
	bound sync.Map // query → its rebound form (PostgreSQL)
}

const (
	engineSQLite   = "sqlite"
	enginePostgres = "postgres"
)

// rebind turns the ? placeholders of q into what the engine takes.
func (e *engine) rebind(q string) string {
	if e.name != enginePostgres {
		return q
	}
	if b, ok := e.bound.Load(q); ok {
		return b.(string)
	}
	b := dollarParams(q)
	e.bound.Store(q, b)
	return b
}

// dollarParams numbers the ? of q as $1, $2, …, leaving alone those inside
// quoted strings, quoted names and -- comments.
func dollarParams(q string) string {
	var out strings.Builder
	out.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(q[i+1:], c)
			if end < 0 {
				out.WriteString(q[i:])
				return out.String()
			}
			out.WriteString(q[i : i+end+2])
			i += end + 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				out.WriteString(q[i:])
				return out.String()
			}
			out.WriteString(q[i : i+end+1])
			i += end
		case c == '?':
			n++
			out.WriteByte('$')
			out.WriteString(strconv.Itoa(n))
		default:
			out.WriteByte(c)
		}
	}
	return out.String()
}

// checkText refuses the strings among args that the engine cannot keep.
func (e *engine) checkText(args []any) error {
	if e.name != enginePostgres {
		return nil
	}
	for i, a := range args {
		if s, ok := a.(string); ok && (strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s)) {
			return fmt.Errorf("argument %d: %w", i+1, ErrInvalidText)
		}
	}
	return nil
}

// handle is a pool of connections to one engine. Queries go through it so
// each is rebound and its text checked.
type handle struct {
	db  *sql.DB
	eng *engine
}

func (h *handle) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := h.eng.checkText(args); err != nil {
		return nil, err
	}
	return h.db.ExecContext(ctx, h.eng.rebind(q), args...)
}

func (h *handle) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := h.eng.checkText(args); err != nil {
		return nil, err
	}
	return h.db.QueryContext(ctx, h.eng.rebind(q), args...)
}

// QueryRowContext finds no row for text the engine cannot store: no row
// holds it.
func (h *handle) QueryRowContext(ctx context.Context, q string, args ...any) row {
	if err := h.eng.checkText(args); err != nil {
		return row{err: sql.ErrNoRows}
	}
	return row{r: h.db.QueryRowContext(ctx, h.eng.rebind(q), args...)}
}

func (h *handle) BeginTx(ctx context.Context) (*txn, error) {
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &txn{tx: tx, eng: h.eng}, nil
}

func (h *handle) Close() error { return h.db.Close() }

// txn is a transaction on a handle, with the same rebinding and checks.
type txn struct {
	tx  *sql.Tx
	eng *engine
}

func (t *txn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := t.eng.checkText(args); err != nil {
		return nil, err
	}
	return t.tx.ExecContext(ctx, t.eng.rebind(q), args...)
}

func (t *txn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := t.eng.checkText(args); err != nil {
		return nil, err
	}
	return t.tx.QueryContext(ctx, t.eng.rebind(q), args...)
}

func (t *txn) QueryRowContext(ctx context.Context, q string, args ...any) row {
	if err := t.eng.checkText(args); err != nil {
		return row{err: sql.ErrNoRows}
	}
	return row{r: t.tx.QueryRowContext(ctx, t.eng.rebind(q), args...)}
}

// PrepareContext prepares q for repeated use; its arguments are not
// checked (migrations only, with what the database held already).
func (t *txn) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, t.eng.rebind(q))
}

func (t *txn) Commit() error   { return t.tx.Commit() }
func (t *txn) Rollback() error { return t.tx.Rollback() }

// row is a *sql.Row, or the error that kept the query from running.
type row struct {
	r   *sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dest...)
}

// execer is what both a handle and a txn offer for writes.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// rowQueryer is what both a handle and a txn offer for reading one row.
type rowQueryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) row
}
