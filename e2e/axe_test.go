package e2e

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core's axe.min.js (from npm; make e2e installs it under
// .e2e/ and names it in WT_AXE), or "" when absent (not allowed in CI).
func axeSource(t *testing.T) string {
	t.Helper()
	path := os.Getenv("WT_AXE")
	if path == "" {
		path = "../.e2e/node_modules/axe-core/axe.min.js"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is needed in CI: %v", err)
		}
		t.Logf("no axe-core (%v): accessibility not checked", err)
		return ""
	}
	return string(b)
}

// axeJS runs axe on the page and lists the critical and serious
// violations, each with the first element it names.
const axeJS = `(async () => {
  const r = await axe.run(document, { resultTypes: ['violations'] });
  return r.violations.filter((v) => v.impact === 'critical' || v.impact === 'serious')
    .map((v) => v.impact + ' ' + v.id + ': ' + v.nodes.length + '× e.g. ' + (v.nodes[0] ? v.nodes[0].target.join(' ') : ''));
})()`

// accessible fails when axe finds a critical or serious violation on the
// page as it is now.
func accessible(t *testing.T, tab context.Context, src, state string) {
	t.Helper()
	if src == "" {
		return
	}
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	has, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== 'undefined'`))
	if err != nil {
		t.Fatal(err)
	}
	if !has {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+";true")); err != nil {
			t.Fatalf("inject axe: %v", err)
		}
	}
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](axeJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", state, err)
	}
	for _, v := range bad {
		t.Errorf("%s: %s", state, v)
	}
}
