package sfu

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"net"
	"testing"
)

// BenchmarkFloor is the machine's floor for one egress packet: seal 1200
// bytes with AES-128-GCM, as SRTP does, and sendto a loopback socket, as the
// UDP mux does. Nothing else: no RTP, no interceptors, no fan-out. make bench
// runs it in the same run as the load, so the server's CPU per egress packet
// can be read as a multiple of it.
func BenchmarkFloor(b *testing.B) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	block, _ := aes.NewCipher(make([]byte, 16))
	gcm, _ := cipher.NewGCM(block)
	to := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	plain := make([]byte, 1200)
	out := make([]byte, 0, 1300)
	nonce := make([]byte, gcm.NonceSize())
	b.ReportAllocs()
	b.SetBytes(int64(len(plain)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		binary.BigEndian.PutUint64(nonce[4:], uint64(i))
		out = gcm.Seal(out[:0], nonce, plain[12:], plain[:12])
		// Nobody reads the sink: the kernel drops what does not fit, after
		// doing the work of sending it.
		if _, err := conn.WriteToUDPAddrPort(out, to); err != nil {
			b.Fatal(err)
		}
	}
}
