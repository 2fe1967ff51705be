package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/smtptest"
	"github.com/worktogether/worktogether/internal/testpeer"
)

// secrets collects what must never appear in a log line or an error.
type secrets map[string]string // what it is → the value

// leaks reports every secret found in text: a secret counts as found when
// any 20 characters of it in a row are there (a token cut short or changed
// at its end still gives away its payload).
func (s secrets) leaks(text string) []string {
	var out []string
	for what, v := range s {
		if v == "" {
			continue
		}
		n := min(20, len(v))
		for i := 0; i+n <= len(v); i++ {
			if strings.Contains(text, v[i:i+n]) {
				out = append(out, what)
				break
			}
		}
	}
	return out
}

// tokenOf is the t= or token= value of a link.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if tok := u.Query().Get("t"); tok != "" {
		return tok
	}
	return u.Query().Get("token")
}

// TestNoSecretInAnyLogOrError runs a whole session on the real binary, mail
// included (to an SMTP server with a password), with every log level on,
// goes through the error paths a stranger can reach, and then reads every
// line the server wrote and every error body it answered: no token, key,
// password or address is in any of them.
func TestNoSecretInAnyLogOrError(t *testing.T) {
	const password = "pw-7c1d9e3a5b20f468"
	mailSrv, err := smtptest.Start("mailer", password)
	if err != nil {
		t.Fatal(err)
	}
	defer mailSrv.Close()
	data := t.TempDir()
	const key = "host-key-2b7f90c1d4e6a8b3"
	p := start(t, data, "-host-key", key, "-smtp", mailSrv.URL(), "-log-level", "debug", "-reminders", "")
	sec := secrets{"host key": key, "SMTP password": password, "SMTP URL": mailSrv.URL(),
		"address ada": "ada@example.org", "address bo": "bo@example.org"}
	if b, err := os.ReadFile(filepath.Join(data, "token_secret")); err == nil {
		sec["token secret"] = strings.TrimSpace(string(b))
	} else {
		t.Fatal(err)
	}
	var answers strings.Builder // every error body the server sent
	call := func(method, path, auth, ctype, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, p.url+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 400 {
			answers.WriteString(string(b) + "\n")
		}
		return resp.StatusCode, string(b)
	}

	// A subscriber signs up and confirms.
	if code, _ := call("POST", "/api/subscribe", "", "application/json", `{"email":"ada@example.org","name":"Ada","lang":"de"}`); code != 202 {
		t.Fatalf("subscribe: %d", code)
	}
	confirm, err := mailSrv.Next(15 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sec["confirm token"] = tokenOf(t, confirm.Link("/confirm?token="))
	if code, _ := call("POST", strings.TrimPrefix(confirm.Link("/confirm?token="), p.url), "", "", ""); code != 200 {
		t.Fatalf("confirm: %d", code)
	}

	// A session starts now; the subscriber hears of it.
	plan := `[{"kind":"commitment","seconds":600},{"kind":"work","seconds":600},{"kind":"closing","seconds":600}]`
	code, body := call("POST", "/api/sessions", key, "application/json",
		`{"title":"Secret-free","starts_at":"`+time.Now().UTC().Format(time.RFC3339)+`","plan":`+plan+`}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	hostLink := between(body, `"host_url":"`, `"`)
	openLink := between(body, `"open_url":"`, `"`)
	sessID := between(body, `"id":"`, `"`)
	sec["host token"], sec["open token"] = tokenOf(t, hostLink), tokenOf(t, openLink)
	ann, err := mailSrv.Next(15 * time.Second)
	if err != nil || !strings.Contains(ann.Subject, "Secret-free") {
		t.Fatalf("announcement: %v", err)
	}
	adaLink := ann.Link("/s/" + sessID)
	sec["ada's join token"] = tokenOf(t, adaLink)
	sec["record token"] = tokenOf(t, ann.Link("/record?token="))
	sec["unsubscribe token"] = tokenOf(t, ann.Link("/unsubscribe?token="))
	code, body = call("POST", "/api/sessions/"+sessID+"/invites", key, "application/json", `{"name":"Bo"}`)
	if code != 201 {
		t.Fatalf("invite: %d %s", code, body)
	}
	sec["bo's token"] = between(body, `"token":"`, `"`)
	code, body = call("POST", "/api/guest", "", "application/json", `{"token":"`+sec["open token"]+`","name":"Cy"}`)
	if code == 201 {
		sec["guest token"] = between(body, `"token":"`, `"`)
	}

	// Everyone joins over websockets with real Pion peers, and the session runs.
	api, err := testpeer.LoopbackAPI()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ws := "ws" + strings.TrimPrefix(p.url, "http") + "/ws?token="
	join := func(tok string) *testpeer.Peer {
		t.Helper()
		peer, err := testpeer.Dial(ctx, api, ws+url.QueryEscape(tok), testpeer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(peer.Close)
		if _, err := peer.Expect(ctx, "welcome"); err != nil {
			t.Fatal(err)
		}
		return peer
	}
	host := join(sec["host token"])
	ada := join(sec["ada's join token"])
	bo := join(sec["bo's token"])
	phase := func(kind string) {
		t.Helper()
		if _, err := ada.ExpectWhere(ctx, "state", func(m testpeer.Message) bool {
			return strings.Contains(string(m.Raw), `"kind":"`+kind+`"`)
		}); err != nil {
			t.Fatalf("waiting for %s: %v", kind, err)
		}
	}
	ada.Send(map[string]any{"type": "commit", "tasks": []string{"write the report"}})
	bo.Send(map[string]any{"type": "commit", "tasks": []string{"read it"}})
	host.Send(map[string]any{"type": "host", "action": "advance"})
	phase("work")
	host.Send(map[string]any{"type": "host", "action": "advance"})
	phase("closing")
	ada.Send(map[string]any{"type": "report", "done": []bool{true}, "note": "done"})
	host.Send(map[string]any{"type": "host", "action": "end"})
	phase("ended")

	// What a stranger can try: wrong keys, tokens cut short or changed,
	// a bad websocket token, text where JSON belongs.
	for _, tok := range []string{sec["ada's join token"], sec["record token"], sec["host token"]} {
		bad := tok[:len(tok)-3] + "AAA"
		call("GET", "/api/record?token="+url.QueryEscape(bad), "", "", "")
		call("GET", "/api/me?token="+url.QueryEscape(bad), "", "", "")
		call("GET", "/ws?token="+url.QueryEscape(bad), "", "", "")
		call("POST", "/api/guest", "", "application/json", `{"token":"`+bad+`","name":"X"}`)
	}
	call("GET", "/api/subscribers", key+"x", "", "")
	call("POST", "/api/sessions", key, "text/plain", "{}")
	call("POST", "/api/subscribe", "", "application/json", `{"email":"bo@example.org","name":"`+strings.Repeat("B", 500)+`"}`)
	call("DELETE", "/api/record?token="+url.QueryEscape(sec["record token"]), "", "", "")

	// A clean stop, so every line is written.
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Fatalf("exit: %v", err)
	}
	p.done <- nil
	logs := p.stderr.String() + strings.Join(p.stdout, "\n")
	if !strings.Contains(logs, "mail sent") || !strings.Contains(logs, "subscriber forgotten") {
		t.Fatalf("the debug log lacks what it should hold:\n%s", logs)
	}
	for _, what := range sec.leaks(logs) {
		t.Errorf("the log holds the %s", what)
	}
	for _, what := range sec.leaks(answers.String()) {
		t.Errorf("an error answer holds the %s", what)
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("log:\n%s\nanswers:\n%s", logs, answers.String())
	}
}

// TestConfigErrorsHideThePassword starts the binary with settings that are
// wrong in ways that carry a password: none of its output names it.
func TestConfigErrorsHideThePassword(t *testing.T) {
	const password = "hunter2-d41d8cd98f00"
	for name, args := range map[string][]string{
		"bad port":   {"-smtp", "smtp://mailer:" + password + "@127.0.0.1:notaport"},
		"bad scheme": {"-smtp", "imap://mailer:" + password + "@127.0.0.1:25"},
		"no host":    {"-smtp", "smtp://mailer:" + password + "@"},
		"bad escape": {"-smtp", "smtp://mailer:" + password + "%zz@127.0.0.1:25"},
		"bad ice":    {"-ice-servers", "tun:user:" + password + "@127.0.0.1:3478"},
		"bad env":    {"-ice-servers", "stun:127.0.0.1:3478,trun:user:" + password + "@127.0.0.1"},
		// A database the server cannot use is an error at start-up.
		"database scheme":      {"-database", "mysql://wt:" + password + "@127.0.0.1/wt"},
		"database port":        {"-database", "postgres://wt:" + password + "@127.0.0.1:notaport/wt"},
		"database escape":      {"-database", "postgres://wt:" + password + "%zz@127.0.0.1/wt"},
		"database unreachable": {"-database", "postgres://wt:" + password + "@127.0.0.1:1/wt?sslmode=disable"},
	} {
		var out bytes.Buffer
		cmd := exec.Command(binary, append([]string{"-addr", "127.0.0.1:0", "-data", t.TempDir(), "-udp-port", "0", "-loopback-only"}, args...)...)
		cmd.Stdout, cmd.Stderr = &out, &out
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: the server started", name)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("%s: the server started", name)
		}
		if strings.Contains(out.String(), "hunter2") || strings.Contains(out.String(), "d41d8cd98f00") {
			t.Errorf("%s: the output names the password:\n%s", name, out.String())
		}
	}
}

// between is the text of s after the first start and before the next end.
func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}
