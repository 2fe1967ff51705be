package signaling

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestCSVCellNeutralisesFormulas(t *testing.T) {
	cases := map[string]string{
		"=1+2": "'=1+2", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"plain": "plain", "": "", "a=b": "a=b", " =x": " =x",
	}
	for in, want := range cases {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// assertInertHTML parses a page with a real HTML parser and fails when it
// runs an inline script or handler, carries a style attribute (the CSP
// refuses those), or has an element named in banned (what hostile text
// would have made, had it not been escaped).
func assertInertHTML(t *testing.T, what, page string, banned []string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if slices.Contains(banned, n.Data) {
				t.Errorf("%s: a <%s> element from hostile text", what, n.Data)
			}
			src := ""
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") || a.Key == "style" {
					t.Errorf("%s: <%s %s=%q>", what, n.Data, a.Key, a.Val)
				}
				if a.Key == "src" {
					src = a.Val
				}
				if (a.Key == "href" || a.Key == "src" || a.Key == "action") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
					t.Errorf("%s: <%s %s=%q>", what, n.Data, a.Key, a.Val)
				}
			}
			if n.Data == "script" && src == "" {
				t.Errorf("%s: an inline script", what)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}
