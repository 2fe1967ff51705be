package web

import (
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/worktogether/worktogether/internal/testpeer"
)

// FuzzRoomMessages sends whatever the fuzzer makes up, as a host in a
// running room, over a real websocket, and checks after each message that
// the server still answers that connection and its room, and the API. A
// panic anywhere in the server ends the test process; a hang fails the probe.
// `go test` runs the seeds below; `go test -fuzz FuzzRoomMessages ./web`
// searches further.
func FuzzRoomMessages(f *testing.F) {
	for _, seed := range []string{
		`{"type":"commit","tasks":["write the intro","reply to Jo"]}`,
		`{"type":"commit","tasks":[]}`,
		`{"type":"commit","tasks":[1,2]}`,
		`{"type":"commit","tasks":["` + strings.Repeat("x", 300) + `"]}`,
		`{"type":"report","done":[true],"note":"done"}`,
		`{"type":"report","done":null,"note":7}`,
		`{"type":"pass"}`,
		`{"type":"host","action":"advance"}`,
		`{"type":"host","action":"extend","minutes":5}`,
		`{"type":"host","action":"extend","minutes":-99999999999}`,
		`{"type":"host","action":"mute","participant":"nobody"}`,
		`{"type":"host","action":"unmute","participant":7}`,
		`{"type":"host","action":"remove","participant":""}`,
		`{"type":"host","action":"end"}`,
		`{"type":"answer","sdp":"v=0"}`,
		`{"type":"answer","sdp":{"nested":true}}`,
		`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host"}}`,
		`{"type":"candidate","candidate":null}`,
		`{"type":""}`, `{}`, `[]`, `null`, `"commit"`, `{"type":"commit"`, "\x00\xff",
	} {
		f.Add([]byte(seed))
	}
	h := buildHarness(f, Limits{Websocket: signaling.Limits{MessagesPerSecond: 1e6, MessageBurst: 1 << 20}}, false)
	var host *testpeer.Peer
	var peers []*testpeer.Peer // closed when the fuzzing ends
	f.Cleanup(func() {
		for _, p := range peers {
			p.Close()
		}
	})
	// connect puts a host in a fresh running session with one other
	// participant, whenever the last one was closed (the fuzzer may end the
	// session, or send what gets the connection closed).
	connect := func(t *testing.T) {
		sess := h.runningSession(0)
		p, err := testpeer.Dial(h.ctx(5*time.Second), h.api, h.wsURL(h.invite(sess.ID, "Fuzz host", "host").Token), testpeer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Expect(h.ctx(5*time.Second), "welcome"); err != nil {
			t.Fatal(err)
		}
		other, err := testpeer.Dial(h.ctx(5*time.Second), h.api, h.wsURL(h.invite(sess.ID, "Other", "").Token), testpeer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		peers = append(peers, p, other)
		host = p
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		// The harness's helpers report to this input's t while it runs.
		h.t = t
		defer func() { h.t = f }()
		if host == nil || host.Err() != nil {
			connect(t)
		}
		if err := host.SendRaw(websocket.TextMessage, msg); err != nil {
			connect(t)
			return
		}
		// The probe is answered by the room's own goroutine (a commit with
		// tasks that are not a list), so the answer shows the connection
		// and the room both got past the message.
		host.Send(map[string]any{"type": "commit", "tasks": "probe"})
		_, err := host.ExpectWhere(h.ctx(5*time.Second), "error", func(m testpeer.Message) bool {
			return strings.Contains(string(m.Raw), `"ref":"commit"`) || strings.Contains(string(m.Raw), `"not_allowed"`)
		})
		if err != nil && host.Err() == nil {
			t.Fatalf("after %q the room did not answer: %v", msg, err)
		}
		if code := h.do("GET", "/api/sessions", "", nil, nil); code != http.StatusOK {
			t.Fatalf("after %q the API answers %d", msg, code)
		}
	})
}
