package relay

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

var (
	errQuota   = errors.New("relay: allocation quota reached")
	errFull    = errors.New("relay: too many participants hold allocations")
	errOnlyUDP = errors.New("relay: only UDP relaying (to the SFU) is offered")
)

// limits counts each participant's allocations and meters what they relay.
type limits struct {
	mu       sync.Mutex
	max      int
	maxUsers int
	perSec   int
	users    map[string]*user
	open     int
}

// user is one participant's share: its open allocations and one token
// bucket per direction, shared by all of them.
type user struct {
	allocations int
	up, down    *rate.Limiter // nil: unmetered
}

func newLimits(max, maxUsers, bytesPerSecond int) *limits {
	return &limits{max: max, maxUsers: maxUsers, perSec: bytesPerSecond, users: map[string]*user{}}
}

func (l *limits) canAllocate(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if u := l.users[id]; u != nil {
		return u.allocations < l.max
	}
	return len(l.users) < l.maxUsers
}

// reserve counts one more allocation for id, or refuses it.
func (l *limits) reserve(id string) (*user, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.users[id]
	if u == nil {
		if len(l.users) >= l.maxUsers {
			return nil, errFull
		}
		u = &user{}
		if l.perSec > 0 {
			// Half a second of burst: a keyframe fits, a flood does not.
			burst := max(l.perSec/2, 64*1024)
			u.up = rate.NewLimiter(rate.Limit(l.perSec), burst)
			u.down = rate.NewLimiter(rate.Limit(l.perSec), burst)
		}
		l.users[id] = u
	}
	if u.allocations >= l.max {
		return nil, errQuota
	}
	u.allocations++
	l.open++
	return u, nil
}

func (l *limits) release(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.users[id]
	if u == nil {
		return
	}
	u.allocations--
	l.open--
	if u.allocations <= 0 {
		delete(l.users, id)
	}
}

func (l *limits) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// peers is the set of addresses relayed sockets may talk to.
type peers struct {
	ips  map[netip.Addr]bool
	port int
	nat  *net.UDPAddr // the SFU's public address behind 1:1 NAT, or nil
}

var loopback = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}

func newPeers(ips []netip.Addr, port int, nat netip.Addr) peers {
	p := peers{ips: map[netip.Addr]bool{}, port: port}
	if nat.IsValid() {
		p.nat = &net.UDPAddr{IP: nat.AsSlice(), Port: port}
	}
	for _, ip := range ips {
		p.ips[ip.Unmap()] = true
	}
	return p
}

func (p peers) allowIP(ip netip.Addr) bool { return p.ips[ip] }

// toSFU is where a packet for the SFU at a goes: its public address behind
// NAT is reached on loopback.
func (p peers) toSFU(a net.Addr) net.Addr {
	if ua, ok := a.(*net.UDPAddr); ok && p.nat != nil && ua.Port == p.nat.Port && ua.IP.Equal(p.nat.IP) {
		return &net.UDPAddr{IP: loopback.IP, Port: ua.Port}
	}
	return a
}

// fromSFU is the address a packet from a is reported as: the SFU answering
// on loopback is its public address behind NAT.
func (p peers) fromSFU(a net.Addr) net.Addr {
	if ua, ok := a.(*net.UDPAddr); ok && p.nat != nil && ua.Port == p.nat.Port && ua.IP.Equal(loopback.IP) {
		return p.nat
	}
	return a
}

func (p peers) allow(a net.Addr) bool {
	ua, ok := a.(*net.UDPAddr)
	if !ok || ua.Port != p.port {
		return false
	}
	ip, ok := netip.AddrFromSlice(ua.IP)
	return ok && p.ips[ip.Unmap()]
}

// generator opens the relayed sockets: UDP only, on the relay address,
// counted against the participant's quota.
type generator struct{ s *Server }

func (g *generator) Validate() error { return nil }

func (g *generator) AllocatePacketConn(c turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	if c.Network != "udp4" {
		return nil, nil, errOnlyUDP
	}
	u, err := g.s.limits.reserve(c.UserID)
	if err != nil {
		g.s.counters.quotaRefused.Add(1)
		return nil, nil, err
	}
	// The requested port (EVEN-PORT, reservations) is not honoured: browsers
	// do not ask for one, and any free port serves the SFU.
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: g.s.bindIP})
	if err != nil {
		g.s.limits.release(c.UserID)
		return nil, nil, err
	}
	addr := *pc.LocalAddr().(*net.UDPAddr)
	addr.IP = g.s.cfg.RelayIP.AsSlice()
	var sock net.PacketConn = pc
	if g.s.cfg.Shape != nil {
		sock = g.s.cfg.Shape(pc)
	}
	return &relayConn{PacketConn: sock, s: g.s, id: c.UserID, user: u}, &addr, nil
}

func (g *generator) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errOnlyUDP
}

func (g *generator) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, errOnlyUDP
}

// relayConn is one allocation's relayed socket: it only talks to the SFU,
// meters both directions, and gives its quota back when closed.
type relayConn struct {
	net.PacketConn
	s    *Server
	id   string
	user *user
	once sync.Once
}

// ReadFrom returns what the SFU sent towards the client, dropping anything
// from elsewhere and anything over the participant's rate.
func (c *relayConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		addr = c.s.peers.fromSFU(addr)
		if !c.s.peers.allow(addr) {
			c.s.counters.droppedPeer.Add(1)
			continue
		}
		if c.user.down != nil && !c.user.down.AllowN(time.Now(), n) {
			c.s.counters.droppedRate.Add(1)
			continue
		}
		return n, addr, nil
	}
}

// WriteTo sends what the client relays, only to the SFU.
func (c *relayConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if !c.s.peers.allow(addr) {
		c.s.counters.droppedPeer.Add(1)
		return len(p), nil
	}
	if c.user.up != nil && !c.user.up.AllowN(time.Now(), len(p)) {
		c.s.counters.droppedRate.Add(1)
		return len(p), nil
	}
	return c.PacketConn.WriteTo(p, c.s.peers.toSFU(addr))
}

func (c *relayConn) Close() error {
	c.once.Do(func() { c.s.limits.release(c.id) })
	return c.PacketConn.Close()
}

// boundedListener caps the open TCP connections, closes one that stays
// silent for idle, and closes them all when it is closed (pion/turn closes
// only its listeners).
type boundedListener struct {
	net.Listener
	slots   chan struct{}
	idle    time.Duration
	refused *atomic.Uint64

	mu     sync.Mutex
	open   map[*idleConn]struct{}
	closed bool
}

func (l *boundedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
		default:
			l.refused.Add(1)
			c.Close()
			continue
		}
		ic := &idleConn{Conn: c, idle: l.idle, l: l}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			ic.Close()
			return nil, net.ErrClosed
		}
		if l.open == nil {
			l.open = map[*idleConn]struct{}{}
		}
		l.open[ic] = struct{}{}
		l.mu.Unlock()
		return ic, nil
	}
}

func (l *boundedListener) Close() error {
	err := l.Listener.Close()
	l.mu.Lock()
	l.closed = true
	conns := make([]*idleConn, 0, len(l.open))
	for c := range l.open {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	return err
}

type idleConn struct {
	net.Conn
	idle time.Duration
	l    *boundedListener
	once sync.Once
}

func (c *idleConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *idleConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.open, c)
		c.l.mu.Unlock()
		<-c.l.slots
	})
	return c.Conn.Close()
}

// pionLogger routes pion/turn's logs into zap at debug level: its errors are
// mostly clients sending bad requests, which must not flood the log.
type pionLogger struct{ log *zap.Logger }

func (f pionLogger) NewLogger(scope string) logging.LeveledLogger {
	return pionLevels{log: f.log.With(zap.String("scope", scope)).Sugar()}
}

type pionLevels struct{ log *zap.SugaredLogger }

func (l pionLevels) Trace(string)              {}
func (l pionLevels) Tracef(string, ...any)     {}
func (l pionLevels) Debug(string)              {}
func (l pionLevels) Debugf(string, ...any)     {}
func (l pionLevels) Info(m string)             { l.log.Debug(m) }
func (l pionLevels) Infof(f string, a ...any)  { l.log.Debugf(f, a...) }
func (l pionLevels) Warn(m string)             { l.log.Debug(m) }
func (l pionLevels) Warnf(f string, a ...any)  { l.log.Debugf(f, a...) }
func (l pionLevels) Error(m string)            { l.log.Debug(m) }
func (l pionLevels) Errorf(f string, a ...any) { l.log.Debugf(f, a...) }
