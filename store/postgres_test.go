package store

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/worktogether/worktogether/session"
)

func TestDollarParamsSkipQuotesAndComments(t *testing.T) {
	for q, want := range map[string]string{
		`SELECT ? FROM t WHERE a = ? AND b IN (?, ?)`:   `SELECT $1 FROM t WHERE a = $2 AND b IN ($3, $4)`,
		`SELECT '?', "a?b", ? -- who? ?` + "\n" + `, ?`: `SELECT '?', "a?b", $1 -- who? ?` + "\n" + `, $2`,
		`SELECT 'it''s ?', ?`:                           `SELECT 'it''s ?', $1`,
		`SELECT 1`:                                      `SELECT 1`,
		`SELECT 'open ?`:                                `SELECT 'open ?`,
	} {
		if got := dollarParams(q); got != want {
			t.Errorf("dollarParams(%q) = %q, want %q", q, got, want)
		}
	}
	e := &engine{name: enginePostgres}
	if a, b := e.rebind("SELECT ?"), e.rebind("SELECT ?"); a != "SELECT $1" || b != a {
		t.Errorf("rebind: %q %q", a, b)
	}
	if s := (&engine{name: engineSQLite}).rebind("SELECT ?"); s != "SELECT ?" {
		t.Errorf("sqlite rebind: %q", s)
	}
}

// hostile is text that must come out of either engine exactly as it went in.
var hostile = []string{
	`Robert'); DROP TABLE sessions;--`,
	`"quoted" \backslash\ \\ 'single' '' ` + "`tick`",
	`? ?? $1 $2 :name @p1 %s %d %%`,
	"emoji 👩🏽‍💻🧑‍🤝‍🧑 and CJK 共同作業 and RTL שלום مرحبا",
	"tab\tnew\nline\r\nreturn",
	"<script>alert(1)</script>&amp;",
	strings.Repeat("long ✓", 5000),
	"",
}

// TestHostileTextComesOutIntact stores hostile text in every text field
// on both engines and reads it back byte for byte. A NUL byte, which
// PostgreSQL's text cannot hold, is a clear error there (and a lookup by
// it finds nothing); inside JSON (tasks) it is escaped and survives.
func TestHostileTextComesOutIntact(t *testing.T) { forEachEngine(t, testHostileText) }

func testHostileText(t *testing.T, db testDB) {
	ctx := context.Background()
	st := db.open(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for i, s := range hostile {
		id := "s" + string(rune('a'+i))
		sess := Session{ID: id, Title: s, StartsAt: now, Plan: session.DefaultPlan(), Capacity: 10, HostParticipant: "h" + id, CreatedAt: now}
		if err := st.CreateSession(ctx, sess, Participant{ID: "h" + id, SessionID: id, Name: s, Role: "host"}, nil); err != nil {
			t.Fatalf("create with %q: %v", s[:min(len(s), 20)], err)
		}
		p := Participant{ID: "p" + id, SessionID: id, Name: s, Role: "participant"}
		if err := st.MarkJoined(ctx, p, now); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveCommitment(ctx, id, p.ID, []string{s, "nul \x00 in json"}, now); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveReport(ctx, id, p.ID, Report{Done: []bool{true}, Note: s}, now); err != nil {
			t.Fatal(err)
		}
		if err := st.Subscribe(ctx, Subscriber{ID: "sub" + id, Email: id + "@example.org", Name: s, Lang: "en", TZ: "UTC"}, now); err != nil {
			t.Fatal(err)
		}
		got, err := st.GetSession(ctx, id)
		if err != nil || got.Title != s {
			t.Errorf("title %q came back %q (%v)", s, got.Title, err)
		}
		back, err := st.GetParticipant(ctx, id, p.ID)
		if err != nil || back.Name != s || len(back.Commitment) != 2 || back.Commitment[0] != s ||
			back.Commitment[1] != "nul \x00 in json" || back.Report == nil || back.Report.Note != s {
			t.Errorf("participant with %q came back %+v (%v)", s[:min(len(s), 20)], back, err)
		}
		if sub, err := st.GetSubscriber(ctx, "sub"+id); err != nil || sub.Name != s {
			t.Errorf("subscriber name %q came back %q (%v)", s, sub.Name, err)
		}
	}

	for _, bad := range []string{"nul\x00byte", "not utf-8 \xff\xfe"} {
		sess := Session{ID: "bad", Title: bad, StartsAt: now, Plan: session.DefaultPlan(), Capacity: 10, HostParticipant: "hb", CreatedAt: now}
		err := st.CreateSession(ctx, sess, Participant{ID: "hb", SessionID: "bad", Name: "H", Role: "host"}, nil)
		if db.engine == enginePostgres {
			if !errors.Is(err, ErrInvalidText) || !strings.Contains(err.Error(), "create session") {
				t.Errorf("postgres, title %q: %v, want ErrInvalidText with context", bad, err)
			}
			if _, err := st.GetSession(ctx, bad); !errors.Is(err, ErrNotFound) {
				t.Errorf("postgres, lookup by %q: %v, want ErrNotFound", bad, err)
			}
			if _, err := st.JoinedParticipants(ctx, bad); !errors.Is(err, ErrInvalidText) {
				t.Errorf("postgres, list by %q: %v, want ErrInvalidText", bad, err)
			}
			continue
		}
		// SQLite keeps what it is given (text stored before the API checked
		// input is read back as it is).
		if err != nil {
			t.Fatalf("sqlite, title %q: %v", bad, err)
		}
		if got, err := st.GetSession(ctx, "bad"); err != nil || got.Title != bad {
			t.Errorf("sqlite, title %q came back %q (%v)", bad, got.Title, err)
		}
		if err := st.CancelSession(ctx, "bad", now, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.db.ExecContext(ctx, `DELETE FROM participants WHERE session_id = 'bad'`); err != nil {
			t.Fatal(err)
		}
		if _, err := st.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = 'bad'`); err != nil {
			t.Fatal(err)
		}
	}
}

// TestServersMigrateOnePostgresDatabaseAtOnce opens one empty database
// from several stores at once, as servers starting together do: each step
// runs once, and every store comes up.
func TestServersMigrateOnePostgresDatabaseAtOnce(t *testing.T) {
	db := newTestDB(t, enginePostgres)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := db.tryOpen(context.Background())
			if err == nil {
				st.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st := db.open(t)
	if v, err := st.schemaVersion(context.Background()); err != nil || v != len(steps) {
		t.Fatalf("schema version %d (%v)", v, err)
	}
}

// TestOpenPostgresFailsClearly gives OpenPostgres URLs it cannot use: each
// is an error soon, and none names the password.
func TestOpenPostgresFailsClearly(t *testing.T) {
	const pw = "s3cret-9f8e7d6c5b4a"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String() // nothing listens here once closed
	ln.Close()
	for name, url := range map[string]string{
		"not postgres": "mysql://u:" + pw + "@127.0.0.1/db",
		"bad port":     "postgres://u:" + pw + "@127.0.0.1:notaport/db",
		"bad escape":   "postgres://u:" + pw + "%zz@127.0.0.1/db",
		"unreachable":  "postgres://u:" + pw + "@" + closed + "/db?sslmode=disable",
	} {
		start := time.Now()
		st, err := OpenPostgres(context.Background(), url)
		if err == nil {
			st.Close()
			t.Errorf("%s: opened", name)
			continue
		}
		if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "9f8e7d") {
			t.Errorf("%s: the error names the password: %v", name, err)
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("%s: took %v", name, d)
		}
		t.Logf("%s: %v", name, err)
	}
	if postgres == nil {
		return
	}
	// The right server, the wrong password.
	wrong := strings.Replace(postgres.Database(t), postgres.Password(), pw, 1)
	if _, err := OpenPostgres(context.Background(), wrong); err == nil || strings.Contains(err.Error(), pw) {
		t.Errorf("wrong password: %v", err)
	} else {
		t.Logf("wrong password: %v", err)
	}
}
