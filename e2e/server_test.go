package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/worktogether/worktogether/links"
	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/sfu"
	"github.com/worktogether/worktogether/static"
	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/token"
	"github.com/worktogether/worktogether/web"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

const hostKey = "e2e-host-key"

// server is the whole Worktogether server in this process, on loopback. It
// can be stopped and started again on the same address and data, as a
// restarted process would be.
type server struct {
	url  string
	addr string
	db   string
	key  []byte
	stop func()
	// store and links are the running server's, for tests that stand in
	// for what a mail would bring.
	store *store.Store
	links *links.Maker
	// tune, when set, changes the server config once the router is up
	// (each start); what it returns is called on stop.
	tune func(t *testing.T, cfg *web.Config, router *sfu.Router) (stop func())
}

func startServer(t *testing.T) *server {
	return startServerWith(t, nil)
}

// startServerWith starts the server with tune (see server.tune).
func startServerWith(t *testing.T, tune func(*testing.T, *web.Config, *sfu.Router) func()) *server {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	s := &server{db: filepath.Join(t.TempDir(), "wt.db"), key: key, addr: "127.0.0.1:0", tune: tune}
	s.start(t)
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *server) start(t *testing.T) {
	t.Helper()
	level := zap.WarnLevel
	if os.Getenv("WT_LOG") == "debug" {
		level = zap.DebugLevel
	}
	log := zaptest.NewLogger(t, zaptest.Level(level))
	st, err := store.Open(context.Background(), s.db)
	if err != nil {
		t.Fatal(err)
	}
	router, err := sfu.NewRouter(sfu.Config{LoopbackOnly: true}, log)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner(s.key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.url = "http://" + s.addr
	s.store = st
	if s.links, err = links.New(s.url, signer); err != nil {
		t.Fatal(err)
	}
	cfg := web.Config{
		PublicURL: s.url,
		HostKey:   hostKey,
		Store:     st,
		Signer:    signer,
		Router:    router,
		Log:       log,
		Static:    static.Files,
	}
	stopTune := func() {}
	if s.tune != nil {
		stopTune = s.tune(t, &cfg, router)
	}
	srv, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: srv}}
	hs.Start()
	s.stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
		stopTune()
		router.Close()
		st.Close()
	}
}

func (s *server) post(t *testing.T, path string, body any, out any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.url+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+hostKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// do sends a body-less request with the host key and fails unless it
// succeeds (2xx).
func (s *server) do(t *testing.T, method, path string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+hostKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
	}
}

// createSession schedules a session whose room is open now (commitment).
func (s *server) createSession(t *testing.T) string {
	id, _ := s.createSessionWithOpenLink(t)
	return id
}

// createSessionWithOpenLink also returns the session's open link.
func (s *server) createSessionWithOpenLink(t *testing.T) (string, string) {
	var out struct {
		ID      string `json:"id"`
		OpenURL string `json:"open_url"`
	}
	s.post(t, "/api/sessions", map[string]any{"title": "Browser test", "starts_at": time.Now().UTC().Format(time.RFC3339)}, &out)
	return out.ID, out.OpenURL
}

func (s *server) invite(t *testing.T, session, name string) string {
	var out struct {
		URL string `json:"url"`
	}
	s.post(t, "/api/sessions/"+session+"/invites", map[string]any{"name": name}, &out)
	return out.URL
}

// did is what one person did in a session: joined (with a subscriber's
// mailed link when sub is set), committed, reported.
type did struct {
	id, name string
	tasks    []string
	done     []bool
	note     string
	sub      string
}

// endWith stores what each person did in session id, as the room would
// have, and ends the session.
func (s *server) endWith(t *testing.T, id string, people ...did) {
	t.Helper()
	ctx := context.Background()
	sess, err := s.store.GetSession(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, p := range people {
		if err := s.store.MarkJoined(ctx, store.Participant{ID: p.id, SessionID: id, Name: p.name, Role: "participant", SubscriberID: p.sub}, now); err != nil {
			t.Fatal(err)
		}
		if err := s.store.SaveCommitment(ctx, id, p.id, p.tasks, now); err != nil {
			t.Fatal(err)
		}
		if err := s.store.SaveReport(ctx, id, p.id, store.Report{Done: p.done, Note: p.note}, now); err != nil {
			t.Fatal(err)
		}
	}
	ended := session.State{Index: len(sess.Plan), Kind: session.Ended, StartedAt: now, EndsAt: now}
	if err := s.store.SavePhase(ctx, id, ended, "end", now); err != nil {
		t.Fatal(err)
	}
}
