package relay

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"go.uber.org/zap"
)

var loopbackAddr = netip.MustParseAddr("127.0.0.1")

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "relay test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestRelayOverTLS(t *testing.T) {
	sfu := startSFU(t)
	cert, pool := selfSigned(t)
	s := startRelay(t, sfu, func(c *Config) {
		c.UDPAddr, c.TCPAddr = "", ""
		c.TLSAddr = "127.0.0.1:0"
		c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	})
	_, _, port := s.Ports()
	if urls := s.URLs("127.0.0.1"); len(urls) != 1 || urls[0] != "turns:127.0.0.1:"+itoa(port)+"?transport=tcp" {
		t.Fatalf("urls %v", urls)
	}
	conn, err := tls.Dial("tcp4", "127.0.0.1:"+itoa(port), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("TLS to the relay: %v", err)
	}
	user, pass := Credentials(secret, "p-tls", time.Now().Add(time.Hour))
	tc, err := allocate(t, turn.NewSTUNConn(conn), "127.0.0.1:"+itoa(port), user, pass)
	if err != nil {
		t.Fatalf("allocate over TLS: %v", err)
	}
	roundTrip(t, tc, sfu, "hello over tls")
}

func TestRelayConfigRefusals(t *testing.T) {
	sfu := startSFU(t)
	for name, tune := range map[string]func(*Config){
		"short secret":     func(c *Config) { c.Secret = []byte("short") },
		"no peers":         func(c *Config) { c.PeerIPs = nil },
		"no listener":      func(c *Config) { c.UDPAddr, c.TCPAddr = "", "" },
		"tls without cert": func(c *Config) { c.TLSAddr = "127.0.0.1:0" },
		"nat not a peer":   func(c *Config) { c.NATIP = c.RelayIP.Next() },
		"busy port":        func(c *Config) { c.UDPAddr = sfu.conn.LocalAddr().String() },
	} {
		cfg := Config{
			UDPAddr: "127.0.0.1:0", RelayIP: loopbackAddr, PeerIPs: []netip.Addr{loopbackAddr},
			PeerPort: sfu.port(), Secret: secret, Log: zap.NewNop(),
		}
		tune(&cfg)
		if s, err := New(cfg); err == nil {
			s.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRelayBoundsAndClosesTCPConnections(t *testing.T) {
	sfu := startSFU(t)
	cfg := Config{
		TCPAddr: "127.0.0.1:0", RelayIP: loopbackAddr, PeerIPs: []netip.Addr{loopbackAddr},
		PeerPort: sfu.port(), Secret: secret, Log: zap.NewNop(), MaxTCPConns: 1,
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := s.Ports()
	first, err := net.Dial("tcp4", "127.0.0.1:"+itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	user, pass := Credentials(secret, "p1", time.Now().Add(time.Hour))
	if _, err := allocate(t, turn.NewSTUNConn(first), "127.0.0.1:"+itoa(port), user, pass); err != nil {
		t.Fatal(err)
	}
	// A second connection is over the bound: the relay hangs up at once.
	second, err := net.Dial("tcp4", "127.0.0.1:"+itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := second.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("second connection over the bound: read %v, want it closed", err)
	}
	if st := s.Stats(); st.TCPConnRefused != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Closing the relay closes the connection that is still open.
	s.Close()
	first.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	for {
		if _, err := first.Read(buf); err != nil {
			if isTimeout(err) {
				t.Fatal("the relay closed but its connection stayed open")
			}
			break
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
