package sfu

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"net"
	"runtime"
	"testing"
)

// BenchmarkFloor is the machine's floor for one egress packet: seal 1200
// bytes with AES-128-GCM, as SRTP does, and sendto a loopback socket, as the
// UDP mux does. Nothing else: no RTP, no interceptors, no fan-out. A reader
// on another core drains the socket, as the load tool's peers do, so each
// send pays for waking a receiver like the server's sends do. The figure is
// the sending thread's own CPU time per packet (cpu-ns/egress, on Linux),
// read the way the load tool reads the server's. make bench runs it in the
// same run as the load, so the server's CPU per egress packet can be read as
// a multiple of it.
func BenchmarkFloor(b *testing.B) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	sink.SetReadBuffer(4 << 20)
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		runtime.LockOSThread()
		pinThread(1)
		buf := make([]byte, 1500)
		for {
			if _, err := sink.Read(buf); err != nil {
				return
			}
		}
	}()
	defer func() { sink.Close(); <-drained }()

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pinThread(0)
	block, _ := aes.NewCipher(make([]byte, 16))
	gcm, _ := cipher.NewGCM(block)
	to := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	plain := make([]byte, 1200)
	out := make([]byte, 0, 1300)
	nonce := make([]byte, gcm.NonceSize())
	b.ReportAllocs()
	b.SetBytes(int64(len(plain)))
	cpu0, measured := threadCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		binary.BigEndian.PutUint64(nonce[4:], uint64(i))
		out = gcm.Seal(out[:0], nonce, plain[12:], plain[:12])
		if _, err := conn.WriteToUDPAddrPort(out, to); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if cpu1, _ := threadCPU(); measured {
		b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/egress")
	}
}
