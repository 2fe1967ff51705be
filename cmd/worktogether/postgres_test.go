package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/pgtest"
	"github.com/worktogether/worktogether/store"
)

// TestBinaryKeepsItsDataInPostgres starts the server with -database on a
// real PostgreSQL, creates a session through the API, and finds it in that
// database (not in the data directory) and again after a restart. No line
// the server writes names the database password.
func TestBinaryKeepsItsDataInPostgres(t *testing.T) {
	pg, err := pgtest.Start()
	if err != nil {
		pgtest.Unavailable(t, err)
	}
	defer pg.Stop()
	dbURL := pg.Database(t)
	data := t.TempDir()
	p := start(t, data, "-database", dbURL, "-log-level", "debug")
	var sess struct{ ID string }
	p.post(t, "/api/sessions", p.hostKey, map[string]any{"title": "On Postgres ✓ 'quoted'", "starts_at": time.Now().UTC().Format(time.RFC3339)}, &sess)
	var inv struct{ Token string }
	p.post(t, "/api/sessions/"+sess.ID+"/invites", p.hostKey, map[string]any{"name": "Ada"}, &inv)
	if _, err := os.Stat(filepath.Join(data, "worktogether.db")); !os.IsNotExist(err) {
		t.Fatalf("a SQLite database in the data directory: %v", err)
	}

	st, err := store.OpenPostgres(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.GetSession(context.Background(), sess.ID)
	st.Close()
	if err != nil || got.Title != "On Postgres ✓ 'quoted'" {
		t.Fatalf("session in PostgreSQL: %+v %v", got, err)
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Fatalf("exit: %v\n%s", err, p.stderr)
	}
	p.done <- nil // for the cleanup
	logs := p.stderr.String() + strings.Join(p.stdout, "\n")
	if !strings.Contains(logs, `"database":"postgres"`) {
		t.Errorf("the log does not say which database: %s", logs)
	}
	if leaks := (secrets{"database password": pg.Password(), "database URL": dbURL}).leaks(logs); len(leaks) > 0 {
		t.Errorf("the log holds the %v", leaks)
	}

	again := start(t, data, "-database", dbURL)
	resp, err := http.Get(again.url + "/api/sessions/" + sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var back struct{ ID, Title string }
	json.NewDecoder(resp.Body).Decode(&back)
	if back.ID != sess.ID || back.Title != got.Title {
		t.Fatalf("session after restart: %+v", back)
	}
}
