package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"sync/atomic"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/worktogether/worktogether/i18n"
	"github.com/worktogether/worktogether/newsletter"
	"github.com/worktogether/worktogether/static"
)

// tileJS evaluates expr with `tile` bound to the tile of the person named
// name (null when there is none).
func tileJS(name, expr string) string {
	return fmt.Sprintf(`(() => {
  const tile = [...document.querySelectorAll('.tile')].find((e) => e.querySelector('.name').textContent === %q) || null;
  return %s;
})()`, name, expr)
}

// is waits until the boolean js holds on tab.
func is(t *testing.T, tab context.Context, what, js string) {
	t.Helper()
	waitValue(t, tab, what, js, "true", 10*time.Second)
}

// TestRoomShowsWhoIsWhere: every tile tells its person's mic at all
// times; the keyboard shortcuts work; the speaker is highlighted and a turn
// is announced; "your turn" with the mic off offers to turn it on; a host's
// mute is on the muted person's own button; raise hand, be right back, hide
// self-view; the grid fills the stage; re-renders leave focus alone; a room
// that is left counts nothing down.
func TestRoomShowsWhoIsWhere(t *testing.T) {
	axe := axeSource(t)
	browser := newBrowser(t)
	srv := startServer(t)
	plan := []map[string]any{{"kind": "commitment", "seconds": 600}, {"kind": "work", "seconds": 600}, {"kind": "closing", "seconds": 600}}
	var sess struct{ ID string }
	srv.post(t, "/api/sessions", map[string]any{"title": "Room test", "starts_at": time.Now().UTC().Format(time.RFC3339), "plan": plan}, &sess)
	var host, guest struct{ URL string }
	srv.post(t, "/api/sessions/"+sess.ID+"/invites", map[string]any{"name": "Ada", "role": "host"}, &host)
	srv.post(t, "/api/sessions/"+sess.ID+"/invites", map[string]any{"name": "Bo"}, &guest)
	ada, bo := newTab(t, browser), newTab(t, browser)
	within(t, ada, 20*time.Second, chromedp.Navigate(host.URL), chromedp.WaitEnabled("#join"))
	// Before joining: the devices by their names, and a level meter that moves.
	is(t, ada, "the camera is listed by its name", `document.querySelector('#camera').options.length > 0 && [...document.querySelectorAll('#camera option')].every((o) => o.textContent && !/^Device \d/.test(o.textContent))`)
	is(t, ada, "the level meter moves", `document.querySelector('#pre-level').value > 0.01`)
	within(t, ada, 10*time.Second, chromedp.Click("#join"), chromedp.WaitVisible(`#status[data-status="connected"]`))
	within(t, bo, 20*time.Second, chromedp.Navigate(guest.URL), chromedp.WaitEnabled("#join"), chromedp.Click("#join"),
		chromedp.WaitVisible(`#status[data-status="connected"]`))

	// Mic on, shown on the other's tile; M turns it off, for both to see.
	is(t, ada, "Bo's tile says mic on", tileJS("Bo", `!!tile && tile.querySelector('.badge').dataset.mic === 'on' && !tile.querySelector('.badge').hidden`))
	is(t, ada, "the grid fills the stage", `[...document.querySelectorAll('.tile')].every((e) => e.getBoundingClientRect().width > 400)`)
	within(t, bo, 5*time.Second, chromedp.KeyEvent("m"))
	is(t, bo, "Bo's own button says mic off", `document.querySelector('#mic').textContent === 'Mic off' && document.querySelector('#mic').getAttribute('aria-pressed') === 'false'`)
	is(t, ada, "Bo's tile says mic off", tileJS("Bo", `tile.querySelector('.badge').dataset.mic === 'off' && tile.querySelector('.badge').textContent === 'mic off'`))
	within(t, bo, 5*time.Second, chromedp.KeyEvent("v"))
	is(t, ada, "Bo's camera off shows his initials, not a black picture", tileJS("Bo", `tile.classList.contains('novideo')`))
	within(t, bo, 5*time.Second, chromedp.KeyEvent("v"))
	is(t, ada, "Bo's camera is back", tileJS("Bo", `!tile.classList.contains('novideo')`))

	// Ada speaks first: her tile is highlighted. Her "I'm done" keeps focus
	// while the countdown runs.
	is(t, bo, "Ada's tile is the speaker's", tileJS("Ada", `tile.classList.contains('speaking')`))
	within(t, ada, 5*time.Second, chromedp.Focus("#round button"))
	first := value(t, ada, `document.querySelector('#round .speaker span').textContent`)
	is(t, ada, "the turn's countdown moves", fmt.Sprintf(`document.querySelector('#round .speaker span').textContent !== %q`, first))
	second := value(t, ada, `document.querySelector('#phase').textContent`)
	is(t, ada, "the phase countdown moves", fmt.Sprintf(`document.querySelector('#phase').textContent !== %q`, second))
	is(t, ada, "the focus stays on I'm done", `document.activeElement === document.querySelector('#round button') && document.activeElement.textContent === "I'm done"`)
	within(t, ada, 5*time.Second, chromedp.KeyEvent("\r"))

	// Bo's turn, with his mic off: announced, and a prompt to turn it on.
	is(t, bo, "Bo's turn is announced", `document.querySelector('#announce').textContent.includes('Your turn to speak.')`)
	is(t, bo, "the prompt to turn the mic on", `!document.querySelector('#turn-prompt').hidden`)
	accessible(t, bo, axe, "room-turn-prompt")
	is(t, ada, "Bo's tile is the speaker's", tileJS("Bo", `tile.classList.contains('speaking')`))
	within(t, bo, 5*time.Second, chromedp.Click("#turn-mic"))
	is(t, bo, "the prompt goes", `document.querySelector('#turn-prompt').hidden`)
	is(t, ada, "Bo's tile says mic on again", tileJS("Bo", `tile.querySelector('.badge').dataset.mic === 'on'`))
	is(t, bo, "the room's level meter moves", `document.querySelector('#room-level').value > 0.01`)

	// The host's buttons name whom they act on; a mute shows on Bo's own button and tile.
	is(t, ada, "the mute button names Bo", `!!document.querySelector('#people button[aria-label="Mute Bo"]') && !!document.querySelector('#people button[aria-label="Remove Bo from the session"]')`)
	within(t, ada, 5*time.Second, chromedp.Click(`#people button[aria-label="Mute Bo"]`))
	is(t, bo, "Bo's button says muted by host", `document.querySelector('#mic').textContent === 'Muted by host' && document.querySelector('#mic').disabled`)
	is(t, bo, "Bo's own tile says muted by host", tileJS("Bo (you)", `tile.querySelector('.badge').dataset.mic === 'host'`))
	is(t, ada, "Ada sees Bo muted by host", tileJS("Bo", `tile.querySelector('.badge').textContent === 'muted by host'`))

	// Raise hand (H), be right back, hide self-view.
	within(t, bo, 5*time.Second, chromedp.KeyEvent("h"))
	is(t, ada, "Bo's hand is up", tileJS("Bo", `!tile.querySelector('.hand').hidden`))
	is(t, bo, "Bo's button lowers the hand", `document.querySelector('#hand').textContent === 'Lower hand'`)
	is(t, ada, "the people list shows the hand too", `document.querySelector('#people').innerText.includes('✋ hand raised')`)
	within(t, bo, 5*time.Second, chromedp.Click("#brb"))
	is(t, ada, "Bo is away, with a note instead of a black tile", tileJS("Bo", `tile.classList.contains('away') && tile.classList.contains('novideo') && tile.querySelector('.away-note').checkVisibility() && tile.querySelector('.away-note').textContent === 'Be right back'`))
	within(t, bo, 5*time.Second, chromedp.Click("#brb"))
	is(t, ada, "Bo is back", tileJS("Bo", `!tile.classList.contains('away') && !tile.classList.contains('novideo')`))
	// Notifications at phase changes, once the browser allows them.
	permitOne(t, bo, srv.url, "notifications", cdpbrowser.PermissionSettingGranted)
	within(t, bo, 5*time.Second, chromedp.Click("#notify"))
	is(t, bo, "notifications on", `document.querySelector('#notify').textContent === 'Notifying' && document.querySelector('#notify').getAttribute('aria-pressed') === 'true'`)
	// Count the notifications the page really makes (each still goes to
	// the browser's own), as it would in the background.
	if _, err := chromedp.Run(bo, chromedp.Evaluate[bool](`(() => {
	  window.shown = [];
	  const Real = window.Notification;
	  window.Notification = class extends Real {
	    constructor(title, options) { super(title, options); window.shown.push(title + ' | ' + (options && options.body)); }
	  };
	  document.hasFocus = () => false;
	  return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	within(t, bo, 5*time.Second, chromedp.Click("#selfview"))
	is(t, bo, "Bo's own tile is hidden", tileJS("Bo (you)", `!tile.checkVisibility()`))
	is(t, bo, "the button shows it again", `document.querySelector('#selfview').textContent === 'Show self-view'`)

	// Work: announced, hands go down, the mute ends and every tile says quiet.
	within(t, ada, 5*time.Second, chromedp.Click(`[data-host="advance"]`))
	is(t, bo, "work is announced", `document.querySelector('#announce').textContent.includes('Focused work has begun, 10 min long.')`)
	is(t, ada, "Bo's hand is down", tileJS("Bo", `tile.querySelector('.hand').hidden && tile.querySelector('.badge').dataset.mic === 'quiet'`))
	is(t, bo, "Bo's button no longer says muted", `document.querySelector('#mic').textContent === 'Mic off'`)
	cat, err := i18n.Load(static.Files, "i18n", newsletter.Languages...)
	if err != nil {
		t.Fatal(err)
	}
	is(t, bo, "one notification that work begins", fmt.Sprintf(`JSON.stringify(window.shown) === JSON.stringify([%q])`,
		cat.T("en", "notify.phase", "phase", cat.T("en", "phase.work"))+" | Room test"))

	// In the room, the devices can be switched and the level is shown.
	within(t, bo, 5*time.Second, chromedp.Click("#devices summary"))
	is(t, bo, "the room lists the camera by name", `[...document.querySelectorAll('#room-camera option')].length > 0 && [...document.querySelectorAll('#room-microphone option')].every((o) => !/^Device \d/.test(o.textContent))`)
	// Another microphone, chosen in the room, is the one sent.
	is(t, bo, "the microphone switches", `(() => {
	  const sel = document.querySelector('#room-microphone');
	  const other = [...sel.options].find((o) => o.value !== sel.value);
	  if (!other) return false;
	  sel.value = other.value;
	  sel.dispatchEvent(new Event('change'));
	  window.wantMic = other.value;
	  return true;
	})()`)
	is(t, bo, "the new microphone is sent", `window.worktogether.local.audio && window.worktogether.local.audio.getSettings().deviceId === window.wantMic && window.worktogether.local.audio.readyState === 'live'`)
	screenshot(t, bo, "room-status")
	accessible(t, bo, axe, "room-devices")

	// The header's link asks before it ends the call: declined, Bo stays;
	// accepted, he is on the home page.
	var accept atomic.Bool
	asked := make(chan string, 2)
	if err := chromedp.Listen(bo, func(ev any) {
		if e, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			select {
			case asked <- e.Message:
			default:
			}
			yes := accept.Load()
			go chromedp.Call(bo, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: yes})
		}
	}); err != nil {
		t.Fatal(err)
	}
	leaveAsked := func() {
		t.Helper()
		within(t, bo, 10*time.Second, chromedp.Click("header .brand"))
		select {
		case m := <-asked:
			if want := cat.T("en", "room.leave_confirm"); m != want {
				t.Fatalf("the header link asked %q, want %q", m, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the header link left the call without asking")
		}
	}
	leaveAsked()
	is(t, bo, "declined, Bo is still in the room", `location.pathname.startsWith('/s/') && !document.querySelector('#inroom').hidden && document.querySelector('#status').dataset.status === 'connected'`)
	accept.Store(true)
	leaveAsked()
	afterNavigation(t, bo, `location.pathname`, "/")
	within(t, bo, 20*time.Second, chromedp.NavigateBack(), chromedp.WaitEnabled("#join"), chromedp.Click("#join"),
		chromedp.WaitVisible(`#status[data-status="connected"]`))

	// Leaving: no countdown goes on.
	within(t, bo, 5*time.Second, chromedp.Click("#leave"), chromedp.WaitVisible("#notice"))
	title := value(t, bo, `document.title`)
	before := value(t, ada, `document.querySelector('#phase').textContent`)
	is(t, ada, "a second passes", fmt.Sprintf(`document.querySelector('#phase').textContent !== %q`, before))
	if after := value(t, bo, `document.title`); after != title || after != "You left the room · Worktogether" {
		t.Fatalf("the left room's title changed: %q, then %q", title, after)
	}
	is(t, bo, "no phase shown", `document.querySelector('#phase').hidden`)
	accessible(t, bo, axe, "room-left")
}

// TestRoomStatesInGerman: the room's states beyond the catalog walk (mic
// off, hand, be right back, a host's mute, the turn prompt, devices) show
// only German words in a German browser, and pass axe.
func TestRoomStatesInGerman(t *testing.T) {
	raw, err := fs.ReadFile(static.Files, "i18n/de.json")
	if err != nil {
		t.Fatal(err)
	}
	axe := axeSource(t)
	browser := newBrowser(t, chromedp.Flag("lang", "de-DE"), chromedp.Flag("accept-lang", "de-DE,de"))
	srv := startServer(t)
	startsAt := time.Now().UTC().Format(time.RFC3339)
	var sess struct{ ID string }
	srv.post(t, "/api/sessions", map[string]any{"title": "Schreibzeit", "starts_at": startsAt}, &sess)
	var host, guest struct{ URL string }
	srv.post(t, "/api/sessions/"+sess.ID+"/invites", map[string]any{"name": "Ada", "role": "host"}, &host)
	srv.post(t, "/api/sessions/"+sess.ID+"/invites", map[string]any{"name": "Bo"}, &guest)
	user, _ := json.Marshal([]string{"Schreibzeit", "Ada", "Bo", "fake_device_0"})
	dates, _ := json.Marshal([]string{startsAt})
	check := func(tab context.Context, state string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(tab, 5*time.Second)
		defer cancel()
		bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(foreignJS, "de", raw, user, dates)))
		if err != nil {
			t.Fatal(err)
		}
		if len(bad) > 0 {
			t.Errorf("%s: text not in the German catalog: %q", state, bad)
		}
		screenshot(t, tab, "room-de-"+state)
		accessible(t, tab, axe, "room-de-"+state)
	}
	ada, bo := newTab(t, browser), newTab(t, browser)
	within(t, ada, 20*time.Second, chromedp.Navigate(host.URL), chromedp.WaitEnabled("#join"), chromedp.Click("#join"),
		chromedp.WaitVisible(`#status[data-status="connected"]`))
	within(t, bo, 20*time.Second, chromedp.Navigate(guest.URL), chromedp.WaitEnabled("#join"), chromedp.Click("#join"),
		chromedp.WaitVisible(`#status[data-status="connected"]`))
	is(t, ada, "Bo's tile", tileJS("Bo", `!!tile && tile.querySelector('.badge').dataset.mic === 'on'`))
	within(t, bo, 5*time.Second, chromedp.KeyEvent("m"), chromedp.KeyEvent("h"), chromedp.Click("#brb"), chromedp.Click("#devices summary"))
	is(t, ada, "Bo is away with his hand up and his mic off", tileJS("Bo", `tile.classList.contains('away') && !tile.querySelector('.hand').hidden && tile.querySelector('.badge').dataset.mic === 'off'`))
	within(t, ada, 5*time.Second, chromedp.Click(`#people button[aria-label="Bo stummschalten"]`))
	is(t, bo, "Bo's button says muted by the host", `document.querySelector('#mic').textContent === 'Vom Gastgeber stummgeschaltet'`)
	check(ada, "away-hand-muted")
	check(bo, "muted-devices")
	within(t, ada, 5*time.Second, chromedp.Click(`#people button[aria-label="Stummschaltung aufheben für Bo"]`))
	within(t, ada, 5*time.Second, chromedp.Click("#round button"))
	is(t, bo, "Bo's turn, with the prompt", `!document.querySelector('#turn-prompt').hidden && document.querySelector('#announce').textContent.includes('Du bist dran mit Sprechen.')`)
	check(bo, "turn-prompt")
}
