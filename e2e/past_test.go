package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestHostLooksBackAtPastSessions: once a session is over, the host page
// lists it with how it went, shows its summary, and saves it as CSV.
func TestHostLooksBackAtPastSessions(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t)
	srv.endWith(t, srv.createSession(t),
		did{"p-eve", "Eve", []string{"Ship the release", "Answer mail"}, []bool{true, false}, "Eve is happy", ""},
		did{"p-fay", "Fay", []string{"Sketch the logo"}, []bool{true}, "Fay is happy", ""})

	tab := newTab(t, browser)
	hostSignIn(t, tab, srv, "#past .session")
	mustContain(t, "past session", text(t, tab, "#past .session"), "Browser test", "2 people · 2 of 3 tasks done")
	if got := text(t, tab, "#list-state"); !strings.Contains(got, "Nothing scheduled") {
		t.Fatalf("an ended session is still among the upcoming ones: %q", got)
	}
	within(t, tab, 10*time.Second,
		chromedp.Click("#past .session button"),
		chromedp.WaitVisible("#past .summary .history"),
	)
	mustContain(t, "summary", text(t, tab, "#past .summary"),
		"Eve", "✓ Ship the release", "○ Answer mail", "Fay", "✓ Sketch the logo", "Fay is happy")
	screenshot(t, tab, "host-past")

	// The CSV button fetches with the host key and hands the browser a file:
	// catch the file as the page makes it.
	csv, err := chromedp.Run(tab, chromedp.Evaluate[string](`new Promise((resolve) => {
		const make = URL.createObjectURL;
		URL.createObjectURL = (blob) => { blob.text().then(resolve); return make(blob); };
		[...document.querySelectorAll('#past .session button')].find((b) => b.textContent === 'Download CSV').click();
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv, "Ship the release") || !strings.Contains(csv, "Sketch the logo") || strings.Count(csv, "\n") != 4 {
		t.Fatalf("CSV from the page:\n%s", csv)
	}
}
