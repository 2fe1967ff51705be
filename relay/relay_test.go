package relay

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var secret = []byte("0123456789abcdef0123456789abcdef")

// sfuStandIn is a UDP socket on loopback playing the SFU's media port: it
// echoes every packet back, prefixed with "echo:".
type sfuStandIn struct {
	conn *net.UDPConn
	got  chan []byte
}

func startSFU(t *testing.T) *sfuStandIn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &sfuStandIn{conn: c, got: make(chan []byte, 1024)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			msg := append([]byte(nil), buf[:n]...)
			select {
			case s.got <- msg:
			default:
			}
			c.WriteTo(append([]byte("echo:"), msg...), from)
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return s
}

func (s *sfuStandIn) port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

func startRelay(t *testing.T, sfu *sfuStandIn, tune func(*Config)) *Server {
	t.Helper()
	cfg := Config{
		UDPAddr:  "127.0.0.1:0",
		TCPAddr:  "127.0.0.1:0",
		RelayIP:  netip.MustParseAddr("127.0.0.1"),
		PeerIPs:  []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		PeerPort: sfu.port(),
		Secret:   secret,
		Log:      zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)),
	}
	if tune != nil {
		tune(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// turnClient is a real pion/turn client over loopback UDP (or TCP).
type turnClient struct {
	c     *turn.Client
	relay net.PacketConn
}

func dialUDP(t *testing.T, s *Server, user, pass string) (*turnClient, error) {
	t.Helper()
	udp, _, _ := s.Ports()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return allocate(t, conn, "127.0.0.1:"+itoa(udp), user, pass)
}

func dialTCP(t *testing.T, s *Server, user, pass string) (*turnClient, error) {
	t.Helper()
	_, tcp, _ := s.Ports()
	c, err := net.Dial("tcp4", "127.0.0.1:"+itoa(tcp))
	if err != nil {
		t.Fatal(err)
	}
	return allocate(t, turn.NewSTUNConn(c), "127.0.0.1:"+itoa(tcp), user, pass)
}

func allocate(t *testing.T, conn net.PacketConn, server, user, pass string) (*turnClient, error) {
	t.Helper()
	c, err := turn.NewClient(&turn.ClientConfig{
		TURNServerAddr: server, STUNServerAddr: server,
		Username: user, Password: pass, Realm: DefaultRealm,
		Conn: conn, LoggerFactory: quietLogs(), RTO: 200 * time.Millisecond,
	})
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		c.Close()
		conn.Close()
		t.Fatal(err)
	}
	tc := &turnClient{c: c}
	t.Cleanup(func() { tc.close(); conn.Close() })
	tc.relay, err = c.Allocate()
	if err != nil {
		return tc, err
	}
	return tc, nil
}

func quietLogs() logging.LoggerFactory {
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	return quiet
}

func (tc *turnClient) close() {
	if tc.relay != nil {
		tc.relay.Close()
		tc.relay = nil
	}
	tc.c.Close()
}

func itoa(n int) string { return strconv.Itoa(n) }

// roundTrip sends msg through the relay to the SFU stand-in and waits for
// its echo.
func roundTrip(t *testing.T, tc *turnClient, sfu *sfuStandIn, msg string) {
	t.Helper()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sfu.port()}
	if _, err := tc.relay.WriteTo([]byte(msg), to); err != nil {
		t.Fatalf("send through relay: %v", err)
	}
	select {
	case got := <-sfu.got:
		if string(got) != msg {
			t.Fatalf("SFU got %q, want %q", got, msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SFU got nothing through the relay")
	}
	tc.relay.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	n, from, err := tc.relay.ReadFrom(buf)
	if err != nil {
		t.Fatalf("read echo through relay: %v", err)
	}
	if string(buf[:n]) != "echo:"+msg || from.(*net.UDPAddr).Port != sfu.port() {
		t.Fatalf("relay delivered %q from %v", buf[:n], from)
	}
}

func TestRelayCarriesBothWaysOverUDPAndTCP(t *testing.T) {
	sfu := startSFU(t)
	s := startRelay(t, sfu, nil)
	user, pass := Credentials(secret, "p-udp", time.Now().Add(time.Hour))
	tc, err := dialUDP(t, s, user, pass)
	if err != nil {
		t.Fatalf("allocate over UDP with good credentials: %v", err)
	}
	roundTrip(t, tc, sfu, "hello over udp")

	user, pass = Credentials(secret, "p-tcp", time.Now().Add(time.Hour))
	tc, err = dialTCP(t, s, user, pass)
	if err != nil {
		t.Fatalf("allocate over TCP with good credentials: %v", err)
	}
	roundTrip(t, tc, sfu, "hello over tcp")
	if st := s.Stats(); st.Allocations != 2 {
		t.Fatalf("stats %+v, want 2 allocations", st)
	}
}

func TestRelayRefusesStaleAndForgedCredentials(t *testing.T) {
	sfu := startSFU(t)
	s := startRelay(t, sfu, nil)
	goodUser, goodPass := Credentials(secret, "p1", time.Now().Add(time.Hour))
	staleUser, stalePass := Credentials(secret, "p1", time.Now().Add(-time.Second))
	otherUser, _ := Credentials(secret, "p2", time.Now().Add(time.Hour))
	_, wrongSecret := Credentials([]byte("another secret of enough length"), "p1", time.Now().Add(time.Hour))
	laterUser, _ := Credentials(secret, "p1", time.Now().Add(48*time.Hour))
	cases := []struct{ name, user, pass string }{
		{"stale", staleUser, stalePass},
		{"signed with another secret", goodUser, wrongSecret},
		{"another participant's credential", otherUser, goodPass},
		{"expiry pushed later", laterUser, goodPass},
		{"static password", "p1", "p1"},
		{"no id", strings.TrimSuffix(goodUser, "p1"), goodPass},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, dial := range []func(*testing.T, *Server, string, string) (*turnClient, error){dialUDP, dialTCP} {
				if _, err := dial(t, s, tc.user, tc.pass); err == nil {
					t.Fatalf("allocation with %s credentials succeeded", tc.name)
				}
			}
		})
	}
	if st := s.Stats(); st.Allocations != 0 || st.AuthRefused == 0 {
		t.Fatalf("stats after refusals: %+v", st)
	}
	// The good credential still works: the refusals were about the
	// credentials, not a broken relay.
	tc, err := dialUDP(t, s, goodUser, goodPass)
	if err != nil {
		t.Fatalf("good credentials refused: %v", err)
	}
	roundTrip(t, tc, sfu, "still fine")
}

func TestRelayLimitsAllocationsPerParticipant(t *testing.T) {
	sfu := startSFU(t)
	s := startRelay(t, sfu, func(c *Config) { c.MaxAllocations = 2 })
	user, pass := Credentials(secret, "greedy", time.Now().Add(time.Hour))
	first, err := dialUDP(t, s, user, pass)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dialTCP(t, s, user, pass); err != nil {
		t.Fatal(err)
	}
	// A third, on either transport and with a fresh credential for the
	// same participant, is refused.
	if _, err := dialUDP(t, s, user, pass); err == nil {
		t.Fatal("third allocation over UDP succeeded")
	}
	user2, pass2 := Credentials(secret, "greedy", time.Now().Add(2*time.Hour))
	if _, err := dialTCP(t, s, user2, pass2); err == nil {
		t.Fatal("third allocation over TCP with a fresh credential succeeded")
	}
	if st := s.Stats(); st.QuotaRefused < 2 || st.Allocations != 2 {
		t.Fatalf("stats %+v, want 2 allocations and 2 refusals", st)
	}
	// Someone else is not affected.
	other, otherPass := Credentials(secret, "modest", time.Now().Add(time.Hour))
	if _, err := dialUDP(t, s, other, otherPass); err != nil {
		t.Fatalf("another participant refused: %v", err)
	}
	// Freeing one gives the slot back.
	first.close()
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Allocations != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("freed allocation still counted: %+v", s.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	tc, err := dialUDP(t, s, user, pass)
	if err != nil {
		t.Fatalf("allocation after freeing one: %v", err)
	}
	roundTrip(t, tc, sfu, "slot reused")
}

func TestRelayOnlyReachesTheSFU(t *testing.T) {
	sfu := startSFU(t)
	s := startRelay(t, sfu, nil)
	user, pass := Credentials(secret, "p1", time.Now().Add(time.Hour))
	tc, err := dialUDP(t, s, user, pass)
	if err != nil {
		t.Fatal(err)
	}
	// Another service on the same loopback address, and an address in a
	// private network: neither may be reached through the relay.
	other, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tc.relay.WriteTo([]byte("to another port"), other.LocalAddr())
	if _, err := tc.relay.WriteTo([]byte("to a private network"), &net.UDPAddr{IP: net.IPv4(10, 1, 2, 3), Port: sfu.port()}); err == nil {
		t.Error("permission for 10.1.2.3 was granted")
	}
	// A packet from the other service towards the relayed address is
	// not delivered to the client either.
	other.WriteTo([]byte("unsolicited"), tc.relay.LocalAddr())
	roundTrip(t, tc, sfu, "to the SFU")
	other.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _, err := other.ReadFrom(make([]byte, 1500)); err == nil {
		t.Fatalf("another port got %d bytes through the relay", n)
	}
	if st := s.Stats(); st.DroppedPeer < 2 {
		t.Fatalf("stats %+v: the forbidden packets were not counted", st)
	}
}

func TestRelayMetersBandwidthPerParticipant(t *testing.T) {
	sfu := startSFU(t)
	const perSec = 20_000
	s := startRelay(t, sfu, func(c *Config) { c.BytesPerSecond = perSec })
	user, pass := Credentials(secret, "p1", time.Now().Add(time.Hour))
	tc, err := dialUDP(t, s, user, pass)
	if err != nil {
		t.Fatal(err)
	}
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sfu.port()}
	payload := bytes.Repeat([]byte{'x'}, 1000)
	start := time.Now()
	const sent = 400 // 400 kB: far over one second's budget
	for i := 0; i < sent; i++ {
		if _, err := tc.relay.WriteTo(payload, to); err != nil {
			t.Fatal(err)
		}
	}
	// Loopback keeps the order of one socket's packets: once a marker sent
	// after the flood arrives, everything of the flood that was relayed has.
	marker := []byte("end")
	got := 0
	deadline := time.Now().Add(10 * time.Second)
	for done := false; !done; {
		if time.Now().After(deadline) {
			t.Fatal("the marker never came through")
		}
		if _, err := tc.relay.WriteTo(marker, to); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-sfu.got:
			if bytes.Equal(m, marker) {
				done = true
			} else {
				got++
			}
		case <-time.After(50 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	// The bucket allows its burst (64 kB) plus the rate for the time spent.
	limit := (64*1024+int(float64(perSec)*elapsed.Seconds()))/len(payload) + 1
	if got > limit || got == 0 {
		t.Fatalf("SFU got %d of %d packets in %v, want between 1 and %d", got, sent, elapsed, limit)
	}
	if s.Stats().DroppedRate == 0 {
		t.Fatal("nothing counted as over the rate")
	}
}

// countingConn counts what passes a relayed socket.
type countingConn struct {
	net.PacketConn
	reads, writes *atomic.Int64
}

func (c countingConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, a, err := c.PacketConn.ReadFrom(p)
	if err == nil {
		c.reads.Add(1)
	}
	return n, a, err
}

func (c countingConn) WriteTo(p []byte, a net.Addr) (int, error) {
	c.writes.Add(1)
	return c.PacketConn.WriteTo(p, a)
}

func TestRelayShapeSeesBothDirections(t *testing.T) {
	sfu := startSFU(t)
	var reads, writes atomic.Int64
	s := startRelay(t, sfu, func(c *Config) {
		c.Shape = func(pc net.PacketConn) net.PacketConn { return countingConn{pc, &reads, &writes} }
	})
	user, pass := Credentials(secret, "p1", time.Now().Add(time.Hour))
	tc, err := dialUDP(t, s, user, pass)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, tc, sfu, "shaped")
	if reads.Load() < 1 || writes.Load() < 1 {
		t.Fatalf("the shaping socket saw %d reads and %d writes", reads.Load(), writes.Load())
	}
}
