package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/worktogether/worktogether/internal/testpeer"
	"github.com/worktogether/worktogether/relay"
)

func TestRelayFlags(t *testing.T) {
	none := func(string) string { return "" }
	cfg, err := parseConfig([]string{"-relay", "-relay-port", "3479", "-relay-allocations", "3", "-relay-ttl", "2h"}, none, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if r := cfg.Relay; !r.On || r.Port != 3479 || r.Allocations != 3 || r.TTL != 2*time.Hour || r.Kbps != 10000 {
		t.Fatalf("relay config %+v", r)
	}
	if cfg, err := parseConfig(nil, none, io.Discard); err != nil || cfg.Relay.On {
		t.Fatalf("the relay is on by default: %+v %v", cfg.Relay, err)
	}
	for name, args := range map[string][]string{
		"tls without cert":    {"-relay", "-relay-tls-port", "443"},
		"bad port":            {"-relay", "-relay-port", "70000"},
		"no allocations":      {"-relay-allocations", "0"},
		"tiny ttl":            {"-relay-ttl", "1s"},
		"external, no secret": {"-external-turn", "turn:turn.example.org:3478"},
		"secret, no external": {"-external-turn-secret", "s"},
		"external not turn":   {"-external-turn", "stun:x:3478", "-external-turn-secret", "s"},
		"negative rate":       {"-relay-kbps", "-1"},
	} {
		if _, err := parseConfig(args, none, io.Discard); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The real binary with -relay: welcome carries credentials of the secret
// kept in the data directory, a peer that may only use the relay connects,
// and the secret survives a restart.
func TestBinaryRelaysWithItsOwnSecret(t *testing.T) {
	data := t.TempDir()
	p := start(t, data, "-relay", "-relay-port", "0")
	raw, err := os.ReadFile(filepath.Join(data, "relay_secret"))
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(raw))
	var sess struct{ ID string }
	p.post(t, "/api/sessions", p.hostKey, map[string]any{"title": "Relay", "starts_at": time.Now().UTC().Format(time.RFC3339)}, &sess)
	var inv struct{ Token string }
	p.post(t, "/api/sessions/"+sess.ID+"/invites", p.hostKey, map[string]any{"name": "Ada"}, &inv)

	api, err := testpeer.LoopbackAPI()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	peer, err := testpeer.Dial(ctx, api, "ws"+strings.TrimPrefix(p.url, "http")+"/ws?token="+inv.Token, testpeer.Options{RelayOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	msg, err := peer.Expect(ctx, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		You        struct{ ID string }
		ICEServers []struct {
			URLs       []string `json:"urls"`
			Username   string   `json:"username"`
			Credential string   `json:"credential"`
		} `json:"ice_servers"`
	}
	if err := msg.Decode(&w); err != nil || len(w.ICEServers) != 1 {
		t.Fatalf("welcome ice_servers %s %v", msg.Raw, err)
	}
	s := w.ICEServers[0]
	expiry, id, ok := relay.ParseUsername(s.Username)
	if _, want := relay.Credentials([]byte(secret), id, expiry); !ok || id != w.You.ID || s.Credential != want {
		t.Fatalf("credential %+v is not signed with %s/relay_secret for %s", s, data, w.You.ID)
	}
	for _, u := range s.URLs {
		if !strings.HasPrefix(u, "turn:127.0.0.1:") {
			t.Fatalf("relay url %q", u)
		}
	}
	for peer.PC().ConnectionState() != webrtc.PeerConnectionStateConnected {
		if ctx.Err() != nil {
			t.Fatalf("relay-only peer never connected: %v", peer.PC().ConnectionState())
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := scrape(t, p.url)
	if m["worktogether_relay_allocations"] < 1 {
		t.Fatalf("metrics show %v relay allocations", m["worktogether_relay_allocations"])
	}
	p.cmd.Process.Kill()
	<-p.done
	p.done <- nil
	start(t, data, "-relay", "-relay-port", "0")
	if again, _ := os.ReadFile(filepath.Join(data, "relay_secret")); strings.TrimSpace(string(again)) != secret {
		t.Fatal("relay secret changed across a restart")
	}
}
