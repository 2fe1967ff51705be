package sfu

import (
	"net"
	"syscall"
)

// receiveBuffer is the receive buffer the kernel granted c. Linux reports
// twice the size asked for (it counts its own bookkeeping), so halve it.
func receiveBuffer(c *net.UDPConn) (int, bool) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, false
	}
	var size int
	var opErr error
	if err := raw.Control(func(fd uintptr) {
		size, opErr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	}); err != nil || opErr != nil {
		return 0, false
	}
	return size / 2, true
}
