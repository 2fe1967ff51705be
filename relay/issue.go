package relay

import (
	"fmt"
	"net"
	"net/netip"
	"time"
)

// ICEServer is one entry of RTCConfiguration.iceServers.
type ICEServer struct {
	URLs       []string
	Username   string
	Credential string
}

// Issuer hands out credentials for a set of TURN URLs sharing one secret:
// the built-in relay's, or an external TURN server's.
type Issuer struct {
	URLs   []string
	Secret []byte
}

// Issue makes the ICE server entry for participant id, valid until expiry.
func (i Issuer) Issue(id string, expiry time.Time) ICEServer {
	user, cred := Credentials(i.Secret, id, expiry)
	return ICEServer{URLs: append([]string(nil), i.URLs...), Username: user, Credential: cred}
}

// LocalIPs are the IPv4 addresses the SFU can be reached on from this
// machine: every interface's (only loopback when loopbackOnly), and public
// when the SFU announces one (1:1 NAT).
func LocalIPs(loopbackOnly bool, public string) ([]netip.Addr, error) {
	var out []netip.Addr
	if loopbackOnly {
		out = append(out, netip.AddrFrom4([4]byte{127, 0, 0, 1}))
	} else {
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			return nil, fmt.Errorf("relay: list addresses: %w", err)
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is4() {
					out = append(out, ip.Unmap())
				}
			}
		}
	}
	if public != "" {
		ip, err := netip.ParseAddr(public)
		if err != nil {
			return nil, fmt.Errorf("relay: public ip %q: %w", public, err)
		}
		out = append(out, ip.Unmap())
	}
	return out, nil
}
