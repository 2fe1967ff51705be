package store

import (
	"context"
	"testing"
	"time"
)

// TestMigrateOldDatabaseInPlace builds a database with the first schema's
// steps only, fills it as that schema's code did (participant ids of
// subscribers recomputed from a hash, the reminder's lead and sequence
// packed into the outbox kind), then opens it with today's code and checks
// every row survived and reads in the new columns.
func TestMigrateOldDatabaseInPlace(t *testing.T) { forEachEngine(t, testMigrateInPlace) }

func testMigrateInPlace(t *testing.T, tdb testDB) {
	ctx := context.Background()
	db := tdb.raw(t)
	old := &Store{db: db}
	if err := old.migrate(ctx, len(sqlSteps)); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	start := now.Add(48 * time.Hour)
	ada := SubscriberParticipantID("ada", "s1")
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO subscribers (id, email, name, lang, timezone, status, created_at) VALUES
			('ada', 'ada@example.org', 'Ada', 'de', 'Europe/Berlin', 'confirmed', ?),
			('bo', 'bo@example.org', 'Bo', 'en', 'UTC', 'pending', ?)`, []any{ms(now), ms(now)}},
		{`INSERT INTO sessions (id, title, starts_at, plan, capacity, lobby_seconds, host_participant, created_at, sequence)
			VALUES ('s1', 'Morning', ?, ?, 10, 600, 'h1', ?, 2)`, []any{ms(start), `[{"kind":"commitment","seconds":600},{"kind":"work","seconds":3000},{"kind":"closing","seconds":600}]`, ms(now)}},
		{`INSERT INTO participants (id, session_id, name, role, created_at, joined_at) VALUES
			('h1', 's1', 'Host', 'host', ?, ?), (?, 's1', 'Ada', 'participant', ?, ?), ('g1', 's1', 'Guest', 'participant', ?, ?)`,
			[]any{ms(now), ms(start), ada, ms(now), ms(start), ms(now), ms(start)}},
		{`INSERT INTO commitments (session_id, participant_id, tasks, updated_at) VALUES ('s1', ?, '["write"]', ?)`, []any{ada, ms(start)}},
		{`INSERT INTO outbox (kind, subscriber_id, session_id, send_after, next_attempt_at, created_at, status) VALUES
			('confirm-1700000000000', 'bo', '', ?, ?, ?, 'sent'),
			('announce', 'ada', 's1', ?, ?, ?, 'sent'),
			('reminder-86400-2', 'ada', 's1', ?, ?, ?, 'queued'),
			('update-2', 'ada', 's1', ?, ?, ?, 'sent'),
			('resend-1700000000001', 'ada', 's1', ?, ?, ?, 'sent'),
			('strange-x', 'ada', 's1', ?, ?, ?, 'failed')`,
			[]any{ms(now), ms(now), ms(now), ms(now), ms(now), ms(now), ms(start.Add(-24 * time.Hour)), ms(start.Add(-24 * time.Hour)), ms(now),
				ms(now), ms(now), ms(now), ms(now), ms(now), ms(now), ms(now), ms(now), ms(now)}},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	st := tdb.open(t)
	if version, err := st.schemaVersion(ctx); err != nil || version != len(steps) {
		t.Fatalf("schema version %d (%v), want %d", version, err, len(steps))
	}
	p, err := st.GetParticipant(ctx, "s1", ada)
	if err != nil || p.SubscriberID != "ada" || len(p.Commitment) != 1 {
		t.Fatalf("Ada after migration: %+v %v", p, err)
	}
	for _, id := range []string{"h1", "g1"} {
		if p, err := st.GetParticipant(ctx, "s1", id); err != nil || p.SubscriberID != "" {
			t.Fatalf("%s after migration: %+v %v", id, p, err)
		}
	}
	rec, err := st.SubscriberRecord(ctx, "ada")
	if err != nil || len(rec) != 1 || rec[0].Session.ID != "s1" || rec[0].Session.Sequence != 2 {
		t.Fatalf("record after migration: %+v %v", rec, err)
	}
	due, err := st.DueMails(ctx, start, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due after migration: %+v %v", due, err)
	}
	if m := due[0]; m.Kind != KindReminder || m.Lead != 24*time.Hour || m.Sequence != 2 || m.SubscriberID != "ada" {
		t.Fatalf("reminder after migration: %+v", m)
	}
	rows, err := st.db.QueryContext(ctx, `SELECT kind, lead_seconds, sequence, requested_at, status FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type row struct {
		kind           string
		lead, seq, req int64
		status         string
	}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.kind, &r.lead, &r.seq, &r.req, &r.status); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	want := []row{
		{KindConfirm, 0, 0, 1700000000000, "sent"},
		{KindAnnounce, 0, 0, 0, "sent"},
		{KindReminder, 86400, 2, 0, "queued"},
		{KindUpdate, 0, 2, 0, "sent"},
		{KindResend, 0, 0, 1700000000001, "sent"},
		{"strange-x", 0, 0, 0, "failed"},
	}
	if len(got) != len(want) {
		t.Fatalf("outbox after migration: %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("outbox row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// The same reminder queued again by today's code is the same row.
	sess, err := st.GetSession(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	n := Notify{Now: now, Leads: []time.Duration{24 * time.Hour}}
	if err := queueAnnouncement(ctx, st.db, sess, n); err != nil {
		t.Fatal(err)
	}
	var count int
	if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE subscriber_id = 'ada'`).Scan(&count); err != nil || count != 5 {
		t.Fatalf("ada's mails after queueing again: %d (%v), want 5", count, err)
	}
	// Forgetting Ada finds her rows by subscriber_id.
	if err := st.ForgetSubscriber(ctx, "ada"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetParticipant(ctx, "s1", ada); err == nil {
		t.Fatal("Ada's participant survived her deletion")
	}
}
