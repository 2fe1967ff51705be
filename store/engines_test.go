package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/worktogether/worktogether/internal/pgtest"
)

// postgres is the PostgreSQL server of this test binary, or why there is
// none (pgErr).
var (
	postgres *pgtest.Server
	pgErr    error
)

func TestMain(m *testing.M) {
	postgres, pgErr = pgtest.Start()
	code := m.Run()
	if postgres != nil {
		postgres.Stop()
	}
	os.Exit(code)
}

// testDB is one empty database of one engine, made for one test.
type testDB struct {
	engine string
	path   string // SQLite: the file
	url    string // PostgreSQL: the URL
}

// open opens the database with today's code (migrating it); it is closed
// when the test ends.
func (d testDB) open(t *testing.T) *Store {
	t.Helper()
	st, err := d.tryOpen(context.Background())
	if err != nil {
		t.Fatalf("open %s: %v", d.engine, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func (d testDB) tryOpen(ctx context.Context) (*Store, error) {
	if d.engine == enginePostgres {
		return OpenPostgres(ctx, d.url)
	}
	return Open(ctx, d.path)
}

// raw is a connection to the database with nothing done to it: no
// migrations, no read pool.
func (d testDB) raw(t *testing.T) *handle {
	t.Helper()
	driver, dsn := "sqlite", "file:"+d.path+"?_pragma=journal_mode(WAL)"
	if d.engine == enginePostgres {
		driver, dsn = "pgx", d.url
	}
	if d.engine == engineSQLite {
		if err := os.MkdirAll(filepath.Dir(d.path), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return &handle{db: db, eng: &engine{name: d.engine}}
}

// engines are the engines every store test runs on.
var engines = []string{engineSQLite, enginePostgres}

// newTestDB makes an empty database on engine for t. Without PostgreSQL on
// the machine its tests are skipped, or under CI=true fail.
func newTestDB(t *testing.T, engine string) testDB {
	t.Helper()
	if engine == enginePostgres {
		if postgres == nil {
			pgtest.Unavailable(t, pgErr)
		}
		return testDB{engine: engine, url: postgres.Database(t)}
	}
	return testDB{engine: engine, path: filepath.Join(t.TempDir(), "data", "wt.db")}
}

// forEachEngine runs test once on each engine, each time on a new database.
func forEachEngine(t *testing.T, test func(t *testing.T, db testDB)) {
	for _, e := range engines {
		t.Run(e, func(t *testing.T) { test(t, newTestDB(t, e)) })
	}
}

// columns lists every table's columns in order, as the engine has them.
func columns(t *testing.T, st *Store) map[string][]string {
	t.Helper()
	ctx := context.Background()
	q := `SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' ORDER BY m.name, p.cid`
	if st.db.eng.name == enginePostgres {
		q = `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = 'public' AND table_name != 'schema_version' ORDER BY table_name, ordinal_position`
	}
	rows, err := st.db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		out[table] = append(out[table], col)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBothEnginesHaveTheSameSchema migrates an empty database on each
// engine and compares their tables and columns (PostgreSQL's phase log has
// its rowid as a column of that name).
func TestBothEnginesHaveTheSameSchema(t *testing.T) {
	got := map[string]string{}
	for _, e := range engines {
		st := newTestDB(t, e).open(t)
		cols := columns(t, st)
		if e == enginePostgres {
			cols["phase_log"] = cols["phase_log"][1:]
		}
		got[e] = fmt.Sprint(cols)
		v, err := st.schemaVersion(context.Background())
		if err != nil || v != len(steps) {
			t.Fatalf("%s: schema version %d (%v), want %d", e, v, err, len(steps))
		}
	}
	if got[engineSQLite] != got[enginePostgres] {
		t.Fatalf("schemas differ:\nsqlite   %s\npostgres %s", got[engineSQLite], got[enginePostgres])
	}
}
