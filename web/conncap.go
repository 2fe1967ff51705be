package web

import (
	"net/http"
	"sync"
)

// connCap bounds how many connections one client (its limitKey, after the
// trusted proxies) has in the server's hands at once: each request while
// its handler runs, which for a websocket is as long as it is open, and a
// slow body for as long as it trickles in. A connection idle between
// requests is not counted; IdleTimeout closes it. The table holds only
// clients with a connection open, so it is bounded by the open connections.
type connCap struct {
	max int // 0: no cap

	mu   sync.Mutex
	open map[string]int
}

func newConnCap(max int) *connCap {
	return &connCap{max: max, open: make(map[string]int)}
}

// acquire counts a connection of key; false, counting nothing, when key has
// max open already.
func (c *connCap) acquire(key string) bool {
	if c.max <= 0 {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[key] >= c.max {
		return false
	}
	c.open[key]++
	return true
}

// release ends a connection acquire counted.
func (c *connCap) release(key string) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[key]--; c.open[key] <= 0 {
		delete(c.open, key)
	}
}

// tooManyConns is the answer over the cap.
const tooManyConns = "too many connections from here at once; close some and try again"

// capConns runs next while the client's connections are within the cap,
// and answers 429 when they are not.
func (s *Server) capConns(w http.ResponseWriter, r *http.Request, next func()) {
	key := limitKey(s.clientIP(r))
	if !s.conns.acquire(key) {
		w.Header().Set("Retry-After", "5")
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusTooManyRequests, "rate_limited", tooManyConns)
		return
	}
	defer s.conns.release(key)
	next()
}
