package web

import (
	"context"
	"encoding/json"
	"github.com/worktogether/worktogether/signaling"
	"net"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// slowClient is a websocket participant that stops reading after welcome, with
// a tiny receive buffer so the server's writes back up quickly.
type slowClient struct {
	conn *websocket.Conn
}

func newSlowClient(t *testing.T, h *harness, tok string) *slowClient {
	t.Helper()
	d := websocket.Dialer{
		HandshakeTimeout: 5 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				_ = c.(*net.TCPConn).SetReadBuffer(1024)
			}
			return c, err
		},
	}
	conn, _, err := d.Dial(h.wsURL(tok), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &slowClient{conn: conn}
}

// welcomeID reads up to welcome and returns the participant id it gives.
func (s *slowClient) welcomeID(t *testing.T) string {
	t.Helper()
	_ = s.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, data, err := s.conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var w signaling.MsgWelcome
		if json.Unmarshal(data, &w) == nil && w.Type == "welcome" {
			return w.You.ID
		}
	}
}

// flood sends up to n messages that each earn an error reply, stopping when
// the server hangs up.
func (s *slowClient) flood(t *testing.T, n int) {
	t.Helper()
	msg := []byte(`{"type":"nope"}`)
	for i := 0; i < n; i++ {
		_ = s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := s.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
			return
		}
	}
}
