// Package e2e tests what a person sees: the real server in-process, and
// headless Chromium with a fake camera and microphone joining through invite
// links. Run it inside a private network namespace (make test does), so that
// nothing leaves the machine.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds the browser, or skips the test where that is allowed: on a
// developer's machine without Chromium. In CI (CI=true) it must run.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser"} {
		if name == "" {
			continue
		}
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is required in CI; .ci/run installs it")
	}
	t.Skip("Chromium not installed; apt-get install chromium to run the browser tests")
	return ""
}

// artifacts is where screenshots go.
func artifacts(t *testing.T) string {
	dir := os.Getenv("WT_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newBrowser starts headless Chromium with fake media devices, and extra
// options (a language, say).
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
	)
	opts = append(opts, extra...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// Start the browser now, on a context without a deadline.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return browser
}

// newTab opens a tab in its own browser context (its own storage), as a
// second person on another computer would be.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return tab
}

// within runs actions on tab with a deadline.
func within(t *testing.T, tab context.Context, d time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, d)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// mediaStats is what a page really receives, from RTCPeerConnection.getStats.
type mediaStats struct {
	FramesDecoded  int `json:"video"`
	AudioPackets   int `json:"audio"`
	RemoteTiles    int `json:"tiles"`
	RemoteWithName int `json:"named"`
}

const statsJS = `(async () => {
  const c = window.worktogether;
  const out = {video: 0, audio: 0, tiles: document.querySelectorAll('.tile:not(.self)').length,
    named: [...document.querySelectorAll('.tile:not(.self) .name')].filter(e => e.textContent.trim() !== '…').length};
  if (!c || !c.pc) return out;
  (await c.pc.getStats()).forEach(s => {
    if (s.type !== 'inbound-rtp') return;
    if (s.kind === 'video') out.video += s.framesDecoded || 0;
    if (s.kind === 'audio') out.audio += s.packetsReceived || 0;
  });
  return out;
})()`

// diagJS describes the page's connection, for failure messages.
const diagJS = `JSON.stringify((() => {
  const c = window.worktogether;
  if (!c) return {client: null};
  const pc = c.pc;
  return {status: c.status, pc: pc && pc.connectionState, ice: pc && pc.iceConnectionState,
    signaling: pc && pc.signalingState,
    transceivers: pc ? pc.getTransceivers().map(t => t.mid + ':' + t.direction + ':' + t.currentDirection) : []};
})())`

func stats(t *testing.T, tab context.Context) mediaStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[mediaStats](statsJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("read stats: %v", err)
	}
	return s
}

// waitStats polls a page's stats until cond holds.
func waitStats(t *testing.T, tab context.Context, within time.Duration, what string, cond func(mediaStats) bool) mediaStats {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s := stats(t, tab)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			diag, _ := chromedp.Run(tab, chromedp.Evaluate[string](diagJS))
			t.Fatalf("after %v, %s: last stats %+v; page: %s", within, what, s, diag)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(artifacts(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func TestTwoBrowsersSeeAndHearEachOther(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t)
	sess := srv.createSession(t)
	people := []string{"Ada", "Bo"}
	tabs := make([]context.Context, len(people))
	for i, name := range people {
		link := srv.invite(t, sess, name)
		tabs[i] = newTab(t, browser)
		within(t, tabs[i], 20*time.Second,
			chromedp.Navigate(link),
			chromedp.WaitVisible("#prejoin"),
			chromedp.WaitEnabled("#join"),
		)
		// The preview shows the fake camera before joining.
		ctx, cancel := context.WithTimeout(tabs[i], 10*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#preview').videoWidth > 0`))
		cancel()
		if err != nil {
			t.Fatalf("%s: the preview shows no camera: %v", name, err)
		}
		if i == 0 {
			screenshot(t, tabs[i], "room-prejoin")
		}
		within(t, tabs[i], 10*time.Second, chromedp.Click("#join"), chromedp.WaitVisible("#inroom"))
	}
	for i, tab := range tabs {
		first := waitStats(t, tab, 20*time.Second, fmt.Sprintf("%s decodes video and receives audio", people[i]), func(s mediaStats) bool {
			return s.RemoteTiles == 1 && s.RemoteWithName == 1 && s.FramesDecoded >= 10 && s.AudioPackets >= 20
		})
		waitStats(t, tab, 10*time.Second, fmt.Sprintf("%s keeps decoding", people[i]), func(s mediaStats) bool {
			return s.FramesDecoded > first.FramesDecoded+10 && s.AudioPackets > first.AudioPackets+20
		})
	}
	screenshot(t, tabs[0], "room-two-people")
	// The other person's tile carries their name.
	name, err := chromedp.Run(tabs[0], chromedp.Evaluate[string](`document.querySelector('.tile:not(.self) .name').textContent`))
	if err != nil || name != "Bo" {
		t.Fatalf("remote tile name %q, %v", name, err)
	}
}

func TestRefusedLinkShowsWhy(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t)
	sess := srv.createSession(t)
	tab := newTab(t, browser)
	within(t, tab, 15*time.Second,
		chromedp.Navigate(srv.url+"/s/"+sess+"?t=forged.token"),
		chromedp.WaitVisible("#notice"),
	)
	text, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('#notice').innerText`))
	if err != nil || !strings.Contains(text, "This link does not open the room") || !strings.Contains(text, "not valid") {
		t.Fatalf("notice %q %v", text, err)
	}
	// The camera was never opened for a refused link.
	if open, _ := chromedp.Run(tab, chromedp.Evaluate[bool](`!!document.querySelector('#preview').srcObject`)); open {
		t.Fatal("camera opened for a refused link")
	}
}

// The demo path: one open link, opened in two windows, each person giving a
// name, and each sees the other.
func TestOpenLinkInTwoWindows(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t)
	_, open := srv.createSessionWithOpenLink(t)
	names := []string{"Cy", "Di"}
	tabs := make([]context.Context, len(names))
	for i, name := range names {
		tabs[i] = newTab(t, browser)
		within(t, tabs[i], 20*time.Second,
			chromedp.Navigate(open),
			chromedp.WaitVisible("#guest-name"),
			chromedp.SendKeys("#guest-name", name),
			chromedp.Click(`#guest-form button`),
			chromedp.WaitVisible("#prejoin"),
			chromedp.WaitEnabled("#join"),
		)
		// The address bar now holds a personal link, not the open one.
		loc, err := chromedp.Run(tabs[i], chromedp.Evaluate[string](`location.href`))
		if err != nil || loc == open {
			t.Fatalf("%s still on the open link: %q %v", name, loc, err)
		}
		within(t, tabs[i], 10*time.Second, chromedp.Click("#join"), chromedp.WaitVisible("#inroom"))
	}
	for i, tab := range tabs {
		waitStats(t, tab, 20*time.Second, names[i]+" sees and hears the other", func(s mediaStats) bool {
			return s.RemoteTiles == 1 && s.FramesDecoded >= 10 && s.AudioPackets >= 20
		})
	}
	name, err := chromedp.Run(tabs[1], chromedp.Evaluate[string](`document.querySelector('.tile:not(.self) .name').textContent`))
	if err != nil || name != "Cy" {
		t.Fatalf("Di sees %q, %v", name, err)
	}
}

// A lost connection (here: the server restarts) shows "reconnecting", and the
// page comes back by itself, media and all.
func TestReconnectAfterServerRestart(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t)
	sess := srv.createSession(t)
	names := []string{"Ada", "Bo"}
	tabs := make([]context.Context, len(names))
	for i, name := range names {
		tabs[i] = newTab(t, browser)
		within(t, tabs[i], 20*time.Second,
			chromedp.Navigate(srv.invite(t, sess, name)),
			chromedp.WaitEnabled("#join"),
			chromedp.Click("#join"),
			chromedp.WaitVisible("#inroom"),
		)
	}
	for i, tab := range tabs {
		waitStats(t, tab, 20*time.Second, names[i]+" receives media", func(s mediaStats) bool { return s.FramesDecoded >= 10 })
	}
	srv.stop()
	within(t, tabs[0], 10*time.Second, chromedp.WaitVisible(`#status[data-status="reconnecting"]`))
	screenshot(t, tabs[0], "room-reconnecting")
	srv.start(t)
	for i, tab := range tabs {
		within(t, tab, 30*time.Second, chromedp.WaitVisible(`#status[data-status="connected"]`))
		// A fresh peer connection: its counters start again from zero.
		waitStats(t, tab, 20*time.Second, names[i]+" receives media again", func(s mediaStats) bool {
			return s.RemoteTiles == 1 && s.FramesDecoded >= 10 && s.AudioPackets >= 20
		})
	}
}

func TestSubscribeAndHostPages(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t)
	srv.createSession(t)
	tab := newTab(t, browser)
	within(t, tab, 20*time.Second,
		chromedp.Navigate(srv.url+"/"),
		chromedp.WaitVisible("#subscribe-form"),
		chromedp.WaitVisible(".session"),
		chromedp.SendKeys(`#subscribe-form input[name="email"]`, "gus@example.org"),
		chromedp.SendKeys(`#subscribe-form input[name="name"]`, "Gus"),
		chromedp.SetValue(`#subscribe-form select[name="lang"]`, "de"),
		chromedp.Click("#subscribe-form button"),
		chromedp.WaitVisible("#subscribe-result.ok"),
	)
	// The form is emptied for the next person but keeps the language chosen.
	waitValue(t, tab, "the sign-up form keeps the language chosen",
		`[document.querySelector('#subscribe-form select[name="lang"]').value, document.querySelector('#subscribe-form input[name="email"]').value].join('|')`,
		"de|", 5*time.Second)
	if tz := text(t, tab, "#subscribe-result"); !strings.Contains(tz, "Check your inbox") {
		t.Fatalf("subscribe result %q", tz)
	}
	screenshot(t, tab, "home")

	hostSignIn(t, tab, srv, "#hosting")
	waitText(t, tab, "#subscribers", "waiting to confirm", 10*time.Second)
	waitText(t, tab, "#list", "Mail to subscribers", 10*time.Second)
	if s := text(t, tab, "#subscribers"); !strings.Contains(s, "1\nwaiting to confirm") {
		t.Fatalf("subscriber counts %q", s)
	}
	screenshot(t, tab, "host")
}

// hostSignIn opens the host page in tab, signs in with the host key and waits
// for sel.
func hostSignIn(t *testing.T, tab context.Context, srv *server, sel string) {
	t.Helper()
	within(t, tab, 20*time.Second,
		chromedp.Navigate(srv.url+"/host"),
		chromedp.WaitVisible("#signin-form"),
		chromedp.SendKeys("#key", hostKey),
		chromedp.Click("#signin-form button"),
		chromedp.WaitVisible(sel),
	)
}
