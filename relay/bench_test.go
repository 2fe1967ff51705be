package relay

import (
	"bytes"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"go.uber.org/zap"
)

// BenchmarkRelayUDP relays 1200-byte packets from a pion/turn client over
// loopback UDP to a sink standing for the SFU: what one relayed stream
// costs the server. Reports the share of packets that arrived.
func BenchmarkRelayUDP(b *testing.B) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	sink.SetReadBuffer(4 << 20)
	var got atomic.Int64
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := sink.ReadFrom(buf); err != nil {
				return
			}
			got.Add(1)
		}
	}()
	s, err := New(Config{
		UDPAddr: "127.0.0.1:0", RelayIP: loopbackAddr, PeerIPs: []netip.Addr{loopbackAddr},
		PeerPort: sink.LocalAddr().(*net.UDPAddr).Port, Secret: secret, Log: zap.NewNop(),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	udp, _, _ := s.Ports()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	user, pass := Credentials(secret, "bench", time.Now().Add(time.Hour))
	c, err := turn.NewClient(&turn.ClientConfig{
		TURNServerAddr: "127.0.0.1:" + itoa(udp), STUNServerAddr: "127.0.0.1:" + itoa(udp),
		Username: user, Password: pass, Realm: DefaultRealm, Conn: conn, LoggerFactory: quietLogs(),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		b.Fatal(err)
	}
	relayed, err := c.Allocate()
	if err != nil {
		b.Fatal(err)
	}
	defer relayed.Close()
	to := sink.LocalAddr()
	payload := bytes.Repeat([]byte{1}, 1200)
	// The first write binds a channel; wait for it to come through.
	relayed.WriteTo(payload, to)
	for deadline := time.Now().Add(5 * time.Second); got.Load() == 0; {
		if time.Now().After(deadline) {
			b.Fatal("nothing came through the relay")
		}
		time.Sleep(time.Millisecond)
	}
	got.Store(0)
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		relayed.WriteTo(payload, to)
		if i%64 == 63 {
			// Keep within what loopback buffers hold: pace to the relay,
			// giving up on what was lost after a while.
			for wait := time.Now().Add(100 * time.Millisecond); int64(i)-got.Load() > 256 && time.Now().Before(wait); {
				time.Sleep(10 * time.Microsecond)
			}
		}
	}
	for deadline := time.Now().Add(2 * time.Second); got.Load() < int64(b.N) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(got.Load())/float64(b.N), "delivered")
}
