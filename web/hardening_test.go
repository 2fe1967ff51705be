package web

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	h := newHarness(t, Limits{})
	for _, path := range []string{"/", "/host", "/s/x", "/static/style.css", "/static/ui.js", "/api/sessions", "/healthz", "/api/nothing", "/confirm?token=x", "/sessions.ics", "/static/", "/static/nothing.js"} {
		resp, err := http.Get(h.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		hd := resp.Header
		csp := hd.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
			hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Referrer-Policy") != "no-referrer" || hd.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, hd)
		}
	}
	// No listing of the assets.
	for _, path := range []string{"/static/", "/static/.", "/static//"} {
		code, body := h.raw("GET", h.http.URL+path, "", "")
		if code != http.StatusNotFound || strings.Contains(body, "style.css") {
			t.Errorf("GET %s: %d %q", path, code, body)
		}
	}
}

// The pages the server sends run no inline script and no inline handler, so
// the CSP above does not break them.
func TestPagesHaveNoInlineScript(t *testing.T) {
	h := newHarness(t, Limits{})
	for _, path := range []string{"/", "/host", "/s/x", "/confirm?token=x", "/record?token=x"} {
		_, body := h.raw("GET", h.http.URL+path, "", "")
		assertInertHTML(t, path, body, nil)
	}
}

// A plain form on another site posts text/plain (or a form encoding): the
// JSON endpoints refuse it with 415 and store nothing.
func TestCrossSiteFormPostDoesNothing(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.createSession(h.now().Add(time.Hour), nil, 0)
	body := `{"email":"victim@example.org","name":"x","ignore":"="}`
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
		for _, path := range []string{"/api/subscribe", "/api/guest", "host:/api/sessions", "host:/api/sessions/" + sess.ID + "/invites"} {
			req, _ := http.NewRequest("POST", h.http.URL+strings.TrimPrefix(path, "host:"), strings.NewReader(body))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			if strings.HasPrefix(path, "host:") {
				// A form on another site cannot send the key; with it, the
				// type is still refused.
				req.Header.Set("Authorization", "Bearer "+testHostKey)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			code, got := resp.StatusCode, string(raw)
			var e apiError
			if code != http.StatusUnsupportedMediaType || json.Unmarshal([]byte(got), &e) != nil || e.Error.Code != "unsupported_media_type" {
				t.Errorf("POST %s as %q: %d %s", path, ct, code, got)
			}
		}
	}
	if c := h.counts().Subscribers; c["pending"] != 0 {
		t.Fatalf("a cross-site post signed someone up: %v", c)
	}
	// With its parameters, JSON is fine.
	if code, got := h.raw("POST", h.http.URL+"/api/subscribe", "application/json; charset=utf-8", `{"email":"ada@example.org"}`); code != http.StatusAccepted {
		t.Fatalf("JSON with charset: %d %s", code, got)
	}
}

func TestClientIPTrustsOnlyConfiguredProxies(t *testing.T) {
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}}}
	none := &Server{}
	cases := []struct {
		peer, xff string
		want      string // with the proxies trusted
	}{
		{"192.0.2.7:1000", "", "192.0.2.7"},
		{"192.0.2.7:1000", "198.51.100.1", "192.0.2.7"},                       // not from a proxy: ignored
		{"127.0.0.1:1000", "", "127.0.0.1"},                                   // the proxy itself
		{"127.0.0.1:1000", "198.51.100.1", "198.51.100.1"},                    // one proxy
		{"127.0.0.1:1000", "6.6.6.6, 198.51.100.1", "198.51.100.1"},           // a forged first entry
		{"127.0.0.1:1000", "6.6.6.6, 198.51.100.1, 10.0.0.5", "198.51.100.1"}, // two proxies
		{"127.0.0.1:1000", "garbage, 198.51.100.1", "198.51.100.1"},
		{"127.0.0.1:1000", "198.51.100.1, garbage", "127.0.0.1"},
		{"[::ffff:127.0.0.1]:1000", "2001:db8::1", "2001:db8::1"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := s.clientIP(r); got != c.want {
			t.Errorf("peer %s XFF %q: %s, want %s", c.peer, c.xff, got, c.want)
		}
		peer, _, _ := net.SplitHostPort(c.peer)
		if got := none.clientIP(r); got != netip.MustParseAddr(peer).Unmap().String() {
			t.Errorf("no trusted proxies, peer %s XFF %q: %s", c.peer, c.xff, got)
		}
	}
	if limitKey("2001:db8::1") != limitKey("2001:db8::ffff") || limitKey("2001:db8::1") == limitKey("2001:db8:0:1::1") {
		t.Error("IPv6 clients are not keyed by /64")
	}
}

// Guessing the host key: every wrong key waits, and after a few the client
// is locked out, right key or not, while others still get in.
func TestHostKeyGuessingIsSlowedAndLockedOut(t *testing.T) {
	const delay = 150 * time.Millisecond
	h := newHarness(t, Limits{HostKeyDelay: delay, HostKeyFailures: 5, HostKeyLockout: time.Hour})
	try := func(peer, key, path string) (int, time.Duration) {
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = peer + ":4000"
		r.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		start := time.Now()
		h.srv.ServeHTTP(w, r)
		return w.Code, time.Since(start)
	}
	const attacker = "192.0.2.66"
	for i := range 5 {
		// GET /api/sessions shows host_url to the host: it is guarded too.
		path := "/api/host"
		if i%2 == 1 {
			path = "/api/sessions"
		}
		code, took := try(attacker, fmt.Sprintf("guess-%d", i), path)
		if took < delay || (path == "/api/host" && code != http.StatusUnauthorized) {
			t.Fatalf("guess %d: %d after %v", i, code, took)
		}
	}
	for _, key := range []string{"guess-9", testHostKey} {
		if code, took := try(attacker, key, "/api/host"); code != http.StatusTooManyRequests || took >= delay {
			t.Fatalf("locked out with %q: %d after %v", key, code, took)
		}
	}
	if code, _ := try("192.0.2.67", testHostKey, "/api/host"); code != http.StatusOK {
		t.Fatalf("another client with the key: %d", code)
	}
	// A flood of parallel guesses from one client gets no more tries.
	const other = "192.0.2.99"
	var wg sync.WaitGroup
	var mu sync.Mutex
	unauthorized := 0
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _ := try(other, fmt.Sprintf("p-%d", i), "/api/host"); code == http.StatusUnauthorized {
				mu.Lock()
				unauthorized++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if unauthorized > 5+1 {
		t.Fatalf("%d of 50 parallel guesses were judged", unauthorized)
	}
}

// 2000 connections that trickle a request body are all cut within the read
// timeout, and /healthz answers at once all the while. They all come from
// 127.0.0.1, so the cap on connections per client (which would refuse all
// but 64 at once: TestConnectionsPerClientAreCapped) is off here: the
// timeout has to hold by itself.
func TestSlowBodiesAreCut(t *testing.T) {
	const conns = 2000
	const readTimeout = 2 * time.Second
	h := newHarness(t, Limits{ReadTimeout: readTimeout, ReadHeaderTimeout: time.Second, ConnsPerClient: -1})
	addr := serveReal(t, h)

	start := time.Now()
	cut := make(chan time.Duration, conns)
	var dialers, trickles sync.WaitGroup
	defer trickles.Wait()
	for g := range 8 {
		dialers.Add(1)
		go func() {
			defer dialers.Done()
			for i := g; i < conns; i += 8 {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					cut <- -1
					continue
				}
				fmt.Fprintf(c, "POST /api/subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"em")
				read := make(chan struct{})
				trickles.Add(2)
				// One more byte every second, as a slow client would, until
				// the server answers or closes.
				go func() {
					defer trickles.Done()
					tick := time.NewTicker(time.Second)
					defer tick.Stop()
					for {
						if _, err := c.Write([]byte("a")); err != nil {
							return
						}
						select {
						case <-read:
							return
						case <-tick.C:
						}
					}
				}()
				go func() {
					defer trickles.Done()
					defer c.Close()
					defer close(read)
					c.SetDeadline(time.Now().Add(readTimeout + 20*time.Second))
					_, err := io.Copy(io.Discard, bufio.NewReader(c))
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						cut <- -2 // still held when the test gave up
						return
					}
					cut <- time.Since(start)
				}()
			}
		}()
	}
	// /healthz stays fast while they are held.
	client := &http.Client{Timeout: 5 * time.Second}
	for range 5 {
		t0 := time.Now()
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if took := time.Since(t0); resp.StatusCode != 200 || took > time.Second {
			t.Fatalf("healthz under slow bodies: %d after %v", resp.StatusCode, took)
		}
	}
	dialers.Wait()
	dialled := time.Since(start)
	var worst time.Duration
	for range conns {
		d := <-cut
		if d < 0 {
			t.Fatalf("a slow connection was not cut (%v)", d)
		}
		worst = max(worst, d)
	}
	// Each is cut at most readTimeout after it was made.
	if worst > dialled+readTimeout+3*time.Second {
		t.Fatalf("slowest cut after %v (dialling took %v)", worst, dialled)
	}
	t.Logf("%d slow connections dialled in %v, all cut by %v", conns, dialled, worst)
}

// serveReal serves h's server through its own http.Server (with its
// timeouts) on a loopback port, until the test ends, and returns the
// address.
func serveReal(t *testing.T, h *harness) string {
	t.Helper()
	hs := h.srv.HTTPServer(nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}
