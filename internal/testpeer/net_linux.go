package testpeer

import (
	"net"
	"syscall"
)

// forceReadBuffer sets c's receive buffer past net.core.rmem_max, which
// needs CAP_NET_ADMIN (make bench runs as root in its own namespace); false
// when not allowed.
func forceReadBuffer(c *net.UDPConn, size int) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var opErr error
	if err := raw.Control(func(fd uintptr) {
		opErr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, size)
	}); err != nil {
		return false
	}
	return opErr == nil
}
