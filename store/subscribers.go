package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Subscriber statuses.
const (
	StatusPending      = "pending"
	StatusConfirmed    = "confirmed"
	StatusUnsubscribed = "unsubscribed"
)

// confirmEvery is the least time between two confirmation mails to one
// address.
const confirmEvery = 10 * time.Minute

// Subscriber is someone on the newsletter list.
type Subscriber struct {
	ID     string
	Email  string // lower case
	Name   string
	Lang   string // en, de
	TZ     string // IANA time zone
	Status string
}

const subscriberColumns = `id, email, name, lang, timezone, status`

func scanSubscriber(sc scanner) (Subscriber, error) {
	var sub Subscriber
	err := sc.Scan(&sub.ID, &sub.Email, &sub.Name, &sub.Lang, &sub.TZ, &sub.Status)
	return sub, err
}

// GetSubscriber returns one subscriber.
func (s *Store) GetSubscriber(ctx context.Context, id string) (Subscriber, error) {
	sub, err := scanSubscriber(s.rd.QueryRowContext(ctx, `SELECT `+subscriberColumns+` FROM subscribers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Subscriber{}, ErrNotFound
	}
	if err != nil {
		return Subscriber{}, fmt.Errorf("get subscriber: %w", err)
	}
	return sub, nil
}

// Subscribe adds an address as pending and queues a confirmation mail, in
// one transaction. An address that is pending again gets a new confirmation
// (at most one every ten minutes); one that unsubscribed starts over; a
// confirmed one is left as it is. The caller answers the same in every case.
func (s *Store) Subscribe(ctx context.Context, sub Subscriber, now time.Time) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	defer tx.Rollback()
	existing, err := scanSubscriber(tx.QueryRowContext(ctx, `SELECT `+subscriberColumns+` FROM subscribers WHERE email = ?`, sub.Email))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, `INSERT INTO subscribers (id, email, name, lang, timezone, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			sub.ID, sub.Email, sub.Name, sub.Lang, sub.TZ, StatusPending, ms(now))
		if err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
	case err != nil:
		return fmt.Errorf("subscribe: %w", err)
	case existing.Status == StatusConfirmed:
		return nil
	default:
		sub.ID = existing.ID
		var last sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT MAX(created_at) FROM outbox WHERE subscriber_id = ? AND kind = ?`, sub.ID, KindConfirm).Scan(&last)
		if err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
		if last.Valid && now.Sub(fromMS(last.Int64)) < confirmEvery {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE subscribers SET name = ?, lang = ?, timezone = ?, status = ? WHERE id = ?`,
			sub.Name, sub.Lang, sub.TZ, StatusPending, sub.ID)
		if err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
	}
	if err := queueFor(ctx, tx, queued{kind: KindConfirm, requested: now}, sub.ID, "", now, now); err != nil {
		return err
	}
	return tx.Commit()
}

// Confirm makes a pending subscriber confirmed and queues, in the same
// transaction, the announcements and reminders of the sessions still ahead.
// Confirming twice changes nothing. It returns ErrNotFound for an unknown id
// and for someone who has since unsubscribed.
func (s *Store) Confirm(ctx context.Context, id string, n Notify) (Subscriber, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return Subscriber{}, fmt.Errorf("confirm: %w", err)
	}
	defer tx.Rollback()
	sub, err := scanSubscriber(tx.QueryRowContext(ctx, `SELECT `+subscriberColumns+` FROM subscribers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Subscriber{}, ErrNotFound
	}
	if err != nil {
		return Subscriber{}, fmt.Errorf("confirm: %w", err)
	}
	switch sub.Status {
	case StatusConfirmed:
		return sub, nil
	case StatusUnsubscribed:
		return Subscriber{}, ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = ?, confirmed_at = ? WHERE id = ?`, StatusConfirmed, ms(n.Now), id); err != nil {
		return Subscriber{}, fmt.Errorf("confirm: %w", err)
	}
	sub.Status = StatusConfirmed
	rows, err := tx.QueryContext(ctx, "SELECT "+sessionColumns+` FROM sessions WHERE cancelled_at IS NULL AND starts_at > ?
		AND series_id NOT IN (SELECT series_id FROM unfollowed WHERE subscriber_id = ?)`, ms(n.Now), id)
	if err != nil {
		return Subscriber{}, fmt.Errorf("confirm: %w", err)
	}
	var ahead []Session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			rows.Close()
			return Subscriber{}, fmt.Errorf("confirm: %w", err)
		}
		ahead = append(ahead, sess)
	}
	rows.Close()
	for _, sess := range ahead {
		if !sess.Announced() {
			continue
		}
		if err := queueFor(ctx, tx, queued{kind: KindAnnounce}, id, sess.ID, announceAt(sess, n), n.Now); err != nil {
			return Subscriber{}, err
		}
		for q, at := range reminderTimes(sess, n) {
			if err := queueFor(ctx, tx, q, id, sess.ID, at, n.Now); err != nil {
				return Subscriber{}, err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return Subscriber{}, fmt.Errorf("confirm: %w", err)
	}
	return sub, nil
}

// Unsubscribe takes a subscriber off the list and drops their queued mails.
// Doing it again is harmless; an unknown id is ErrNotFound.
func (s *Store) Unsubscribe(ctx context.Context, id string, now time.Time) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("unsubscribe: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = ?, unsubscribed_at = COALESCE(unsubscribed_at, ?) WHERE id = ?`,
		StatusUnsubscribed, ms(now), id)
	if err != nil {
		return fmt.Errorf("unsubscribe: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'skipped', last_error = 'unsubscribed'
		WHERE subscriber_id = ? AND status = 'queued'`, id); err != nil {
		return fmt.Errorf("unsubscribe: %w", err)
	}
	return tx.Commit()
}

// SubscriberCounts counts subscribers by status.
func (s *Store) SubscriberCounts(ctx context.Context) (map[string]int, error) {
	out, err := s.countByStatus(ctx, []string{StatusPending, StatusConfirmed, StatusUnsubscribed},
		`SELECT status, COUNT(*) FROM subscribers GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count subscribers: %w", err)
	}
	return out, nil
}

// ForgetUnconfirmed deletes the sign-ups that were never confirmed and have
// had no confirmation mail queued since cutoff: their link has expired, and
// an address someone typed in without its owner's yes is not kept. Their
// mails stay counted in the outbox, which holds no address. It returns how
// many were forgotten.
func (s *Store) ForgetUnconfirmed(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM subscribers
		WHERE status = ? AND confirmed_at IS NULL AND created_at < ?
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.subscriber_id = subscribers.id AND o.created_at >= ?)`,
		StatusPending, ms(cutoff), ms(cutoff))
	if err != nil {
		return 0, fmt.Errorf("forget unconfirmed sign-ups: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("forget unconfirmed sign-ups: %w", err)
	}
	return int(n), nil
}
