package e2e

import (
	"context"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// permit sets camera and microphone permission for origin in tab's browser
// context, as a person would in the address bar.
func permit(t *testing.T, tab context.Context, origin string, setting cdpbrowser.PermissionSetting) {
	t.Helper()
	for _, name := range []string{"camera", "microphone"} {
		permitOne(t, tab, origin, name, setting)
	}
}

// permitOne sets one permission (camera, microphone, notifications …).
func permitOne(t *testing.T, tab context.Context, origin, name string, setting cdpbrowser.PermissionSetting) {
	t.Helper()
	c := chromedp.FromContext(tab)
	_, err := cdp.Call(tab, c.Browser, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: setting,
		Origin: origin, BrowserContextID: c.BrowserContextID,
	})
	if err != nil {
		t.Fatalf("set %s permission: %v", name, err)
	}
}

// TestDeniedCameraHasAWayOut: with camera and microphone refused, the page
// says how to allow them and offers a retry; once allowed, the retry opens
// them. In the room a refused microphone is asked for again.
func TestDeniedCameraHasAWayOut(t *testing.T) {
	// Without the fake prompt that says yes to everything: the permissions
	// set below decide, as a person's choice would.
	browser := newBrowser(t, chromedp.Flag("use-fake-ui-for-media-stream", false))
	srv := startServer(t)
	sess := srv.createSession(t)
	tab := newTab(t, browser)
	permit(t, tab, srv.url, cdpbrowser.PermissionSettingDenied)
	within(t, tab, 20*time.Second, chromedp.Navigate(srv.invite(t, sess, "Ada")), chromedp.WaitVisible("#prejoin-problem .device-problem"))
	waitText(t, tab, "#prejoin-problem", "Camera and microphone are blocked", 5*time.Second)
	waitText(t, tab, "#prejoin-problem", "address bar", 5*time.Second)
	screenshot(t, tab, "prejoin-denied")
	accessible(t, tab, axeSource(t), "prejoin-denied")
	is(t, tab, "nothing is open", `!document.querySelector('#preview').srcObject`)

	permit(t, tab, srv.url, cdpbrowser.PermissionSettingGranted)
	within(t, tab, 10*time.Second, chromedp.Click("#prejoin-problem button.retry"))
	is(t, tab, "the retry opens the camera", `document.querySelector('#preview').videoWidth > 0 && !document.querySelector('#prejoin-problem .device-problem')`)
	is(t, tab, "devices by name", `[...document.querySelectorAll('#microphone option')].length > 0 && [...document.querySelectorAll('#microphone option')].every((o) => !/^Device \d/.test(o.textContent))`)

	// Refused again, then joined without devices: the room says so too, and
	// the mic button asks again instead of only flipping its label.
	permit(t, tab, srv.url, cdpbrowser.PermissionSettingDenied)
	within(t, tab, 20*time.Second, chromedp.Reload(), chromedp.WaitVisible("#prejoin-problem .device-problem"),
		chromedp.Click("#join"), chromedp.WaitVisible(`#status[data-status="connected"]`))
	waitText(t, tab, "#room-problem", "Camera and microphone are blocked", 5*time.Second)
	is(t, tab, "the mic button says off", `document.querySelector('#mic').textContent === 'Mic off'`)
	permit(t, tab, srv.url, cdpbrowser.PermissionSettingGranted)
	within(t, tab, 5*time.Second, chromedp.Click("#mic"))
	is(t, tab, "the mic opens in the room", `!!window.worktogether.local.audio && !document.querySelector('#room-problem .device-problem')`)
	is(t, tab, "the mic button says on", `document.querySelector('#mic').textContent === 'Mic on'`)
	is(t, tab, "the camera came back with it", `document.querySelector('#cam').textContent === 'Camera on'`)
}
