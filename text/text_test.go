package text

import (
	"errors"
	"strings"
	"testing"
)

func TestLine(t *testing.T) {
	ok := []struct{ in, want string }{
		{"  Jo \"JJ\" Smith ", `Jo "JJ" Smith`},
		{"Zoë 👩‍💻", "Zoë 👩‍💻"},
		{"=1+2", "=1+2"}, // formula starts are the CSV writer's to neutralise
		{"<b>hi</b>", "<b>hi</b>"},
		{"a\u200bb", "a\u200bb"}, // zero-width space: invisible, but reorders nothing
		{strings.Repeat("ä", 80), strings.Repeat("ä", 80)},
	}
	for _, c := range ok {
		got, err := Line("name", c.in, 80)
		if err != nil || got != c.want {
			t.Errorf("Line(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	bad := []string{"", "   ", "a\x00b", "a\rb", "a\nb", "a\tb", "a\x1bb", "a\x7fb", "a\u0085b",
		"a\u202eb", "a\u2066b", "a\u2028b", "a\u200fb", "\xff", strings.Repeat("ä", 81)}
	for _, in := range bad {
		if got, err := Line("name", in, 80); !errors.Is(err, ErrInvalid) {
			t.Errorf("Line(%q) = %q, %v; want ErrInvalid", in, got, err)
		}
	}
}

func TestBlock(t *testing.T) {
	got, err := Block("note", "first\r\nsecond\rthird\n\tindented\n", 100)
	if err != nil || got != "first\nsecond\nthird\n\tindented" {
		t.Errorf("Block = %q, %v", got, err)
	}
	if got, err := Block("note", "", 100); err != nil || got != "" {
		t.Errorf("empty Block = %q, %v", got, err)
	}
	for _, in := range []string{"a\x00b", "a\x0bb", "a\u202eb", strings.Repeat("x", 101)} {
		if _, err := Block("note", in, 100); !errors.Is(err, ErrInvalid) {
			t.Errorf("Block(%q) = %v; want ErrInvalid", in, err)
		}
	}
}

func TestClean(t *testing.T) {
	if got := Clean("a\r\nb\x00c\u202ed\xff"); got != "a  b c d\uFFFD" {
		t.Errorf("Clean = %q", got)
	}
}
