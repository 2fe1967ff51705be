package web

import (
	"context"
	"encoding/json"
	"github.com/worktogether/worktogether/signaling"
	"net"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
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

// throttledConn reads at most rate bytes a second, as a member on a slow
// line does.
type throttledConn struct {
	net.Conn
	lim *rate.Limiter
}

func (c *throttledConn) Read(b []byte) (int, error) {
	if len(b) > c.lim.Burst() {
		b = b[:c.lim.Burst()]
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		_ = c.lim.WaitN(context.Background(), n)
	}
	return n, err
}

// dialThrottled dials the websocket through a small receive buffer and a
// reader of bytesPerSecond.
func dialThrottled(t *testing.T, h *harness, tok string, bytesPerSecond int) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{
		HandshakeTimeout: 5 * time.Second,
		ReadBufferSize:   1024,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			_ = c.(*net.TCPConn).SetReadBuffer(16 << 10)
			return &throttledConn{Conn: c, lim: rate.NewLimiter(rate.Limit(bytesPerSecond), 1024)}, nil
		},
	}
	conn, _, err := d.Dial(h.wsURL(tok), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
