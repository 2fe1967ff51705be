package token

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestJoinRoundTripAndTampering(t *testing.T) {
	s, err := NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSigner([]byte(strings.Repeat("x", 32)))
	now := time.Unix(1_800_000_000, 0)
	j := Join{Session: "s1", Participant: "p1", Name: "Ada", Role: "participant", Expires: now.Unix() + 60}
	tok, err := s.SignJoin(j)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.VerifyJoin(tok, now)
	if err != nil || got != j {
		t.Fatalf("round trip: %+v %v", got, err)
	}

	payload, sig, _ := strings.Cut(tok, ".")
	forgedClaims, _ := s.Sign(PurposeJoin, Join{Session: "s1", Participant: "p1", Role: "host", Expires: j.Expires})
	forgedPayload, _, _ := strings.Cut(forgedClaims, ".")
	otherTok, _ := other.SignJoin(j)
	wrongPurpose, _ := s.Sign("confirm", j)

	cases := map[string]struct {
		tok  string
		want error
	}{
		"empty":            {"", ErrMalformed},
		"no dot":           {payload, ErrMalformed},
		"altered payload":  {forgedPayload + "." + sig, ErrSignature},
		"altered sig":      {payload + "." + strings.Repeat("A", len(sig)), ErrSignature},
		"other key":        {otherTok, ErrSignature},
		"other purpose":    {wrongPurpose, ErrSignature},
		"bad base64":       {payload + ".***", ErrMalformed},
		"too long":         {strings.Repeat("a", MaxLen+1), ErrMalformed},
		"expired":          {tok, ErrExpired},
		"missing claims":   {mustSign(t, s, Join{Expires: j.Expires}), ErrMalformed},
		"payload not json": {mustSignRaw(s, "bm90IGpzb24"), ErrMalformed},
	}
	for name, c := range cases {
		at := now
		if name == "expired" {
			at = now.Add(time.Minute)
		}
		if _, err := s.VerifyJoin(c.tok, at); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
}

func mustSign(t *testing.T, s *Signer, j Join) string {
	t.Helper()
	tok, err := s.SignJoin(j)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func mustSignRaw(s *Signer, payload string) string {
	return payload + "." + b64(s.mac(PurposeJoin, payload))
}

func TestShortKeyRefused(t *testing.T) {
	if _, err := NewSigner([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
