package token

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzJoin signs claims made of whatever the fuzzer gives and checks they
// come back exactly, that no other purpose accepts them, and that any
// change to the token is refused without a panic.
func FuzzJoin(f *testing.F) {
	f.Add("s1", "p1", "Ada", "participant", int64(1_900_000_000), 3, byte('x'))
	f.Add("", "", "名前 \x00\"}", "host", int64(-1), 0, byte('.'))
	f.Add(strings.Repeat("s", 200), "p", "\xff\xfe", "", int64(0), 1000, byte('='))
	s, err := NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, session, participant, name, role string, expires int64, at int, b byte) {
		j := Join{Session: session, Participant: participant, Name: name, Role: role, Expires: expires}
		tok, err := s.SignJoin(j)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.VerifyJoin(tok, now)
		switch {
		case len(tok) > MaxLen:
			if err == nil {
				t.Fatalf("a token of %d bytes was accepted", len(tok))
			}
		case err == nil:
			// JSON turns invalid UTF-8 into U+FFFD: compare with what JSON
			// keeps of the claims.
			var want Join
			raw, _ := json.Marshal(j)
			json.Unmarshal(raw, &want)
			if got != want {
				t.Fatalf("round trip: %+v, signed %+v", got, j)
			}
		}
		var sub Subscriber
		if err := s.Verify(PurposeUnsubscribe, tok, &sub); err == nil {
			t.Fatal("a join token passed as an unsubscribe token")
		}
		// Change one byte anywhere: refused, never a panic.
		if len(tok) > 0 {
			i := at % len(tok)
			if i < 0 {
				i = -i
			}
			if tok[i] != b {
				changed := tok[:i] + string(b) + tok[i+1:]
				if _, err := s.VerifyJoin(changed, now); err == nil && changed != tok {
					// Base64 has a few spellings of the same last bits; the
					// signature still has to match the payload bytes.
					if p, _, _ := strings.Cut(changed, "."); p != strings.SplitN(tok, ".", 2)[0] {
						t.Fatalf("changed token accepted: %q", changed)
					}
				}
			}
		}
	})
}
