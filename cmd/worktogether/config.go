package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/worktogether/worktogether/sfu"
	"github.com/worktogether/worktogether/signaling"
	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/web"
)

// config is everything the server is told at start.
type config struct {
	Addr         string
	Data         string
	Database     string // a postgres:// URL; empty: SQLite in Data
	HostKey      string
	PublicURL    string
	UDPPort      int
	PublicIP     string
	LoopbackOnly bool
	DisableTCP   bool
	PublishKbps  int // per publisher; 0 no cap
	ICEServers   string
	LogLevel     string
	SMTP         string
	MailFrom     string
	Reminders    string
	AnnounceLead time.Duration
	Demo         bool
	DebugAddr    string
	Proxies      string
	RoomIdle     time.Duration
	MaxConns     int // per client; 0 no cap
	Relay        relayConfig
}

// envName is the environment variable that stands for a flag.
func envName(flagName string) string {
	return "WORKTOGETHER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseConfig reads flags, falling back to WORKTOGETHER_* variables for the
// flags not given on the command line.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("worktogether", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "HTTP and websocket listen address")
	fs.StringVar(&c.Data, "data", "./data", "data directory (database, host key, mail outbox)")
	fs.StringVar(&c.Database, "database", "", "PostgreSQL database, postgres://user:pass@host:5432/name (default: SQLite in the data directory)")
	fs.StringVar(&c.HostKey, "host-key", "", "host key (default: generated once and kept in the data directory)")
	fs.StringVar(&c.PublicURL, "public-url", "", "base of every link in pages and mails (default http://<addr>)")
	fs.IntVar(&c.UDPPort, "udp-port", 8081, "the one UDP port for all media (ICE-TCP on the same number); 0 picks a free one")
	fs.StringVar(&c.PublicIP, "public-ip", "", "public IP to announce for media when behind 1:1 NAT")
	fs.BoolVar(&c.LoopbackOnly, "loopback-only", false, "ICE candidates on 127.0.0.1 only (tests, demos)")
	fs.BoolVar(&c.DisableTCP, "no-ice-tcp", false, "do not listen for ICE over TCP")
	fs.IntVar(&c.PublishKbps, "publish-kbps", sfu.DefaultPublishBitrate/1000, "cap on what one participant publishes, all tracks together, in kbit/s (what is above is dropped); 0: no cap")
	fs.StringVar(&c.ICEServers, "ice-servers", "", "comma-separated STUN/TURN URLs handed to browsers (turn:user:pass@host:port for TURN with credentials)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.SMTP, "smtp", "", "smtp://user:pass@host:port or smtps://… (default: mails go to <data>/outbox as .eml)")
	fs.StringVar(&c.MailFrom, "mail-from", "Worktogether <worktogether@localhost>", "sender of every mail")
	fs.StringVar(&c.Reminders, "reminders", "24h,15m", "how long before a session reminders go out, comma separated; empty for none")
	fs.DurationVar(&c.AnnounceLead, "announce-lead", 7*24*time.Hour, "how long before a session the list hears of it (a series announces only its next occurrence); 0 for at once")
	fs.StringVar(&c.DebugAddr, "debug-addr", "", "serve Go's pprof profiles on this address (e.g. 127.0.0.1:6060); off when empty")
	fs.StringVar(&c.Proxies, "trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (e.g. 127.0.0.1/32,::1/128); none when empty")
	fs.DurationVar(&c.RoomIdle, "room-idle", signaling.DefaultIdleClose, "how long a room stays open with nobody in it (the next join opens it again where it was); 0: open while its session runs")
	fs.IntVar(&c.MaxConns, "max-conns-per-client", web.DefaultConnsPerClient, "connections one client (an address after -trusted-proxies; an IPv6 /64) may have open at once, requests and websockets; over it 429; 0: no cap")
	fs.BoolVar(&c.Demo, "demo", false, "when no session is upcoming, schedule a demo session and print its open link")
	relayFlags(fs, &c.Relay)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s=%q: %w", envName(f.Name), v, err)
			}
		}
	})
	if envErr != nil {
		return config{}, envErr
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return config{}, fmt.Errorf("-addr %q: %w", c.Addr, err)
	}
	if c.Database != "" && !store.IsPostgresURL(c.Database) {
		// Not the value itself: it may carry a password.
		return config{}, errors.New("-database: want a postgres:// or postgresql:// URL, or nothing for SQLite in the data directory")
	}
	if c.UDPPort < 0 || c.UDPPort > 65535 {
		return config{}, fmt.Errorf("-udp-port %d is not a port", c.UDPPort)
	}
	if c.PublishKbps < 0 || c.PublishKbps > 1_000_000 {
		return config{}, fmt.Errorf("-publish-kbps %d: give 0 (no cap) to 1000000", c.PublishKbps)
	}
	if err := c.Relay.validate(); err != nil {
		return config{}, err
	}
	if c.MaxConns < 0 {
		return config{}, fmt.Errorf("-max-conns-per-client %d is negative (0 is no cap)", c.MaxConns)
	}
	if c.RoomIdle < 0 {
		return config{}, fmt.Errorf("-room-idle %s is negative", c.RoomIdle)
	}
	if c.AnnounceLead < 0 {
		return config{}, fmt.Errorf("-announce-lead %s is negative", c.AnnounceLead)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	return c, nil
}

// roomIdle is -room-idle as the web layer takes it: 0 (never) is negative.
func (c config) roomIdle() time.Duration {
	if c.RoomIdle == 0 {
		return -1
	}
	return c.RoomIdle
}

// limits are the web layer's limits the flags set; the rest default.
func (c config) limits() web.Limits {
	l := web.Limits{ConnsPerClient: c.MaxConns}
	if c.MaxConns == 0 {
		l.ConnsPerClient = -1 // no cap
	}
	return l
}

// reminderLeads parses -reminders.
func (c config) reminderLeads() ([]time.Duration, error) {
	var out []time.Duration
	for _, raw := range strings.Split(c.Reminders, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("-reminders: %q is not a positive duration like 24h or 15m", raw)
		}
		out = append(out, d)
	}
	return out, nil
}

// trustedProxies parses -trusted-proxies: CIDRs, or bare addresses for one
// host each.
func (c config) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, raw := range strings.Split(c.Proxies, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		p, err := netip.ParsePrefix(raw)
		if err != nil {
			a, aerr := netip.ParseAddr(raw)
			if aerr != nil {
				return nil, fmt.Errorf("-trusted-proxies: %q is not a CIDR like 127.0.0.1/32: %w", raw, err)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// mailFrom parses -mail-from.
func (c config) mailFrom() (*mail.Address, error) {
	a, err := mail.ParseAddress(c.MailFrom)
	if err != nil {
		return nil, fmt.Errorf("-mail-from %q: %w", c.MailFrom, err)
	}
	return a, nil
}

// iceServers turns the -ice-servers list into what clients get.
func (c config) iceServers() ([]web.ICEServer, error) {
	var out []web.ICEServer
	for _, raw := range strings.Split(c.ICEServers, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		scheme, rest, ok := strings.Cut(raw, ":")
		if !ok || (scheme != "stun" && scheme != "stuns" && scheme != "turn" && scheme != "turns") {
			// Not the entry itself: it may carry a password.
			return nil, fmt.Errorf("-ice-servers: entry %d is not a stun: or turn: URL", len(out)+1)
		}
		s := web.ICEServer{URLs: []string{raw}}
		// turn:user:pass@host:port carries credentials.
		if cred, host, ok := strings.Cut(rest, "@"); ok && strings.HasPrefix(scheme, "turn") {
			user, pass, _ := strings.Cut(cred, ":")
			s = web.ICEServer{URLs: []string{scheme + ":" + host}, Username: user, Credential: pass}
		}
		out = append(out, s)
	}
	return out, nil
}

// secretFile returns the contents of a secret kept in the data directory,
// making it (random, 0600) on first use. made says whether it was new.
func secretFile(dir, name string, size int) (value string, made bool, err error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err == nil {
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", false, fmt.Errorf("%s is empty; delete it to make a new one", path)
		}
		return v, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, size)
	if _, err := rand.Read(raw); err != nil {
		return "", false, fmt.Errorf("make %s: %w", name, err)
	}
	v := hex.EncodeToString(raw)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", false, fmt.Errorf("create data directory: %w", err)
	}
	if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("write %s: %w", path, err)
	}
	return v, true, nil
}
