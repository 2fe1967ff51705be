package web

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Who a client is (for rate limits and lock-outs), and the lock-out of
// clients that guess the host key.

// clientIP is who sent a request: the peer address, unless the peer is one
// of the trusted proxies (-trusted-proxies). Then X-Forwarded-For is read
// from its right end, where each proxy appends the address it saw, and the
// first address that is not a trusted proxy is the client; entries to its
// left may be anything the client wrote. With no trusted proxy the header
// is ignored.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // not an address: the last proxy we trust is who we know
		}
		client = a.Unmap()
		if !s.trusted(client) {
			break
		}
	}
	return client.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// limitKey is the key of a client in the limiters: its address, or for IPv6
// its /64, which one machine usually holds whole.
func limitKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() {
		return ip
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// hostGuard counts wrong host keys per client and locks a client out after
// too many. Its table is bounded: under a flood of new clients it refuses
// rather than grows.
type hostGuard struct {
	failures int
	lockout  time.Duration
	max      int

	mu      sync.Mutex
	clients map[string]*guessing
}

type guessing struct {
	fails       int
	first       time.Time // of the current count
	lockedUntil time.Time
}

func newHostGuard(failures int, lockout time.Duration, maxClients int) *hostGuard {
	return &hostGuard{failures: failures, lockout: lockout, max: maxClients, clients: make(map[string]*guessing)}
}

// locked tells whether key may not try a host key now.
func (g *hostGuard) locked(key string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.clients[key]
	if c == nil {
		return len(g.clients) >= g.max && !g.prune(now)
	}
	return now.Before(c.lockedUntil)
}

// fail records a wrong key from key; the count starts over after a lockout
// period without one.
func (g *hostGuard) fail(key string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.clients[key]
	if c == nil {
		if len(g.clients) >= g.max && !g.prune(now) {
			return // locked() refuses this client already
		}
		c = &guessing{first: now}
		g.clients[key] = c
	}
	if now.Sub(c.first) > g.lockout {
		c.fails, c.first = 0, now
	}
	c.fails++
	if c.fails >= g.failures {
		c.lockedUntil = now.Add(g.lockout)
		c.fails, c.first = 0, now
	}
}

// prune forgets clients whose count and lock have run out; it reports
// whether there is room now.
func (g *hostGuard) prune(now time.Time) bool {
	for k, c := range g.clients {
		if now.After(c.lockedUntil) && now.Sub(c.first) > g.lockout {
			delete(g.clients, k)
		}
	}
	return len(g.clients) < g.max
}

// guardHostKey runs before every handler. A request that carries an
// Authorization header is a host-key attempt: from a locked-out client it
// gets 429 whatever the key; a wrong key is counted and answered only after
// a delay. It reports whether the request may go on.
func (s *Server) guardHostKey(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") == "" {
		return true
	}
	key := limitKey(s.clientIP(r))
	if s.hostGuard.locked(key, s.now()) {
		w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.Limits.HostKeyLockout/time.Second)))
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many wrong host keys from here; try again later")
		return false
	}
	if s.isHost(r) {
		return true
	}
	s.hostGuard.fail(key, s.now())
	t := time.NewTimer(s.cfg.Limits.HostKeyDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return false
	}
	return true
}
