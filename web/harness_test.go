package web

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/worktogether/worktogether/signaling"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/worktogether/worktogether/i18n"
	"github.com/worktogether/worktogether/internal/smtptest"
	"github.com/worktogether/worktogether/internal/testpeer"
	"github.com/worktogether/worktogether/links"
	"github.com/worktogether/worktogether/newsletter"
	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/sfu"
	"github.com/worktogether/worktogether/static"
	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/token"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testHostKey = "test-host-key"

// shippedText is the message catalog the server ships.
func shippedText(t testing.TB) *i18n.Catalog {
	t.Helper()
	c, err := i18n.Load(static.Files, "i18n", newsletter.Languages...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	testIVF = filepath.Join("..", "testdata", "v180.ivf")
	testOgg = filepath.Join("..", "testdata", "tone.ogg")
)

// harness is a real server (HTTP, websocket, SFU on loopback, SQLite in a
// temporary directory) with a clock that tests can move forward.
type harness struct {
	t        testing.TB
	srv      *Server
	http     *httptest.Server
	router   *sfu.Router
	store    *store.Store
	api      *webrtc.API
	offset   atomic.Int64 // added to the real clock
	mail     *newsletter.Worker
	stopMail func()
	smtp     *smtptest.Server
}

func newHarness(t *testing.T, limits Limits) *harness {
	return buildHarness(t, limits, false)
}

// newMailHarness is a harness with the mail worker sending to a real SMTP
// server in the test, reminders 24 h and 15 min ahead, and quick retries.
func newMailHarness(t *testing.T) *harness {
	return buildHarness(t, Limits{}, true)
}

// tuning changes a harness before it starts: the router's config, and the
// server's once the router is up. Either may be nil.
type tuning struct {
	router func(*sfu.Config)
	server func(*harness, *Config)
}

func buildHarness(t testing.TB, limits Limits, withMail bool, tune ...tuning) *harness {
	t.Helper()
	h := &harness{t: t}
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	if _, fuzzing := t.(*testing.F); fuzzing {
		// The server's goroutines outlive each input: they may not log to
		// the fuzz test itself.
		log = zap.NewNop()
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "wt.db"))
	if err != nil {
		t.Fatal(err)
	}
	h.store = st
	rcfg := sfu.Config{LoopbackOnly: true}
	for _, f := range tune {
		if f.router != nil {
			f.router(&rcfg)
		}
	}
	router, err := sfu.NewRouter(rcfg, log)
	if err != nil {
		t.Fatal(err)
	}
	h.router = router
	signer, err := token.NewSigner(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	h.http = httptest.NewUnstartedServer(nil)
	publicURL := "http://" + h.http.Listener.Addr().String()
	cfg := Config{
		PublicURL: publicURL,
		HostKey:   testHostKey,
		Store:     st,
		Signer:    signer,
		Router:    router,
		Log:       log,
		Now:       h.now,
		Limits:    limits,
		Static:    static.Files,
	}
	if withMail {
		h.smtp, err = smtptest.Start("mailer", "secret")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(h.smtp.Close)
		transport, err := newsletter.ParseSMTP(h.smtp.URL())
		if err != nil {
			t.Fatal(err)
		}
		lm, err := links.New(publicURL, signer)
		if err != nil {
			t.Fatal(err)
		}
		h.mail = newsletter.NewWorker(newsletter.Config{
			Store:     st,
			Renderer:  &newsletter.Renderer{Store: st, Links: lm, From: mail.Address{Name: "Worktogether", Address: "hello@worktogether.test"}, Text: shippedText(t)},
			Transport: transport,
			Log:       log.Named("mail"),
			Now:       h.now,
			Backoff:   func(int) time.Duration { return 50 * time.Millisecond },
			Poll:      100 * time.Millisecond,
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.mail.Run(ctx)
		}()
		h.stopMail = func() {
			cancel()
			<-done
		}
		cfg.Mail = h.mail
		cfg.ReminderLeads = []time.Duration{24 * time.Hour, 15 * time.Minute}
	}
	for _, f := range tune {
		if f.server != nil {
			f.server(h, &cfg)
		}
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	h.http.Config.Handler = srv
	h.http.Start()
	if h.api, err = testpeer.LoopbackAPI(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.close)
	return h
}

func (h *harness) now() time.Time { return time.Now().Add(time.Duration(h.offset.Load())) }

// advanceClock moves the server clock forward.
func (h *harness) advanceClock(d time.Duration) { h.offset.Add(int64(d)) }

func (h *harness) close() {
	if h.stopMail != nil {
		h.stopMail()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		h.t.Errorf("shutdown: %v", err)
	}
	h.http.Close()
	h.router.Close()
	h.store.Close()
}

// do sends an HTTP request and decodes a JSON answer into out (if not nil).
func (h *harness) do(method, path, hostKey string, body any, out any) int {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.http.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if hostKey != "" {
		req.Header.Set("Authorization", "Bearer "+hostKey)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.http.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			h.t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// createSession makes a session that starts at startsAt with plan.
func (h *harness) createSession(startsAt time.Time, plan session.Plan, capacity int) signaling.WireSession {
	h.t.Helper()
	body := map[string]any{"title": "Test session", "starts_at": startsAt.UTC().Format(time.RFC3339Nano)}
	if plan != nil {
		body["plan"] = plan
	}
	if capacity > 0 {
		body["capacity"] = capacity
	}
	var out signaling.WireSession
	if code := h.do("POST", "/api/sessions", testHostKey, body, &out); code != http.StatusCreated {
		h.t.Fatalf("create session: %d", code)
	}
	return out
}

// runningSession makes a session in its commitment round now.
func (h *harness) runningSession(capacity int) signaling.WireSession {
	return h.createSession(h.now().Add(-time.Second), nil, capacity)
}

func (h *harness) invite(sessionID, name, role string) inviteResponse {
	h.t.Helper()
	var out inviteResponse
	body := map[string]string{"name": name}
	if role != "" {
		body["role"] = role
	}
	if code := h.do("POST", "/api/sessions/"+sessionID+"/invites", testHostKey, body, &out); code != http.StatusCreated {
		h.t.Fatalf("invite: %d", code)
	}
	return out
}

func (h *harness) wsURL(tok string) string {
	return "ws" + strings.TrimPrefix(h.http.URL, "http") + "/ws?token=" + tok
}

// join dials with the token, waits for welcome and returns the peer and the
// participant id it was given.
func (h *harness) join(tok string, opt testpeer.Options) (*testpeer.Peer, signaling.MsgWelcome) {
	h.t.Helper()
	return h.joinWith(h.api, tok, opt)
}

// joinWith is join with a peer of api (a shaped network, say).
func (h *harness) joinWith(api *webrtc.API, tok string, opt testpeer.Options) (*testpeer.Peer, signaling.MsgWelcome) {
	h.t.Helper()
	p, err := testpeer.Dial(context.Background(), api, h.wsURL(tok), opt)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(p.Close)
	msg, err := p.Expect(h.ctx(5*time.Second), "welcome")
	if err != nil {
		h.t.Fatal(err)
	}
	var w signaling.MsgWelcome
	if err := msg.Decode(&w); err != nil {
		h.t.Fatal(err)
	}
	return p, w
}

func (h *harness) ctx(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	h.t.Cleanup(cancel)
	return ctx
}

// media publishes the test clip's video and the tone.
var media = testpeer.Options{IVF: testIVF, Ogg: testOgg}

// eventually polls cond every 20 ms until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// expectParticipant waits until p hears that participant id is (or is not)
// present.
func expectParticipant(t *testing.T, ctx context.Context, p *testpeer.Peer, id string, present bool) {
	t.Helper()
	_, err := p.ExpectWhere(ctx, "participant", func(m testpeer.Message) bool {
		var wp signaling.WireParticipant
		return m.Decode(&wp) == nil && wp.ID == id && wp.Present == present
	})
	if err != nil {
		t.Fatalf("participant %s present=%v: %v", id, present, err)
	}
}
