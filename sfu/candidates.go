package sfu

import (
	"fmt"
	"net"
	"strings"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"go.uber.org/zap"
)

// maxCandidates bounds the candidates one connection takes from its client
// over its life: a browser trickles a handful (a host address or two, a
// reflexive one, a relayed one per TURN server). Each candidate the server
// takes is an address it sends connectivity checks to, so a client that
// names many would have the server probe them for it.
const maxCandidates = 32

// candidateQueue holds a client's trickled candidates until its connection
// has a remote description, then adds them as they come. Its owner's lock
// guards it.
type candidateQueue struct {
	remoteSet bool
	taken     int // every candidate given, kept or not
	held      []webrtc.ICECandidateInit
}

// add adds c to pc, or holds it (at most maxQueuedCandidates) until the
// remote description, which the error names as waitingFor. A candidate for
// an address the server should not send to (see reach) is dropped without
// an error: browsers name their private addresses as a matter of course.
func (q *candidateQueue) add(pc *webrtc.PeerConnection, c webrtc.ICECandidateInit, waitingFor string, reach *reach) error {
	q.taken++
	if q.taken > maxCandidates {
		return fmt.Errorf("%w: more than %d candidates", ErrBadICE, maxCandidates)
	}
	ok, err := reach.allows(c.Candidate)
	if err != nil || !ok {
		return err
	}
	if !q.remoteSet {
		if len(q.held) >= maxQueuedCandidates {
			return fmt.Errorf("%w: too many candidates before the %s", ErrBadICE, waitingFor)
		}
		q.held = append(q.held, c)
		return nil
	}
	if err := pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: %v", ErrBadICE, err)
	}
	return nil
}

// remoteApplied adds what was held, once pc has its first remote
// description.
func (q *candidateQueue) remoteApplied(pc *webrtc.PeerConnection, log *zap.Logger) {
	if q.remoteSet {
		return
	}
	q.remoteSet = true
	for _, c := range q.held {
		if err := pc.AddICECandidate(c); err != nil {
			log.Debug("queued candidate refused", zap.Error(err))
		}
	}
	q.held = nil
}

// reach is which addresses the server sends connectivity checks to: public
// ones; loopback only when it offers loopback itself; private, shared
// (100.64/10) and link-local ones only on a network the server is on.
// With loopbackOnly, loopback alone.
type reach struct {
	loopbackOnly, loopback bool
	own                    []*net.IPNet // the networks of the server's interfaces
}

func newReach(cfg Config) *reach {
	r := &reach{loopbackOnly: cfg.LoopbackOnly, loopback: cfg.IncludeLoopback}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				r.own = append(r.own, n)
			}
		}
	}
	return r
}

// sharedSpace is RFC 6598's carrier-grade NAT range.
var sharedSpace = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

// allows parses a candidate line and tells whether the server may send to
// its address; an error for a line that is not a candidate. The end of
// candidates (an empty line) and names that cannot be resolved (mDNS
// .local names: the server does not resolve them) are dropped.
func (r *reach) allows(line string) (bool, error) {
	line = strings.TrimPrefix(strings.TrimSpace(line), "candidate:")
	if line == "" {
		return false, nil
	}
	c, err := ice.UnmarshalCandidate(line)
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrBadICE, err)
	}
	ip := net.ParseIP(c.Address())
	if ip == nil {
		return false, nil
	}
	switch {
	case r.loopbackOnly:
		return ip.IsLoopback(), nil
	case ip.IsUnspecified() || ip.IsMulticast():
		return false, nil
	case ip.IsLoopback():
		return r.loopback, nil
	case ip.IsPrivate() || ip.IsLinkLocalUnicast() || sharedSpace.Contains(ip):
		for _, n := range r.own {
			if n.Contains(ip) {
				return true, nil
			}
		}
		return false, nil
	}
	return true, nil
}
