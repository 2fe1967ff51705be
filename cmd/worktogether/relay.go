package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/worktogether/worktogether/relay"
	"github.com/worktogether/worktogether/web"
	"go.uber.org/zap"
)

// relayConfig is the built-in TURN relay's and an external TURN server's
// part of the config.
type relayConfig struct {
	On          bool
	Port        int
	TLSPort     int
	Cert, Key   string
	Host        string
	IP          string
	Secret      string
	Allocations int
	Kbps        int
	TTL         time.Duration

	External       string
	ExternalSecret string
}

func relayFlags(fs *flag.FlagSet, c *relayConfig) {
	fs.BoolVar(&c.On, "relay", false, "run the built-in TURN relay, for browsers on networks that block UDP")
	fs.IntVar(&c.Port, "relay-port", 3478, "the relay's UDP and TCP port; 0 picks free ones")
	fs.IntVar(&c.TLSPort, "relay-tls-port", 0, "also offer TURN over TLS on this port (e.g. 443); needs -relay-cert and -relay-key")
	fs.StringVar(&c.Cert, "relay-cert", "", "certificate (PEM, with chain) for TURN over TLS; its name must be -relay-host")
	fs.StringVar(&c.Key, "relay-key", "", "private key (PEM) for TURN over TLS")
	fs.StringVar(&c.Host, "relay-host", "", "host name or IP in the relay's turn: URLs (default: the host of -public-url)")
	fs.StringVar(&c.IP, "relay-ip", "", "IPv4 address of relayed sockets, only ever reached by the SFU on this machine (default: this machine's address)")
	fs.StringVar(&c.Secret, "relay-secret", "", "shared secret of relay credentials (default: generated once and kept in the data directory)")
	fs.IntVar(&c.Allocations, "relay-allocations", relay.DefaultMaxAllocations, "relay allocations one participant may hold at once")
	fs.IntVar(&c.Kbps, "relay-kbps", 10000, "what one participant may relay, in kbit/s each way; 0 for no limit")
	fs.DurationVar(&c.TTL, "relay-ttl", 12*time.Hour, "how long the TURN credentials in welcome are good for (built-in and external)")
	fs.StringVar(&c.External, "external-turn", "", "comma-separated turn:/turns: URLs of an external TURN server sharing -external-turn-secret (TURN REST credentials)")
	fs.StringVar(&c.ExternalSecret, "external-turn-secret", "", "the external TURN server's shared secret (coturn: static-auth-secret)")
}

func (c relayConfig) validate() error {
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("-relay-port %d is not a port", c.Port)
	}
	if c.TLSPort < 0 || c.TLSPort > 65535 {
		return fmt.Errorf("-relay-tls-port %d is not a port", c.TLSPort)
	}
	if c.TLSPort != 0 && (c.Cert == "" || c.Key == "") {
		return errors.New("-relay-tls-port needs -relay-cert and -relay-key")
	}
	if c.Allocations <= 0 {
		return fmt.Errorf("-relay-allocations %d: at least 1", c.Allocations)
	}
	if c.Kbps < 0 {
		return fmt.Errorf("-relay-kbps %d is negative", c.Kbps)
	}
	if c.TTL < time.Minute {
		return fmt.Errorf("-relay-ttl %v: at least a minute", c.TTL)
	}
	if (c.External == "") != (c.ExternalSecret == "") {
		return errors.New("-external-turn and -external-turn-secret go together")
	}
	for _, u := range c.externalURLs() {
		if !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
			return fmt.Errorf("-external-turn: %q is not a turn: or turns: URL", u)
		}
	}
	return nil
}

func (c relayConfig) externalURLs() []string {
	var out []string
	for _, u := range strings.Split(c.External, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// relaySetup is what run needs from the relay part: the credentials maker
// for the web layer (nil when no TURN is configured) and what to close.
type relaySetup struct {
	turn   func(id string, now time.Time, ttl time.Duration) []web.ICEServer
	server *relay.Server
	urls   []string
}

// startRelay starts the built-in relay (with -relay) and sets up the
// credentials for it and for an external TURN server.
func startRelay(cfg config, mediaPort int, publicURL string, log *zap.Logger) (relaySetup, error) {
	rc := cfg.Relay
	var issuers []relay.Issuer
	var out relaySetup
	if rc.On {
		secret := rc.Secret
		if secret == "" {
			var err error
			if secret, _, err = secretFile(cfg.Data, "relay_secret", 32); err != nil {
				return relaySetup{}, err
			}
		}
		local := cfg.LoopbackOnly || listensOnLoopback(cfg.Addr)
		relayIP, err := chooseRelayIP(rc.IP, local)
		if err != nil {
			return relaySetup{}, err
		}
		peers, err := relay.LocalIPs(cfg.LoopbackOnly, cfg.PublicIP)
		if err != nil {
			return relaySetup{}, err
		}
		var nat netip.Addr
		if cfg.PublicIP != "" {
			own, err := relay.LocalIPs(false, "")
			if err != nil {
				return relaySetup{}, err
			}
			pub, err := netip.ParseAddr(cfg.PublicIP)
			if err != nil {
				return relaySetup{}, fmt.Errorf("-public-ip: %w", err)
			}
			if pub = pub.Unmap(); pub.Is4() && !slices.Contains(own, pub) {
				nat = pub // 1:1 NAT: reach the SFU on loopback, not by hairpin
			}
		}
		listenHost := ""
		if local {
			listenHost = "127.0.0.1"
		}
		rcfg := relay.Config{
			UDPAddr:        net.JoinHostPort(listenHost, strconv.Itoa(rc.Port)),
			TCPAddr:        net.JoinHostPort(listenHost, strconv.Itoa(rc.Port)),
			RelayIP:        relayIP,
			PeerIPs:        peers,
			PeerPort:       mediaPort,
			NATIP:          nat,
			Secret:         []byte(secret),
			MaxAllocations: rc.Allocations,
			BytesPerSecond: rc.Kbps * 1000 / 8,
			Log:            log,
		}
		if rc.TLSPort != 0 {
			cert, err := tls.LoadX509KeyPair(rc.Cert, rc.Key)
			if err != nil {
				return relaySetup{}, fmt.Errorf("-relay-cert/-relay-key: %w", err)
			}
			rcfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			rcfg.TLSAddr = net.JoinHostPort(listenHost, strconv.Itoa(rc.TLSPort))
		}
		srv, err := relay.New(rcfg)
		if err != nil {
			return relaySetup{}, err
		}
		host := rc.Host
		if host == "" {
			u, err := url.Parse(publicURL)
			if err != nil || u.Hostname() == "" {
				srv.Close()
				return relaySetup{}, fmt.Errorf("-relay-host: cannot take it from -public-url %q", publicURL)
			}
			host = u.Hostname()
		}
		out.server = srv
		out.urls = srv.URLs(host)
		issuers = append(issuers, relay.Issuer{URLs: out.urls, Secret: []byte(secret)})
	}
	if rc.External != "" {
		ext := relay.Issuer{URLs: rc.externalURLs(), Secret: []byte(rc.ExternalSecret)}
		issuers = append(issuers, ext)
		out.urls = append(out.urls, ext.URLs...)
	}
	if len(issuers) > 0 {
		out.turn = func(id string, now time.Time, ttl time.Duration) []web.ICEServer {
			list := make([]web.ICEServer, 0, len(issuers))
			for _, is := range issuers {
				s := is.Issue(id, now.Add(ttl))
				list = append(list, web.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
			}
			return list
		}
	}
	return out, nil
}

// chooseRelayIP picks the relayed address: the one given, else loopback
// for a server of this machine only, else the address this machine reaches
// the outside from (behind 1:1 NAT the private one: only the SFU on this
// machine sends to it).
func chooseRelayIP(given string, loopback bool) (netip.Addr, error) {
	if given != "" {
		ip, err := netip.ParseAddr(given)
		if err != nil || !ip.Unmap().Is4() {
			return netip.Addr{}, fmt.Errorf("-relay-ip: %q is not an IPv4 address", given)
		}
		return ip.Unmap(), nil
	}
	lo := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	if loopback {
		return lo, nil
	}
	// A connected UDP socket sends nothing; it only asks for a route.
	c, err := net.Dial("udp4", "192.0.2.1:9")
	if err != nil {
		return lo, nil
	}
	defer c.Close()
	ip, _ := netip.AddrFromSlice(c.LocalAddr().(*net.UDPAddr).IP)
	return ip.Unmap(), nil
}
