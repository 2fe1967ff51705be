package web

import (
	"github.com/worktogether/worktogether/signaling"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
	"github.com/worktogether/worktogether/relay"
	"github.com/worktogether/worktogether/sfu"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

var relaySecret = []byte("relay-secret-for-the-signaling-tests")

// newRelayHarness is a harness with the built-in relay on loopback, its
// credentials handed out in welcome, and nothing else in ice_servers.
func newRelayHarness(t *testing.T) (*harness, *relay.Server) {
	return relayHarness(t, netip.Addr{})
}

// relayHarness is newRelayHarness with the SFU announcing nat, an address
// that is not this machine's, as a server behind 1:1 NAT does.
func relayHarness(t *testing.T, nat netip.Addr) (*harness, *relay.Server) {
	t.Helper()
	var rs *relay.Server
	peers := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	if nat.IsValid() {
		peers = append(peers, nat)
	}
	h := buildHarness(t, Limits{}, false, tuning{router: func(c *sfu.Config) {
		if nat.IsValid() {
			c.PublicIP = nat.String()
		}
	}, server: func(h *harness, cfg *Config) {
		var err error
		rs, err = relay.New(relay.Config{
			UDPAddr:  "127.0.0.1:0",
			TCPAddr:  "127.0.0.1:0",
			RelayIP:  netip.MustParseAddr("127.0.0.1"),
			PeerIPs:  peers,
			PeerPort: h.router.Port(),
			NATIP:    nat,
			Secret:   relaySecret,
			Log:      zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rs.Close() })
		is := relay.Issuer{URLs: rs.URLs("127.0.0.1"), Secret: relaySecret}
		cfg.TURN = func(id string, now time.Time, ttl time.Duration) []ICEServer {
			s := is.Issue(id, now.Add(ttl))
			return []ICEServer{{URLs: s.URLs, Username: s.Username, Credential: s.Credential}}
		}
	}})
	return h, rs
}

func TestWelcomeCarriesOwnShortLivedTURNCredentials(t *testing.T) {
	h, _ := newRelayHarness(t)
	sess := h.runningSession(0)
	_, w1 := h.join(h.invite(sess.ID, "Ada", "").Token, testpeer.Options{})
	_, w2 := h.join(h.invite(sess.ID, "Bo", "").Token, testpeer.Options{})
	creds := map[string]bool{}
	for _, w := range []signaling.MsgWelcome{w1, w2} {
		if len(w.ICEServers) != 1 {
			t.Fatalf("ice_servers %+v, want the relay", w.ICEServers)
		}
		s := w.ICEServers[0]
		expiry, id, ok := relay.ParseUsername(s.Username)
		if !ok || id != w.You.ID {
			t.Fatalf("username %q is not <expiry>:%s", s.Username, w.You.ID)
		}
		if d := time.Until(expiry); d < 11*time.Hour || d > 13*time.Hour {
			t.Fatalf("credential good for %v, want the 12 h default", d)
		}
		if want, _ := relay.Credentials(relaySecret, id, expiry); want != s.Username {
			t.Fatalf("username %q, want %q", s.Username, want)
		}
		if _, cred := relay.Credentials(relaySecret, id, expiry); cred != s.Credential {
			t.Fatal("credential is not the HMAC of the username")
		}
		if len(s.URLs) != 2 || !strings.HasSuffix(s.URLs[0], "?transport=udp") || !strings.HasSuffix(s.URLs[1], "?transport=tcp") {
			t.Fatalf("urls %v", s.URLs)
		}
		creds[s.Credential] = true
	}
	if len(creds) != 2 {
		t.Fatal("two participants got the same credential")
	}
}

func TestPeersJoinThroughTheRelayOnly(t *testing.T) {
	h, rs := newRelayHarness(t)
	joinThroughRelay(t, h, rs)
}

// Behind 1:1 NAT the SFU announces its public address, which this machine
// cannot reach itself (192.0.2.10 is nowhere here): the relay takes what is
// relayed to it to the SFU on loopback.
func TestPeersJoinThroughTheRelayBehindNAT(t *testing.T) {
	h, rs := relayHarness(t, netip.MustParseAddr("192.0.2.10"))
	joinThroughRelay(t, h, rs)
}

func joinThroughRelay(t *testing.T, h *harness, rs *relay.Server) {
	t.Helper()
	sess := h.runningSession(0)
	relayed := testpeer.Options{IVF: testIVF, Ogg: testOgg, RelayOnly: true}
	a, wa := h.join(h.invite(sess.ID, "Ada", "").Token, relayed)
	b, wb := h.join(h.invite(sess.ID, "Bo", "").Token, media)
	receivesFrom(t, a, "Ada (relayed)", []string{wb.You.ID}, 20)
	receivesFrom(t, b, "Bo", []string{wa.You.ID}, 20)
	// Ada's connection really goes through the relay: its selected pair's
	// local candidate is a relay candidate, and the relay holds allocations.
	pair, err := a.PC().SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		t.Fatalf("selected pair: %v %v", pair, err)
	}
	if pair.Local.Typ.String() != "relay" {
		t.Fatalf("Ada's selected local candidate is %s, want relay", pair.Local.Typ)
	}
	if st := rs.Stats(); st.Allocations == 0 {
		t.Fatalf("relay stats %+v: no allocation", st)
	}
}

func TestConnectionCheckHandsOutCheckCredentials(t *testing.T) {
	h, _ := newRelayHarness(t)
	sess := h.runningSession(0)
	inv := h.invite(sess.ID, "Ada", "")
	var out connectionCheckResponse
	if code := h.do("GET", "/api/connection-check?t="+inv.Token+"&session="+sess.ID, "", nil, &out); code != http.StatusOK {
		t.Fatalf("check: %d", code)
	}
	if !out.Relay || len(out.ICEServers) != 1 {
		t.Fatalf("check answer %+v", out)
	}
	expiry, id, ok := relay.ParseUsername(out.ICEServers[0].Username)
	if !ok || !strings.HasSuffix(id, checkSuffix) || time.Until(expiry) > checkTTL+time.Second {
		t.Fatalf("check credential %q", out.ICEServers[0].Username)
	}
	var e apiError
	if code := h.do("GET", "/api/connection-check?t=forged", "", nil, &e); code != http.StatusUnauthorized || e.Error.Code != "unauthorized" {
		t.Fatalf("forged token: %d %+v", code, e)
	}
	// A participant gets a few checks, then has to wait.
	limited := false
	for i := 0; i < 10 && !limited; i++ {
		limited = h.do("GET", "/api/connection-check?t="+inv.Token, "", nil, nil) == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("ten checks in a row were all answered")
	}
}
