package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/worktogether/worktogether/relay"
	"github.com/worktogether/worktogether/sfu"
	"github.com/worktogether/worktogether/web"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// withTCPRelay runs the built-in relay on loopback with its TCP listener
// only, and hands out its credentials: the only way to the SFU left to a
// browser whose network blocks UDP.
func withTCPRelay(got **relay.Server) func(*testing.T, *web.Config, *sfu.Router) func() {
	return withRelay(got, false)
}

// withRelay is withTCPRelay with a UDP listener too when udp is set.
func withRelay(got **relay.Server, udp bool) func(*testing.T, *web.Config, *sfu.Router) func() {
	return withShapedRelay(got, udp, nil)
}

// withShapedRelay is withRelay whose relayed sockets pass shape (nil: none).
func withShapedRelay(got **relay.Server, udp bool, shape func(net.PacketConn) net.PacketConn) func(*testing.T, *web.Config, *sfu.Router) func() {
	return func(t *testing.T, cfg *web.Config, router *sfu.Router) func() {
		secret := []byte("e2e relay secret, long enough")
		udpAddr := ""
		if udp {
			udpAddr = "127.0.0.1:0"
		}
		rs, err := relay.New(relay.Config{
			UDPAddr:  udpAddr,
			TCPAddr:  "127.0.0.1:0",
			RelayIP:  netip.MustParseAddr("127.0.0.1"),
			PeerIPs:  []netip.Addr{netip.MustParseAddr("127.0.0.1")},
			PeerPort: router.Port(),
			Secret:   secret,
			Shape:    shape,
			Log:      zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)),
		})
		if err != nil {
			t.Fatal(err)
		}
		*got = rs
		is := relay.Issuer{URLs: rs.URLs("127.0.0.1"), Secret: secret}
		cfg.TURN = func(id string, now time.Time, ttl time.Duration) []web.ICEServer {
			s := is.Issue(id, now.Add(ttl))
			return []web.ICEServer{{URLs: s.URLs, Username: s.Username, Credential: s.Credential}}
		}
		return func() { rs.Close() }
	}
}

// relayPairJS tells, for the page's connections, the type and relay
// protocol of the local candidate of each selected pair.
const relayPairJS = `(async () => {
  const c = window.worktogether;
  const out = [];
  for (const pc of [c && c.pc, c && c.publisher && c.publisher.pc]) {
    if (!pc) continue;
    const st = await pc.getStats();
    let pair = null;
    st.forEach(s => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = st.get(s.selectedCandidatePairId); });
    const local = pair && st.get(pair.localCandidateId);
    out.push(local ? local.candidateType + '/' + (local.relayProtocol || '') : 'none');
  }
  return out;
})()`

func TestBrowserBehindBlockedUDPJoinsThroughTheRelay(t *testing.T) {
	browser := newBrowser(t)
	var rs *relay.Server
	srv := startServerWith(t, withTCPRelay(&rs))
	sess := srv.createSession(t)
	people := []string{"Ada", "Bo"}
	tabs := make([]context.Context, len(people))
	for i, name := range people {
		link := srv.invite(t, sess, name)
		if i == 0 {
			// Ada's browser may only use the relay, and the relay is only
			// offered over TCP: UDP might as well be blocked.
			link += "&relay=only"
		}
		tabs[i] = newTab(t, browser)
		within(t, tabs[i], 20*time.Second,
			chromedp.Navigate(link),
			chromedp.WaitVisible("#prejoin"),
			chromedp.WaitEnabled("#join"),
		)
		if i == 0 {
			// The connection check finds the relay over TCP, and tries
			// nothing else since nothing else is offered.
			within(t, tabs[i], 20*time.Second,
				chromedp.Click("#check-run"),
				chromedp.WaitVisible(`#check-result[data-verdict] li[data-transport="tcp"][data-ok="true"]`),
			)
			verdict := text(t, tabs[i], "#check-verdict")
			got, err := chromedp.Run(tabs[i], chromedp.Evaluate[string](`document.querySelector('#check-result').dataset.verdict`))
			if err != nil || got != "relay_ok" {
				t.Fatalf("check verdict %q (%q)", got, verdict)
			}
			mustContain(t, "check verdict", verdict, "relay")
			screenshot(t, tabs[i], "room-connection-check")
		}
		within(t, tabs[i], 10*time.Second, chromedp.Click("#join"), chromedp.WaitVisible("#inroom"))
	}
	for i, tab := range tabs {
		waitStats(t, tab, 30*time.Second, fmt.Sprintf("%s decodes video and receives audio", people[i]), func(s mediaStats) bool {
			return s.RemoteTiles == 1 && s.FramesDecoded >= 10 && s.AudioPackets >= 20
		})
	}
	ctx, cancel := context.WithTimeout(tabs[0], 5*time.Second)
	defer cancel()
	pairs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](relayPairJS, chromedp.EvalAwaitPromise))
	if err != nil || len(pairs) == 0 {
		t.Fatalf("Ada's candidate pairs %v: %v", pairs, err)
	}
	for _, p := range pairs {
		if p != "relay/tcp" {
			t.Fatalf("Ada's connections use %v, want relay/tcp for each", pairs)
		}
	}
	if st := rs.Stats(); st.Allocations == 0 {
		t.Fatalf("relay stats %+v: no allocation", st)
	}
}

// runCheck clicks the connection check on a fresh pre-join page of a new
// invite and returns the verdict and the transports it lists.
func runCheck(t *testing.T, browser context.Context, srv *server, name string) (string, []string, context.Context) {
	t.Helper()
	tab := newTab(t, browser)
	within(t, tab, 20*time.Second,
		chromedp.Navigate(srv.invite(t, srv.createSession(t), name)),
		chromedp.WaitVisible("#prejoin"),
		chromedp.Click("#check-run"),
		chromedp.WaitVisible(`#check-result[data-verdict]`),
	)
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	verdict, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#check-result').dataset.verdict`))
	if err != nil {
		t.Fatal(err)
	}
	items, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#check-items li')].map(li => li.dataset.transport + '=' + li.dataset.ok)`))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, tab, "connection-check-"+verdict)
	return verdict, items, tab
}

func TestConnectionCheckSaysWhatGetsThrough(t *testing.T) {
	browser := newBrowser(t)
	var rs *relay.Server
	// The relay over UDP and TCP: UDP works, so nothing else matters.
	open := startServerWith(t, withRelay(&rs, true))
	verdict, items, tab := runCheck(t, browser, open, "Ada")
	if verdict != "udp_ok" || fmt.Sprint(items) != "[udp=true tcp=true]" {
		t.Errorf("open network: verdict %q, items %v", verdict, items)
	}
	// Checking again and again: after a few, the page asks to wait.
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
		const b = document.querySelector('#check-run');
		if (document.querySelector('#check-verdict').textContent.includes('a moment, please')) return true;
		if (!b.disabled) b.click();
		return false;
	})()`, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		t.Fatalf("repeated checks were never told to wait (shows %q): %v", text(t, tab, "#check-verdict"), err)
	}
	// UDP to the relay goes nowhere (a port nobody listens on), TCP works:
	// what a network that blocks UDP looks like from the page.
	closed, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	deadUDP := fmt.Sprintf("turn:%s?transport=udp", closed.LocalAddr())
	closed.Close()
	var rs2 *relay.Server
	tcpOnly := withTCPRelay(&rs2)
	blocked := startServerWith(t, func(t *testing.T, cfg *web.Config, router *sfu.Router) func() {
		stop := tcpOnly(t, cfg, router)
		cfg.ICEServers = []web.ICEServer{{URLs: []string{deadUDP}, Username: "1:x", Credential: "x"}}
		return stop
	})
	if verdict, items, _ := runCheck(t, browser, blocked, "Bo"); verdict != "tcp_only" || fmt.Sprint(items) != "[udp=false tcp=true]" {
		t.Errorf("UDP blocked: verdict %q, items %v", verdict, items)
	}
}
