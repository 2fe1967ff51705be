package pgtest

import (
	"database/sql"
	"testing"
)

func TestServerGivesEachTestItsOwnDatabase(t *testing.T) {
	s, err := Start()
	if err != nil {
		Unavailable(t, err)
	}
	defer s.Stop()
	a, b := s.Database(t), s.Database(t)
	if a == b {
		t.Fatalf("same database twice: %s", a)
	}
	db, err := sql.Open("pgx", a)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE x (v TEXT)`); err != nil {
		t.Fatal(err)
	}
	var addr string
	if err := db.QueryRow(`SELECT host(inet_server_addr())`).Scan(&addr); err != nil || addr != "127.0.0.1" {
		t.Fatalf("server address %q %v", addr, err)
	}
}
