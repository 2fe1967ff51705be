//go:build !linux

package sfu

import "net"

// receiveBuffer is not read back outside Linux.
func receiveBuffer(*net.UDPConn) (int, bool) { return 0, false }
