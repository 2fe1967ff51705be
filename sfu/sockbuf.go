package sfu

import (
	"net"

	"go.uber.org/zap"
)

// socketBuffer is the receive and send buffer, in bytes, the media socket asks
// for. Every publisher's packets arrive on this one socket; the kernel's
// default (about 200 KB) holds only some tens of milliseconds of a busy
// room's traffic, and a packet that finds the buffer full is dropped.
const socketBuffer = 4 << 20

// sizeBuffers enlarges the media socket's buffers, and warns when the kernel
// grants less than asked (its limits are net.core.rmem_max and wmem_max).
func (r *Router) sizeBuffers(c *net.UDPConn) {
	if err := c.SetReadBuffer(socketBuffer); err != nil {
		r.log.Warn("cannot set the media socket's receive buffer", zap.Error(err))
	}
	if err := c.SetWriteBuffer(socketBuffer); err != nil {
		r.log.Warn("cannot set the media socket's send buffer", zap.Error(err))
	}
	if got, ok := receiveBuffer(c); ok && got < socketBuffer {
		r.log.Warn("the media socket's receive buffer is smaller than asked; raise net.core.rmem_max (sysctl) so that bursts are not dropped",
			zap.Int("bytes", got), zap.Int("asked", socketBuffer))
	}
}
