// Package token signs and checks the server's opaque tokens: join tokens bound
// to one session, participant and role, and (later) subscriber tokens for mail
// links. A token is base64url(JSON claims) "." base64url(HMAC-SHA256), with the
// purpose mixed into the MAC so a token made for one use never passes for
// another. It knows nothing of HTTP or storage.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors returned by Verify.
var (
	ErrMalformed = errors.New("token malformed")
	ErrSignature = errors.New("token signature invalid")
	ErrExpired   = errors.New("token expired")
)

// MaxLen bounds what Verify reads.
const MaxLen = 2048

// Signer makes and checks tokens with one secret key.
type Signer struct {
	key []byte
}

// NewSigner returns a signer for key, which should be at least 32 random bytes.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("token key: %d bytes, need at least 32", len(key))
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// Join are the claims of a join token.
type Join struct {
	Session     string `json:"s"`
	Participant string `json:"p"`
	Name        string `json:"n"`
	Role        string `json:"r"`
	Expires     int64  `json:"e"` // unix seconds
	// Subscriber is set on the links in mails: the subscriber the
	// participant is, so the room can point them to their record.
	Subscriber string `json:"b,omitempty"`
	// Guest is set on the links traded for an open link (POST
	// /api/guest): guests have a cap of their own and leave seats for
	// invitees.
	Guest bool `json:"g,omitempty"`
}

// Purposes, mixed into the signature.
const (
	PurposeJoin = "join"
)

func (s *Signer) mac(purpose string, payload string) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(payload))
	return h.Sum(nil)
}

// Sign returns a token for claims under purpose.
func (s *Signer) Sign(purpose string, claims any) (string, error) {
	raw, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign %s token: %w", purpose, err)
	}
	payload := base64.RawURLEncoding.EncodeToString(raw)
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.mac(purpose, payload)), nil
}

// Verify checks tok's signature under purpose and decodes its claims into out.
func (s *Signer) Verify(purpose, tok string, out any) error {
	if tok == "" || len(tok) > MaxLen {
		return ErrMalformed
	}
	payload, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return ErrMalformed
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return ErrMalformed
	}
	if !hmac.Equal(got, s.mac(purpose, payload)) {
		return ErrSignature
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return ErrMalformed
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return ErrMalformed
	}
	return nil
}

// SignJoin returns a join token.
func (s *Signer) SignJoin(j Join) (string, error) { return s.Sign(PurposeJoin, j) }

// VerifyJoin checks a join token and that it has not expired at now.
func (s *Signer) VerifyJoin(tok string, now time.Time) (Join, error) {
	var j Join
	if err := s.Verify(PurposeJoin, tok, &j); err != nil {
		return Join{}, err
	}
	if j.Session == "" || j.Participant == "" || j.Role == "" {
		return Join{}, ErrMalformed
	}
	if now.Unix() >= j.Expires {
		return Join{}, ErrExpired
	}
	return j, nil
}

// PurposeOpen marks a session's open link: it admits nobody by itself, but can
// be traded for a personal join token.
const PurposeOpen = "open"

// Open are the claims of an open link.
type Open struct {
	Session string `json:"s"`
	Expires int64  `json:"e"` // unix seconds
}

// Purposes of subscriber links in mails.
const (
	PurposeConfirm     = "confirm"
	PurposeUnsubscribe = "unsubscribe"
	PurposeRecord      = "record" // the page of one's past sessions
)

// Subscriber are the claims of a subscriber's confirm, unsubscribe or record
// link.
type Subscriber struct {
	ID      string `json:"u"`
	Expires int64  `json:"e,omitempty"` // unix seconds; 0: never
}

// VerifySubscriber checks a subscriber link of purpose at now.
func (s *Signer) VerifySubscriber(purpose, tok string, now time.Time) (Subscriber, error) {
	var sub Subscriber
	if err := s.Verify(purpose, tok, &sub); err != nil {
		return Subscriber{}, err
	}
	if sub.ID == "" {
		return Subscriber{}, ErrMalformed
	}
	if sub.Expires != 0 && now.Unix() >= sub.Expires {
		return Subscriber{}, ErrExpired
	}
	return sub, nil
}
