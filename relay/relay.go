// Package relay runs a TURN server (pion/turn) inside the Worktogether
// process, so that a browser on a network that blocks UDP (or everything but
// TCP or TLS to one port) still reaches the SFU, and it makes the short-lived
// TURN REST credentials that browsers get for it or for an external TURN
// server sharing the secret.
//
// It owns the TURN listeners (UDP, TCP, optionally TLS), the relayed sockets
// and their limits: allocations per participant, relayed bandwidth per
// participant, and the only addresses a relayed socket may talk to (the
// SFU's own media port), so it can never be used as an open relay into the
// Internet or the operator's private network. It knows nothing of sessions,
// websockets or the SFU beyond those addresses: the web layer asks it for
// credentials by participant id.
package relay

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pion/turn/v5"
	"go.uber.org/zap"
)

// Config says where the relay listens and what it allows.
type Config struct {
	// UDPAddr, TCPAddr and TLSAddr are the TURN listen addresses
	// (host:port, port 0 picks one); "" leaves that transport off. TLSAddr
	// needs TLS.
	UDPAddr, TCPAddr, TLSAddr string
	TLS                       *tls.Config

	// RelayIP is the IPv4 address of relayed sockets that browsers are told
	// (XOR-RELAYED-ADDRESS) and hand on to the SFU as their candidate. They
	// are opened on it when it is one of this machine's addresses, on
	// 0.0.0.0 otherwise (a public address of 1:1 NAT). Only the SFU on this
	// machine ever sends to it, so it needs no open port in a firewall.
	RelayIP netip.Addr

	// PeerIPs and PeerPort are the only destination a relayed socket may
	// send to or hear from: the SFU's own addresses and its media port.
	PeerIPs  []netip.Addr
	PeerPort int

	// NATIP is the SFU's public address when it is not one of this
	// machine's own (1:1 NAT, -public-ip): browsers learn it as the SFU's
	// candidate and ask the relay to send there. What they relay to it at
	// PeerPort goes to 127.0.0.1 instead, and what the SFU answers is
	// reported as coming from it, so no hairpin NAT is needed. It must be in
	// PeerIPs.
	NATIP netip.Addr

	// Secret signs credentials (HMAC-SHA1, TURN REST convention).
	Secret []byte

	// MaxAllocations is how many allocations one participant may hold at
	// once (a browser needs one per connection and transport it tries).
	MaxAllocations int
	// BytesPerSecond bounds what one participant's allocations together
	// relay, in each direction; 0 for no bound. Packets above it are dropped,
	// as a congested link would.
	BytesPerSecond int
	// MaxParticipants bounds the table of participants with allocations.
	MaxParticipants int
	// MaxTCPConns bounds the open TCP and TLS connections to the relay.
	MaxTCPConns int
	// IdleTimeout closes a TCP or TLS connection that sent nothing that
	// long (a browser's consent checks come every few seconds).
	IdleTimeout time.Duration

	// Shape, when set, wraps each relayed socket: what the SFU sends
	// towards the client is read from it, what the client relays is written
	// to it. Tests put a shaped link there (a bottleneck between a browser
	// forced through the relay and the SFU).
	Shape func(net.PacketConn) net.PacketConn

	Realm string
	Log   *zap.Logger
	Now   func() time.Time // time.Now when nil
}

// Defaults for the zero fields of Config.
const (
	DefaultMaxAllocations  = 6
	DefaultMaxParticipants = 4096
	DefaultMaxTCPConns     = 1024
	DefaultIdleTimeout     = 2 * time.Minute
	DefaultRealm           = "worktogether"
)

// Stats are the relay's counters.
type Stats struct {
	Allocations    int    // open now
	AuthRefused    uint64 // requests with a stale, forged or malformed credential
	QuotaRefused   uint64 // allocations refused for the per-participant limit
	DroppedPeer    uint64 // packets to or from an address that is not the SFU, and permissions refused for one
	DroppedRate    uint64 // packets over the bandwidth limit
	TCPConnRefused uint64 // TCP/TLS connections over MaxTCPConns
}

// Server is a running relay.
type Server struct {
	cfg    Config
	log    *zap.Logger
	turn   *turn.Server
	limits *limits
	peers  peers

	bindIP                    net.IP
	udpAddr, tcpAddr, tlsAddr net.Addr
	counters                  counters
}

type counters struct {
	authRefused, quotaRefused, droppedPeer, droppedRate, tcpRefused atomic.Uint64
}

// New opens the listeners and starts relaying.
func New(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		return nil, errors.New("relay: logger is required")
	}
	if len(cfg.Secret) < 16 {
		return nil, errors.New("relay: a secret of at least 16 bytes is required")
	}
	if !cfg.RelayIP.Is4() {
		return nil, fmt.Errorf("relay: relay address %v is not IPv4", cfg.RelayIP)
	}
	if cfg.PeerPort <= 0 || cfg.PeerPort > 65535 || len(cfg.PeerIPs) == 0 {
		return nil, errors.New("relay: the SFU's addresses and media port are required")
	}
	if cfg.NATIP.IsValid() && !slices.Contains(cfg.PeerIPs, cfg.NATIP) {
		return nil, errors.New("relay: the NAT address must be one of the SFU's addresses")
	}
	if cfg.UDPAddr == "" && cfg.TCPAddr == "" && cfg.TLSAddr == "" {
		return nil, errors.New("relay: no listen address")
	}
	if cfg.TLSAddr != "" && cfg.TLS == nil {
		return nil, errors.New("relay: a TLS listener needs a certificate")
	}
	if cfg.MaxAllocations <= 0 {
		cfg.MaxAllocations = DefaultMaxAllocations
	}
	if cfg.MaxParticipants <= 0 {
		cfg.MaxParticipants = DefaultMaxParticipants
	}
	if cfg.MaxTCPConns <= 0 {
		cfg.MaxTCPConns = DefaultMaxTCPConns
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, log: cfg.Log, peers: newPeers(cfg.PeerIPs, cfg.PeerPort, cfg.NATIP)}
	s.bindIP = net.IPv4zero
	if local, err := LocalIPs(false, ""); err == nil && slices.Contains(local, cfg.RelayIP) {
		s.bindIP = cfg.RelayIP.AsSlice()
	}
	s.limits = newLimits(cfg.MaxAllocations, cfg.MaxParticipants, cfg.BytesPerSecond)
	gen := &generator{s: s}

	var closers []func() error
	fail := func(err error) (*Server, error) {
		for _, c := range closers {
			c()
		}
		return nil, err
	}
	tcpSlots := make(chan struct{}, cfg.MaxTCPConns) // shared by TCP and TLS
	var sc turn.ServerConfig
	if cfg.UDPAddr != "" {
		pc, err := net.ListenPacket("udp4", cfg.UDPAddr)
		if err != nil {
			return fail(fmt.Errorf("relay: listen udp %s: %w", cfg.UDPAddr, err))
		}
		closers = append(closers, pc.Close)
		s.udpAddr = pc.LocalAddr()
		sc.PacketConnConfigs = append(sc.PacketConnConfigs, turn.PacketConnConfig{
			PacketConn: pc, RelayAddressGenerator: gen, PermissionHandler: s.permit,
		})
	}
	listen := func(addr string, tlsCfg *tls.Config) (net.Addr, error) {
		ln, err := net.Listen("tcp4", addr)
		if err != nil {
			return nil, fmt.Errorf("relay: listen tcp %s: %w", addr, err)
		}
		closers = append(closers, ln.Close)
		var l net.Listener = &boundedListener{Listener: ln, slots: tcpSlots, idle: cfg.IdleTimeout, refused: &s.counters.tcpRefused}
		if tlsCfg != nil {
			l = tls.NewListener(l, tlsCfg)
		}
		sc.ListenerConfigs = append(sc.ListenerConfigs, turn.ListenerConfig{
			Listener: l, RelayAddressGenerator: gen, PermissionHandler: s.permit,
		})
		return ln.Addr(), nil
	}
	var err error
	if cfg.TCPAddr != "" {
		if s.tcpAddr, err = listen(cfg.TCPAddr, nil); err != nil {
			return fail(err)
		}
	}
	if cfg.TLSAddr != "" {
		if s.tlsAddr, err = listen(cfg.TLSAddr, cfg.TLS); err != nil {
			return fail(err)
		}
	}
	sc.Realm = cfg.Realm
	sc.AuthHandler = s.authenticate
	sc.QuotaHandler = func(userID, _ string, _ net.Addr) bool {
		if s.limits.canAllocate(userID) {
			return true
		}
		s.counters.quotaRefused.Add(1)
		return false
	}
	sc.LoggerFactory = pionLogger{log: cfg.Log.Named("turn")}
	t, err := turn.NewServer(sc)
	if err != nil {
		return fail(fmt.Errorf("relay: start turn server: %w", err))
	}
	s.turn = t
	return s, nil
}

// authenticate accepts a TURN REST username that has not expired; the key is
// derived from the credential the secret gives it, so a forged credential
// fails the message integrity check. The participant id is the TURN user id
// that allocations are counted by.
func (s *Server) authenticate(ra *turn.RequestAttributes) (string, []byte, bool) {
	expiry, id, ok := ParseUsername(ra.Username)
	if !ok || !s.cfg.Now().Before(expiry) {
		s.counters.authRefused.Add(1)
		return "", nil, false
	}
	return id, turn.GenerateAuthKey(ra.Username, ra.Realm, sign(s.cfg.Secret, ra.Username)), true
}

// permit lets a client create a permission (or channel) only towards the
// SFU's own addresses.
func (s *Server) permit(_ net.Addr, peer net.IP) bool {
	ip, ok := netip.AddrFromSlice(peer)
	if ok && s.peers.allowIP(ip.Unmap()) {
		return true
	}
	s.counters.droppedPeer.Add(1)
	return false
}

// Close stops the relay and closes every allocation.
func (s *Server) Close() error {
	if err := s.turn.Close(); err != nil {
		return fmt.Errorf("relay: close: %w", err)
	}
	return nil
}

// Ports are the TURN ports listened on (0 for a transport that is off).
func (s *Server) Ports() (udp, tcp, tls int) {
	return portOf(s.udpAddr), portOf(s.tcpAddr), portOf(s.tlsAddr)
}

// URLs are the TURN URLs for this relay reached at host (a name or IP the
// browsers can reach; for TLS the certificate's name).
func (s *Server) URLs(host string) []string {
	var urls []string
	udp, tcp, tlsPort := s.Ports()
	hp := func(port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
	if udp != 0 {
		urls = append(urls, "turn:"+hp(udp)+"?transport=udp")
	}
	if tcp != 0 {
		urls = append(urls, "turn:"+hp(tcp)+"?transport=tcp")
	}
	if tlsPort != 0 {
		urls = append(urls, "turns:"+hp(tlsPort)+"?transport=tcp")
	}
	return urls
}

// Stats reads the counters.
func (s *Server) Stats() Stats {
	return Stats{
		Allocations:    s.limits.total(),
		AuthRefused:    s.counters.authRefused.Load(),
		QuotaRefused:   s.counters.quotaRefused.Load(),
		DroppedPeer:    s.counters.droppedPeer.Load(),
		DroppedRate:    s.counters.droppedRate.Load(),
		TCPConnRefused: s.counters.tcpRefused.Load(),
	}
}

func portOf(a net.Addr) int {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.Port
	case *net.TCPAddr:
		return a.Port
	}
	return 0
}
