package testpeer

import (
	"fmt"
	"net"
	"sort"
	"sync"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// Sockets is the network the load tool's peers use: Pion's own, except that
// every UDP socket it opens gets a large receive buffer (one core decrypting
// for fifty peers falls behind for a few milliseconds now and then, and the
// kernel's default buffer holds only about 25 ms of a busy peer's traffic),
// and the ports are remembered so that the kernel's drop counters can be read
// for the load tool's sockets apart from the server's.
type Sockets struct {
	*stdnet.Net
	buffer int
	shaper *shaper // the downlink every socket shares, nil when not shaped

	mu    sync.Mutex
	ports map[int]bool
}

// NewSockets returns a network whose UDP sockets ask for buffer bytes of
// receive buffer: that much where the process may pass net.core.rmem_max
// (CAP_NET_ADMIN), else as much of it as rmem_max allows.
func NewSockets(buffer int) (*Sockets, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	return &Sockets{Net: n, buffer: buffer, ports: map[int]bool{}}, nil
}

// NewShapedSockets is NewSockets behind a shaped downlink: one bottleneck
// for everything its sockets receive.
func NewShapedSockets(buffer int, l Link) (*Sockets, error) {
	s, err := NewSockets(buffer)
	if err != nil {
		return nil, err
	}
	s.shaper = newShaper(l)
	return s, nil
}

// SetLink changes a shaped network's downlink from now on.
func (s *Sockets) SetLink(l Link) {
	if s.shaper != nil {
		s.shaper.setLink(l)
	}
}

// LinkStats is what the shaped downlink did so far (zero when not shaped).
func (s *Sockets) LinkStats() LinkStats {
	if s.shaper == nil {
		return LinkStats{}
	}
	return s.shaper.snapshot()
}

// ListenUDP opens a UDP socket with the large receive buffer, shaped when
// the network is.
func (s *Sockets) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	if s.buffer > 0 && !forceReadBuffer(c, s.buffer) {
		if err := c.SetReadBuffer(s.buffer); err != nil {
			c.Close()
			return nil, fmt.Errorf("receive buffer: %w", err)
		}
	}
	s.mu.Lock()
	s.ports[c.LocalAddr().(*net.UDPAddr).Port] = true
	s.mu.Unlock()
	if s.shaper != nil {
		return newShapedConn(c, s.shaper), nil
	}
	return c, nil
}

// Ports are the local ports of the UDP sockets opened so far.
func (s *Sockets) Ports() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int, 0, len(s.ports))
	for p := range s.ports {
		out = append(out, p)
	}
	sort.Ints(out)
	return out
}
