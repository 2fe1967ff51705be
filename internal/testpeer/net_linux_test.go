package testpeer

import (
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestSocketsGetTheirBuffer: the load tool's sockets get the receive buffer
// asked for, past net.core.rmem_max when the process may (root), and never
// less than rmem_max allows.
func TestSocketsGetTheirBuffer(t *testing.T) {
	const want = 8 << 20
	s, err := NewSockets(want)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, err := c.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	raw.Control(func(fd uintptr) { got, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF) })
	got /= 2 // Linux reports twice what was set
	// What this process may have: all of it with CAP_NET_ADMIN, else up to
	// rmem_max.
	probe, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	limit := want
	if b, err := os.ReadFile("/proc/sys/net/core/rmem_max"); err == nil && !forceReadBuffer(probe, want) {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			limit = min(limit, v)
		}
	}
	if got < limit {
		t.Fatalf("receive buffer %d bytes, want at least %d", got, limit)
	}
	if port := c.LocalAddr().(*net.UDPAddr).Port; len(s.Ports()) != 1 || s.Ports()[0] != port {
		t.Fatalf("ports %v, want [%d]", s.Ports(), port)
	}
}
