// Package links makes every absolute link the server hands out, in pages and
// in mails: join links with their signed tokens, open links, and the confirm,
// unsubscribe and record links of subscribers. It knows the public URL and the
// signer, and nothing of HTTP handlers or mail.
package links

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/token"
)

// Grace is how long join tokens outlive a session's planned end. What ends a
// link is the session ending (or being cancelled), which the server checks on
// every join; the expiry is only a backstop, long enough that extending or
// moving a session (up to a year ahead) never breaks a link already sent.
const Grace = 366 * 24 * time.Hour

// ConfirmValid is how long a confirmation link works.
const ConfirmValid = 14 * 24 * time.Hour

// Maker makes links under one public URL.
type Maker struct {
	base   url.URL
	signer *token.Signer
}

// New returns a Maker for publicURL, an absolute http(s) URL.
func New(publicURL string, signer *token.Signer) (*Maker, error) {
	u, err := url.Parse(strings.TrimRight(publicURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("public url must be an absolute http(s) URL")
	}
	if signer == nil {
		return nil, errors.New("links: a signer is required")
	}
	return &Maker{base: *u, signer: signer}, nil
}

// Base is the public URL.
func (m *Maker) Base() *url.URL { u := m.base; return &u }

// URL returns an absolute link to path with query q.
func (m *Maker) URL(path string, q url.Values) string {
	u := m.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = q.Encode()
	return u.String()
}

// expires is when links to sess stop working: Grace after its end.
func expires(sess store.Session) int64 {
	return sess.End().Add(Grace).Unix()
}

// Join returns p's room link to sess and its token.
func (m *Maker) Join(sess store.Session, p store.Participant) (link, tok string, err error) {
	tok, err = m.signer.SignJoin(token.Join{
		Session: sess.ID, Participant: p.ID, Name: p.Name, Role: p.Role, Expires: expires(sess),
	})
	if err != nil {
		return "", "", fmt.Errorf("sign join link: %w", err)
	}
	return m.URL("/s/"+sess.ID, url.Values{"t": {tok}}), tok, nil
}

// GuestJoin is Join for a guest who came by the open link.
func (m *Maker) GuestJoin(sess store.Session, p store.Participant) (link, tok string, err error) {
	tok, err = m.signer.SignJoin(token.Join{
		Session: sess.ID, Participant: p.ID, Name: p.Name, Role: p.Role, Expires: expires(sess), Guest: true,
	})
	if err != nil {
		return "", "", fmt.Errorf("sign guest link: %w", err)
	}
	return m.URL("/s/"+sess.ID, url.Values{"t": {tok}}), tok, nil
}

// SubscriberJoin returns a subscriber's room link to sess, the same in every
// mail. It names the subscriber's language (lang=), so the room speaks it
// whatever the browser's.
func (m *Maker) SubscriberJoin(sess store.Session, sub store.Subscriber) (string, error) {
	p := SubscriberParticipant(sub, sess.ID)
	tok, err := m.signer.SignJoin(token.Join{
		Session: sess.ID, Participant: p.ID, Name: p.Name, Role: p.Role, Expires: expires(sess), Subscriber: sub.ID,
	})
	if err != nil {
		return "", fmt.Errorf("sign join link: %w", err)
	}
	link := m.URL("/s/"+sess.ID, url.Values{"t": {tok}})
	if sub.Lang != "" {
		// After the token, so the link reads /s/{id}?t= like every join
		// link.
		link += "&" + url.Values{"lang": {sub.Lang}}.Encode()
	}
	return link, nil
}

// Open returns the session's open link: one link anyone may use to ask for a
// personal one.
func (m *Maker) Open(sess store.Session) (string, error) {
	tok, err := m.signer.Sign(token.PurposeOpen, token.Open{Session: sess.ID, Expires: expires(sess)})
	if err != nil {
		return "", fmt.Errorf("sign open link: %w", err)
	}
	return m.URL("/s/"+sess.ID, url.Values{"t": {tok}}), nil
}

// SubscriberParticipant is the participant a subscriber is in a session: the
// same id every time, so their link from any mail is the same person.
func SubscriberParticipant(sub store.Subscriber, sessionID string) store.Participant {
	return store.Participant{ID: store.SubscriberParticipantID(sub.ID, sessionID), SessionID: sessionID,
		Name: sub.Name, Role: "participant", SubscriberID: sub.ID}
}

// Confirm returns a subscriber's confirmation link, valid for ConfirmValid.
func (m *Maker) Confirm(sub store.Subscriber, now time.Time) (string, error) {
	tok, err := m.signer.Sign(token.PurposeConfirm, token.Subscriber{ID: sub.ID, Expires: now.Add(ConfirmValid).Unix()})
	if err != nil {
		return "", fmt.Errorf("sign confirm link: %w", err)
	}
	return m.URL("/confirm", url.Values{"token": {tok}}), nil
}

// Record returns the link to a subscriber's record of past sessions; it
// never expires.
func (m *Maker) Record(sub store.Subscriber) (string, error) {
	tok, err := m.signer.Sign(token.PurposeRecord, token.Subscriber{ID: sub.ID})
	if err != nil {
		return "", fmt.Errorf("sign record link: %w", err)
	}
	return m.URL("/record", url.Values{"token": {tok}}), nil
}

// Unsubscribe returns a subscriber's unsubscribe link; it never expires.
func (m *Maker) Unsubscribe(sub store.Subscriber) (string, error) {
	tok, err := m.signer.Sign(token.PurposeUnsubscribe, token.Subscriber{ID: sub.ID})
	if err != nil {
		return "", fmt.Errorf("sign unsubscribe link: %w", err)
	}
	return m.URL("/unsubscribe", url.Values{"token": {tok}}), nil
}
