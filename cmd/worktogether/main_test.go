package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
)

// binary is the server built once for this package's tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wt-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "worktogether")
	build := exec.Command("go", "build", "-race", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build server:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is the real server running in a child process.
type proc struct {
	cmd     *exec.Cmd
	url     string
	hostKey string // printed on first start only
	stdout  []string
	done    chan error
	stderr  *bytes.Buffer
}

// start runs the binary on data and waits until it says where it runs.
func start(t *testing.T, data string, args ...string) *proc {
	t.Helper()
	args = append([]string{"-addr", "127.0.0.1:0", "-data", data, "-udp-port", "0", "-loopback-only", "-log-level", "warn"}, args...)
	cmd := exec.Command(binary, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1), stderr: &bytes.Buffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		p.done <- cmd.Wait()
	}()
	deadline := time.After(20 * time.Second)
	for p.url == "" || !strings.Contains(strings.Join(p.stdout, "\n"), "Host page:") {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("server exited early: %s", p.stderr)
			}
			p.stdout = append(p.stdout, line)
			if rest, ok := strings.CutPrefix(line, "Worktogether is running at "); ok {
				p.url, _, _ = strings.Cut(rest, " ")
			}
			if key, ok := strings.CutPrefix(line, "Host key (shown once; kept in "); ok {
				_, p.hostKey, _ = strings.Cut(key, "): ")
			}
		case <-deadline:
			t.Fatalf("server did not start: %q %s", p.stdout, p.stderr)
		}
	}
	go func() {
		for range lines {
		}
	}()
	return p
}

func (p *proc) post(t *testing.T, path, key string, body any, out any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", p.url+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

func TestBinaryServesAndShutsDownCleanly(t *testing.T) {
	data := t.TempDir()
	p := start(t, data)
	if p.hostKey == "" {
		t.Fatalf("first start printed no host key: %q", p.stdout)
	}
	if b, err := os.ReadFile(filepath.Join(data, "host_key")); err != nil || strings.TrimSpace(string(b)) != p.hostKey {
		t.Fatalf("host key file: %q %v", b, err)
	}
	var sess struct{ ID string }
	p.post(t, "/api/sessions", p.hostKey, map[string]any{"title": "Binary", "starts_at": time.Now().UTC().Format(time.RFC3339)}, &sess)
	var inv struct{ Token string }
	p.post(t, "/api/sessions/"+sess.ID+"/invites", p.hostKey, map[string]any{"name": "Ada"}, &inv)

	api, err := testpeer.LoopbackAPI()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	peer, err := testpeer.Dial(ctx, api, "ws"+strings.TrimPrefix(p.url, "http")+"/ws?token="+inv.Token, testpeer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if _, err := peer.Expect(ctx, "welcome"); err != nil {
		t.Fatal(err)
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	bye, err := peer.Expect(ctx, "bye")
	if err != nil || !strings.Contains(string(bye.Raw), `"shutdown"`) {
		t.Fatalf("bye on SIGTERM: %s %v", bye.Raw, err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, p.stderr)
		}
		p.done <- nil // for the cleanup
	case <-ctx.Done():
		t.Fatal("server did not exit after SIGTERM")
	}

	// A second start on the same data keeps the key and does not print it.
	again := start(t, data)
	if again.hostKey != "" {
		t.Fatal("host key printed again on the second start")
	}
	var got struct{ ID string }
	resp, err := http.Get(again.url + "/api/sessions/" + sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if got.ID != sess.ID {
		t.Fatalf("session lost across restart: %+v", got)
	}
}

func TestConfigFromFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{
		"WORKTOGETHER_ADDR":                 "0.0.0.0:9000",
		"WORKTOGETHER_UDP_PORT":             "9001",
		"WORKTOGETHER_LOOPBACK_ONLY":        "true",
		"WORKTOGETHER_PUBLIC_URL":           "https://cowork.example.org/",
		"WORKTOGETHER_ICE_SERVERS":          "stun:stun.example.org:3478, turn:ann:secret@turn.example.org:3478",
		"WORKTOGETHER_DATABASE":             "postgresql://wt:pw@db.example.org/wt",
		"WORKTOGETHER_ROOM_IDLE":            "30s",
		"WORKTOGETHER_MAX_CONNS_PER_CLIENT": "200",
	}
	cfg, err := parseConfig([]string{"-addr", "127.0.0.1:7000"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:7000" || cfg.UDPPort != 9001 || !cfg.LoopbackOnly || cfg.PublicURL != "https://cowork.example.org" || cfg.Data != "./data" ||
		cfg.Database != "postgresql://wt:pw@db.example.org/wt" || cfg.roomIdle() != 30*time.Second ||
		cfg.limits().ConnsPerClient != 200 {
		t.Fatalf("config %+v", cfg)
	}
	for arg, want := range map[string]int{"": 64, "0": -1, "8": 8} {
		args := []string{"-max-conns-per-client", arg}
		if arg == "" {
			args = nil
		}
		c, err := parseConfig(args, func(string) string { return "" }, io.Discard)
		if err != nil || c.limits().ConnsPerClient != want {
			t.Errorf("-max-conns-per-client %q: %v %v, want %v", arg, c.limits().ConnsPerClient, err, want)
		}
	}
	for arg, want := range map[string]time.Duration{"": 2 * time.Minute, "0": -1, "1h": time.Hour} {
		args := []string{"-room-idle", arg}
		if arg == "" {
			args = nil
		}
		c, err := parseConfig(args, func(string) string { return "" }, io.Discard)
		if err != nil || c.roomIdle() != want {
			t.Errorf("-room-idle %q: %v %v, want %v", arg, c.roomIdle(), err, want)
		}
	}
	ice, err := cfg.iceServers()
	if err != nil || len(ice) != 2 || ice[1].Username != "ann" || ice[1].Credential != "secret" || ice[1].URLs[0] != "turn:turn.example.org:3478" {
		t.Fatalf("ice servers %+v %v", ice, err)
	}
	proxyCfg, err := parseConfig([]string{"-trusted-proxies", "127.0.0.1/32, ::1, 10.1.2.3/8"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := proxyCfg.trustedProxies(); err != nil || len(p) != 3 || p[1].String() != "::1/128" || p[2].String() != "10.0.0.0/8" {
		t.Fatalf("trusted proxies %v %v", p, err)
	}
	if p, err := cfg.trustedProxies(); err != nil || len(p) != 0 {
		t.Fatalf("default trusted proxies %v %v", p, err)
	}
	if _, err := (config{Proxies: "localhost"}).trustedProxies(); err == nil {
		t.Error("-trusted-proxies localhost accepted")
	}
	for name, args := range map[string][]string{
		"bad port":      {"-udp-port", "70000"},
		"bad addr":      {"-addr", "nonsense"},
		"stray arg":     {"extra"},
		"unknown flag":  {"-colour"},
		"bad ice":       {"-ice-servers", "http://x"},
		"bad log level": {"-log-level", "loud"},
		"bad database":  {"-database", "mysql://u:p@127.0.0.1/db"},
		"bad room idle": {"-room-idle", "-1s"},
		"bad conns cap": {"-max-conns-per-client", "-1"},
	} {
		cfg, err := parseConfig(args, func(string) string { return "" }, io.Discard)
		if err == nil {
			if _, err = cfg.iceServers(); err == nil {
				_, err = newLogger(cfg.LogLevel)
			}
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := parseConfig(nil, func(k string) string {
		if k == "WORKTOGETHER_UDP_PORT" {
			return "many"
		}
		return ""
	}, io.Discard); err == nil {
		t.Error("bad environment value accepted")
	}
}

// TestSIGKILLMidSessionLosesNothing: the server is killed without warning
// in the middle of a session and started again on the same data. The session
// carries on in the phase the clock says, and a participant who comes back
// with the same link finds their commitment and report.
func TestSIGKILLMidSessionLosesNothing(t *testing.T) {
	data := t.TempDir()
	const key = "restart-test-key"
	p := start(t, data, "-host-key", key)
	plan := []map[string]any{{"kind": "commitment", "seconds": 2}, {"kind": "work", "seconds": 2}, {"kind": "closing", "seconds": 600}}
	var sess struct{ ID string }
	p.post(t, "/api/sessions", key, map[string]any{"title": "Crash", "starts_at": time.Now().UTC().Format(time.RFC3339), "plan": plan}, &sess)
	var inv struct{ Token string }
	p.post(t, "/api/sessions/"+sess.ID+"/invites", key, map[string]any{"name": "Ada"}, &inv)
	api, err := testpeer.LoopbackAPI()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// join connects to the server at url and returns the peer and its welcome.
	join := func(url string) (*testpeer.Peer, welcome) {
		t.Helper()
		peer, err := testpeer.Dial(ctx, api, "ws"+strings.TrimPrefix(url, "http")+"/ws?token="+inv.Token, testpeer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(peer.Close)
		msg, err := peer.Expect(ctx, "welcome")
		if err != nil {
			t.Fatal(err)
		}
		var w welcome
		if err := msg.Decode(&w); err != nil {
			t.Fatal(err)
		}
		return peer, w
	}
	// ack waits for our own participant update: the server stored it first.
	ack := func(peer *testpeer.Peer, field string) {
		t.Helper()
		if _, err := peer.ExpectWhere(ctx, "participant", func(m testpeer.Message) bool {
			return strings.Contains(string(m.Raw), `"`+field+`":{`)
		}); err != nil {
			t.Fatal(err)
		}
	}

	peer, w := join(p.url)
	if w.State.Phase.Kind != "commitment" {
		t.Fatalf("phase %s", w.State.Phase.Kind)
	}
	peer.Send(map[string]any{"type": "commit", "tasks": []string{"survive a crash"}})
	ack(peer, "commitment")
	p.cmd.Process.Kill() // SIGKILL: no goodbye, no flush
	<-p.done
	p.done <- nil

	p2 := start(t, data, "-host-key", key)
	peer2, w2 := join(p2.url)
	if me := w2.find(w2.You.ID); me == nil || me.Commitment == nil || me.Commitment.Tasks[0] != "survive a crash" {
		t.Fatalf("commitment lost: %+v", w2.Participants)
	}
	// The clock carries on: work, then closing, with nobody pushing.
	if _, err := peer2.ExpectWhere(ctx, "state", func(m testpeer.Message) bool {
		return strings.Contains(string(m.Raw), `"kind":"closing"`)
	}); err != nil && w2.State.Phase.Kind != "closing" {
		t.Fatal(err)
	}
	peer2.Send(map[string]any{"type": "report", "done": []bool{true}, "note": "it did"})
	ack(peer2, "report")
	p2.cmd.Process.Kill()
	<-p2.done
	p2.done <- nil

	p3 := start(t, data, "-host-key", key)
	_, w3 := join(p3.url)
	me := w3.find(w3.You.ID)
	if me == nil || me.Commitment == nil || me.Report == nil || !me.Report.Done[0] || me.Report.Note != "it did" {
		t.Fatalf("after the second crash: %+v", me)
	}
	if w3.State.Phase.Kind != "closing" || w3.State.Phase.Index != 2 {
		t.Fatalf("phase after restart: %+v", w3.State.Phase)
	}
}

// welcome is the part of the welcome message these tests read.
type welcome struct {
	You struct {
		ID string `json:"id"`
	} `json:"you"`
	State struct {
		Phase struct {
			Index int    `json:"index"`
			Kind  string `json:"kind"`
		} `json:"phase"`
	} `json:"state"`
	Participants []record `json:"participants"`
}

// record is one participant's commitment and report as the wire shows them.
type record struct {
	ID         string `json:"id"`
	Commitment *struct {
		Tasks []string `json:"tasks"`
	} `json:"commitment"`
	Report *struct {
		Done []bool `json:"done"`
		Note string `json:"note"`
	} `json:"report"`
}

func (w welcome) find(id string) *record {
	for i := range w.Participants {
		if w.Participants[i].ID == id {
			return &w.Participants[i]
		}
	}
	return nil
}
