package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/smtptest"
)

// blackHole accepts SMTP connections and never says a word: a mail sent there
// hangs, queued but not delivered. accepted fires on each connection.
func blackHole(t *testing.T) (addr string, accepted chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = make(chan struct{}, 16)
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			accepted <- struct{}{}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), accepted
}

// waitSent waits until the server reports n mails sent.
func (p *proc) waitSent(t *testing.T, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("GET", p.url+"/api/subscribers", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var counts struct {
			Mail map[string]int `json:"mail"`
		}
		json.NewDecoder(resp.Body).Decode(&counts)
		resp.Body.Close()
		if counts.Mail["sent"] >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mail counts %v, want %d sent", counts.Mail, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
	p.done <- nil
}

func TestSIGKILLBetweenQueueingAndSendingMailArrivesOnce(t *testing.T) {
	data := t.TempDir()
	const key = "mail-crash-key"
	hole, accepted := blackHole(t)
	mailSrv, err := smtptest.Start("", "")
	if err != nil {
		t.Fatal(err)
	}
	defer mailSrv.Close()

	// 1. The confirmation is queued, and hangs on its way out; then SIGKILL.
	p := start(t, data, "-host-key", key, "-smtp", "smtp://"+hole)
	resp, err := http.Post(p.url+"/api/subscribe", "application/json", strings.NewReader(`{"email":"eve@example.org","name":"Eve"}`))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("subscribe: %v %v", resp, err)
	}
	resp.Body.Close()
	select {
	case <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("the server never tried to send")
	}
	p.kill()

	// 2. Back up with a working mail server: the mail arrives, once.
	p = start(t, data, "-host-key", key, "-smtp", mailSrv.URL())
	confirm, err := mailSrv.Next(15 * time.Second)
	if err != nil || !strings.Contains(confirm.Subject, "confirm") {
		t.Fatalf("confirmation after restart: %v", err)
	}
	resp, err = http.Post(confirm.Link("/confirm?token="), "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("confirm: %v %v", resp, err)
	}
	resp.Body.Close()

	// 3. A session is scheduled and its announcement sent; then SIGKILL and
	// restart once more: nothing goes out twice.
	var sess struct{ ID string }
	p.post(t, "/api/sessions", key, map[string]any{"title": "After the crash", "starts_at": time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)}, &sess)
	if m, err := mailSrv.Next(15 * time.Second); err != nil || !strings.Contains(m.Subject, "After the crash") {
		t.Fatalf("announcement: %v", err)
	}
	// Once the server has recorded it as sent, a crash must not send it again.
	// (A crash in the milliseconds between the mail server's "250 OK" and that
	// record sends it again with the same Message-ID; see package newsletter.)
	p.waitSent(t, key, 2)
	p.kill()
	p = start(t, data, "-host-key", key, "-smtp", mailSrv.URL())
	p.post(t, "/api/sessions", key, map[string]any{"title": "Second", "starts_at": time.Now().Add(96 * time.Hour).UTC().Format(time.RFC3339)}, &sess)
	if m, err := mailSrv.Next(15 * time.Second); err != nil || !strings.Contains(m.Subject, "Second") {
		t.Fatalf("second announcement: %v", err)
	}
	ids := map[string]int{}
	for _, m := range mailSrv.All() {
		ids[m.Header.Get("Message-ID")]++
	}
	if len(ids) != 3 {
		t.Fatalf("mails: %v", ids)
	}
	for id, n := range ids {
		if n != 1 {
			t.Fatalf("%s arrived %d times", id, n)
		}
	}
}

func TestWithoutSMTPMailsAreWrittenToTheOutbox(t *testing.T) {
	data := t.TempDir()
	p := start(t, data)
	resp, err := http.Post(p.url+"/api/subscribe", "application/json", strings.NewReader(`{"email":"fay@example.org","name":"Fay","lang":"de"}`))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("subscribe: %v %v", resp, err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(data, "outbox", "*.eml"))
		if len(files) == 1 {
			m, err := readEML(files[0])
			if err != nil || !strings.Contains(m.Subject, "Bitte bestätige") || m.Link("/confirm?token=") == "" {
				t.Fatalf("outbox mail: %v %+v", err, m)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox holds %d mails", len(files))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readEML(path string) (*smtptest.Mail, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return smtptest.Parse(raw)
}
