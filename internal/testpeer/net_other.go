//go:build !linux

package testpeer

import "net"

// forceReadBuffer is Linux only.
func forceReadBuffer(*net.UDPConn, int) bool { return false }
