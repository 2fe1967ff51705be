package web

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/sfu"
	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/token"
	"go.uber.org/zap"
)

// countingDriver is the sqlite driver with every statement counted: its
// connections offer only Prepare, so database/sql prepares each query.
type countingDriver struct {
	driver.Driver
	n *atomic.Int64
}

func (d countingDriver) Open(name string) (driver.Conn, error) {
	c, err := d.Driver.Open(name)
	if err != nil {
		return nil, err
	}
	return countingConn{c, d.n}, nil
}

type countingConn struct {
	driver.Conn
	n *atomic.Int64
}

func (c countingConn) Prepare(query string) (driver.Stmt, error) {
	c.n.Add(1)
	return c.Conn.Prepare(query)
}

var registerCounting sync.Once

// TestPastSessionsInConstantQueries lists 3 and then 40 past sessions, each
// with people, commitments, reports and mail: the number of database
// queries is the same.
func TestPastSessionsInConstantQueries(t *testing.T) {
	var queries atomic.Int64
	registerCounting.Do(func() {
		db, err := sql.Open("sqlite", "")
		if err != nil {
			t.Fatal(err)
		}
		sql.Register("sqlite-counting", countingDriver{db.Driver(), &queries})
		db.Close()
	})
	ctx := context.Background()
	st, err := store.OpenDriver(ctx, filepath.Join(t.TempDir(), "wt.db"), "sqlite-counting")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	router, err := sfu.NewRouter(sfu.Config{LoopbackOnly: true}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	signer, _ := token.NewSigner(bytes.Repeat([]byte{5}, 32))
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	srv, err := New(Config{PublicURL: "http://127.0.0.1", HostKey: testHostKey, Store: st, Signer: signer, Router: router,
		Log: zap.NewNop(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Subscribe(ctx, store.Subscriber{ID: "sub", Email: "a@example.org", Name: "A", Lang: "en", TZ: "UTC"}, now.Add(-90*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Confirm(ctx, "sub", store.Notify{Now: now.Add(-90 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	made := 0
	addPast := func(n int) {
		for range n {
			made++
			id := fmt.Sprintf("past-%03d", made)
			start := now.Add(-time.Duration(made) * 24 * time.Hour)
			sess := store.Session{ID: id, Title: id, StartsAt: start, Plan: session.DefaultPlan(), Capacity: 10, HostParticipant: "h-" + id, CreatedAt: start.Add(-time.Hour)}
			if err := st.CreateSession(ctx, sess, store.Participant{ID: "h-" + id, SessionID: id, Name: "Host", Role: signaling.RoleHost},
				&store.Notify{Now: start.Add(-time.Hour)}); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"p1", "p2"} {
				pid := p + "-" + id
				if err := st.MarkJoined(ctx, store.Participant{ID: pid, SessionID: id, Name: p, Role: signaling.RoleParticipant}, start); err != nil {
					t.Fatal(err)
				}
				if err := st.SaveCommitment(ctx, id, pid, []string{"a", "b"}, start); err != nil {
					t.Fatal(err)
				}
				if err := st.SaveReport(ctx, id, pid, store.Report{Done: []bool{true, false}}, start); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	list := func() ([]pastSession, int64) {
		t.Helper()
		var out []pastSession
		req := httptest.NewRequest("GET", "/api/sessions?state=ended&limit=100", nil)
		req.Header.Set("Authorization", "Bearer "+testHostKey)
		rec := httptest.NewRecorder()
		before := queries.Load()
		srv.ServeHTTP(rec, req)
		n := queries.Load() - before
		if rec.Code != http.StatusOK {
			t.Fatalf("past sessions: %d %s", rec.Code, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return out, n
	}
	addPast(3)
	few, qFew := list()
	addPast(37)
	many, qMany := list()
	if len(few) != 3 || len(many) != 40 {
		t.Fatalf("listed %d and %d sessions", len(few), len(many))
	}
	for _, p := range many {
		if p.Outcome.People != 2 || p.Outcome.Tasks != 4 || p.Outcome.TasksDone != 2 || p.Mail["skipped"]+p.Mail["queued"]+p.Mail["sent"] == 0 {
			t.Fatalf("%s: outcome %+v, mail %v", p.ID, p.Outcome, p.Mail)
		}
	}
	if qFew != qMany || qMany > 5 {
		t.Fatalf("%d queries for 3 sessions, %d for 40", qFew, qMany)
	}
	t.Logf("%d queries for 3 past sessions, %d for 40", qFew, qMany)
}
