package sfu

import (
	"errors"
	"net"
	"testing"

	"github.com/pion/webrtc/v4"
)

func TestCandidatesOnlyForAddressesTheServerShouldReach(t *testing.T) {
	_, home, _ := net.ParseCIDR("10.1.0.0/16")
	public := &reach{own: []*net.IPNet{home}}
	withLoopback := &reach{own: []*net.IPNet{home}, loopback: true}
	loopbackOnly := &reach{loopbackOnly: true}
	host := func(addr string) string { return "candidate:1 1 udp 2130706431 " + addr + " 9 typ host" }
	for _, c := range []struct {
		r    *reach
		line string
		want bool
	}{
		{public, host("192.0.2.7"), true}, // a public address (documentation range)
		{public, host("2001:db8::7"), true},
		{public, host("10.1.2.3"), true}, // on the server's own network
		{public, host("10.2.0.1"), false},
		{public, host("192.168.1.5"), false},
		{public, host("172.16.0.9"), false},
		{public, host("100.64.1.1"), false},
		{public, host("169.254.1.1"), false},
		{public, host("fe80::1"), false},
		{public, host("127.0.0.1"), false},
		{public, host("::1"), false},
		{public, host("0.0.0.0"), false},
		{public, host("224.0.0.1"), false},
		{public, host("3c9a0b8e-7b5e-4f55-9d3e-1b1f6b1e2a4c.local"), false},
		{public, "", false}, // end of candidates
		{withLoopback, host("127.0.0.1"), true},
		{loopbackOnly, host("127.0.0.1"), true},
		{loopbackOnly, "candidate:" + host("127.0.0.1"), true},
		{loopbackOnly, host("192.0.2.7"), false},
	} {
		got, err := c.r.allows(c.line)
		if err != nil || got != c.want {
			t.Errorf("%+v allows %q: %v, %v; want %v", *c.r, c.line, got, err, c.want)
		}
	}
	if _, err := public.allows("candidate:garbage"); !errors.Is(err, ErrBadICE) {
		t.Errorf("a line that is no candidate: %v, want ErrBadICE", err)
	}
}

func TestCandidatesAreCappedPerConnection(t *testing.T) {
	var q candidateQueue
	r := &reach{loopbackOnly: true}
	for i := range maxCandidates {
		// Dropped ones count too: a client cannot name a thousand private
		// addresses to be looked at one by one.
		addr := "192.0.2.1"
		if i%2 == 0 {
			addr = "127.0.0.1"
		}
		c := webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 2130706431 " + addr + " 9 typ host"}
		if err := q.add(nil, c, "answer", r); err != nil {
			t.Fatalf("candidate %d: %v", i, err)
		}
	}
	if len(q.held) != maxCandidates/2 {
		t.Errorf("%d held, want the %d loopback ones", len(q.held), maxCandidates/2)
	}
	c := webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 9 typ host"}
	if err := q.add(nil, c, "answer", r); !errors.Is(err, ErrBadICE) {
		t.Errorf("candidate %d: %v, want ErrBadICE", maxCandidates+1, err)
	}
}
