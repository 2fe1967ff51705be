package sfu

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestMediaSocketBuffers checks the media socket gets the larger buffers, up
// to what the kernel allows, and that a short grant is reported to the
// operator.
func TestMediaSocketBuffers(t *testing.T) {
	limit := socketBuffer
	if b, err := os.ReadFile("/proc/sys/net/core/rmem_max"); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			limit = min(limit, v)
		}
	}
	core, logs := observer.New(zap.WarnLevel)
	r, err := NewRouter(Config{LoopbackOnly: true, DisableTCP: true}, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, ok := receiveBuffer(r.udpConn.(*net.UDPConn))
	if !ok {
		t.Skip("receive buffer not readable on this system")
	}
	if got < limit {
		t.Errorf("media socket receive buffer is %d bytes, want at least %d", got, limit)
	}
	warned := logs.FilterMessageSnippet("receive buffer is smaller").Len() > 0
	if warned != (got < socketBuffer) {
		t.Errorf("granted %d of %d bytes, warned %v", got, socketBuffer, warned)
	}
}
