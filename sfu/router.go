// Package sfu forwards media between the participants of a room with
// pion/webrtc: one PeerConnection per participant carrying everything they
// receive (the server makes its offers) and what a v1 client publishes; a
// client that publishes simulcast does so on a second connection of its own
// offer. Each subscriber has its own downTrack of every published track: it
// picks one simulcast layer and temporal cap from the subscriber's tiles and
// the room's mode, and rewrites the stream so layer switches are seamless.
//
// A Router owns the webrtc.API (codecs, interceptors, and one UDP port for all
// peers through the ICE UDP mux, ICE-TCP on the same port number) and makes
// Rooms. A Room fans out each published track to every other peer and applies
// the media policy (audio forwarded or dropped) in its forwarding loop, so a
// client cannot get around it. Outbound signaling is the small Signaler
// interface: this package knows nothing of websockets or sessions.
package sfu

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"go.uber.org/zap"
)

// Config says how the router reaches the network.
type Config struct {
	// UDPPort is the one UDP port all media uses (ICE-TCP listens on the same
	// number). 0 picks a free port, for tests.
	UDPPort int
	// PublicIP, when set, is announced instead of the host's own addresses
	// (a server behind 1:1 NAT).
	PublicIP string
	// LoopbackOnly keeps every candidate on 127.0.0.1, for tests and demos.
	LoopbackOnly bool
	// IncludeLoopback offers 127.0.0.1 beside the other addresses: for a
	// server whose pages are only served on this machine.
	IncludeLoopback bool
	// DisableTCP turns ICE-TCP off.
	DisableTCP bool
	// PublishBitrate caps what one publisher sends, all its tracks
	// together, in bits per second: 0 is DefaultPublishBitrate, below 0 no
	// cap.
	PublishBitrate int
}

// PublishBitrate is the cap on what one publisher sends, in bits per
// second; 0 when there is none.
func (r *Router) PublishBitrate() int { return r.publishBitrate }

// Router makes rooms that share one webrtc.API and one media port.
type Router struct {
	api     *webrtc.API
	log     *zap.Logger
	udpConn net.PacketConn
	tcpLn   net.Listener
	udpMux  ice.UDPMux
	tcpMux  ice.TCPMux
	port    int

	closers    sync.WaitGroup // peer connections closing in the background
	totals     totals
	estimators sync.Map // connection id -> its cc.BandwidthEstimator, until newPC takes it
	reach      *reach   // which candidates' addresses it sends to
	// publishBitrate caps each publisher, in bits per second; 0: none.
	publishBitrate int
}

// NewRouter opens the media port and builds the API.
func NewRouter(cfg Config, log *zap.Logger) (*Router, error) {
	r := &Router{log: log, reach: newReach(cfg), publishBitrate: max(cfg.PublishBitrate, 0)}
	if cfg.PublishBitrate == 0 {
		r.publishBitrate = DefaultPublishBitrate
	}
	if err := r.listen(cfg); err != nil {
		return nil, err
	}

	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m); err != nil {
		r.closeSockets()
		return nil, err
	}
	reg := &interceptor.Registry{}
	estimators, err := r.estimatorInterceptor()
	if err != nil {
		r.closeSockets()
		return nil, err
	}
	reg.Add(estimators)
	if err := configureInterceptors(m, reg); err != nil {
		r.closeSockets()
		return nil, err
	}

	se := webrtc.SettingEngine{LoggerFactory: pionLoggerFactory{log: log.Named("pion")}}
	// GCM first: several times cheaper per packet than AES-CM + HMAC-SHA1.
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICETimeouts(5*time.Second, 15*time.Second, 2*time.Second)
	se.SetICEUDPMux(r.udpMux)
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if r.tcpMux != nil {
		se.SetICETCPMux(r.tcpMux)
		types = append(types, webrtc.NetworkTypeTCP4)
	}
	se.SetNetworkTypes(types)
	if cfg.IncludeLoopback {
		se.SetIncludeLoopbackCandidate(true)
	}
	if cfg.LoopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	if cfg.PublicIP != "" {
		if net.ParseIP(cfg.PublicIP) == nil {
			r.closeSockets()
			return nil, fmt.Errorf("public ip %q is not an IP address", cfg.PublicIP)
		}
		err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        []string{cfg.PublicIP},
			AsCandidateType: webrtc.ICECandidateTypeHost,
		})
		if err != nil {
			r.closeSockets()
			return nil, fmt.Errorf("announce public ip: %w", err)
		}
	}

	r.api = webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	return r, nil
}

// listen opens the UDP port and, unless disabled, a TCP listener on the same
// number. With port 0 it retries when the TCP number happens to be taken.
func (r *Router) listen(cfg Config) error {
	ip := net.IPv4zero
	if cfg.LoopbackOnly {
		ip = net.IPv4(127, 0, 0, 1)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip, Port: cfg.UDPPort})
		if err != nil {
			return fmt.Errorf("listen on media port udp/%d: %w", cfg.UDPPort, err)
		}
		r.sizeBuffers(udp)
		port := udp.LocalAddr().(*net.UDPAddr).Port
		var tcp net.Listener
		if !cfg.DisableTCP {
			tcp, err = net.ListenTCP("tcp4", &net.TCPAddr{IP: ip, Port: port})
			if err != nil {
				udp.Close()
				lastErr = fmt.Errorf("listen on media port tcp/%d: %w", port, err)
				if cfg.UDPPort != 0 {
					return lastErr
				}
				continue
			}
		}
		r.udpConn, r.tcpLn, r.port = udp, tcp, port
		r.udpMux = webrtc.NewICEUDPMux(nil, udp)
		if tcp != nil {
			r.tcpMux = webrtc.NewICETCPMux(nil, tcp, 64)
		}
		return nil
	}
	return lastErr
}

// Port is the media port in use.
func (r *Router) Port() int { return r.port }

func (r *Router) closeSockets() {
	if r.udpMux != nil {
		r.udpMux.Close()
	} else if r.udpConn != nil {
		r.udpConn.Close()
	}
	if r.tcpMux != nil {
		r.tcpMux.Close()
	} else if r.tcpLn != nil {
		r.tcpLn.Close()
	}
}

// Close waits for peer connections that are closing and releases the port.
// Rooms should be closed first.
func (r *Router) Close() error {
	r.closers.Wait()
	r.closeSockets()
	return nil
}

// closePC closes a peer connection in the background; Close waits for it.
func (r *Router) closePC(pc *webrtc.PeerConnection) {
	r.closers.Add(1)
	go func() {
		defer r.closers.Done()
		if err := pc.GracefulClose(); err != nil && !errors.Is(err, webrtc.ErrConnectionClosed) {
			r.log.Debug("close peer connection", zap.Error(err))
		}
	}()
}

// NewRoom makes an empty room.
func (r *Router) NewRoom(id string) *Room {
	return newRoom(r, id)
}

func registerCodecs(m *webrtc.MediaEngine) error {
	videoFB := []webrtc.RTCPFeedback{
		{Type: "ccm", Parameter: "fir"},
		{Type: "nack"},
		{Type: "nack", Parameter: "pli"},
		{Type: webrtc.TypeRTCPFBTransportCC},
	}
	err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFB},
		PayloadType:        96,
	}, webrtc.RTPCodecTypeVideo)
	if err != nil {
		return fmt.Errorf("register VP8: %w", err)
	}
	err = m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine:  "minptime=10;useinbandfec=1",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}},
		},
		PayloadType: 111,
	}, webrtc.RTPCodecTypeAudio)
	if err != nil {
		return fmt.Errorf("register Opus: %w", err)
	}
	// Simulcast: a browser names each layer's stream by mid and rid.
	for _, uri := range []string{sdp.SDESMidURI, sdp.SDESRTPStreamIDURI, sdp.SDESRepairRTPStreamIDURI} {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeVideo); err != nil {
			return fmt.Errorf("register header extension %s: %w", uri, err)
		}
	}
	// Audio levels: which publishers are speaking, for a subscriber's
	// audio slots.
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return fmt.Errorf("register header extension %s: %w", sdp.AudioLevelURI, err)
	}
	return nil
}

// configureInterceptors keeps what an SFU needs: NACKs to publishers for
// lost packets, RTCP reports, and transport-wide congestion feedback to
// publishers. Subscribers' NACKs are answered by the forwarders from one
// packet cache per published track, not by Pion's responder, which keeps a
// buffer per outgoing stream.
func configureInterceptors(m *webrtc.MediaEngine, reg *interceptor.Registry) error {
	generator, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return fmt.Errorf("configure NACK: %w", err)
	}
	reg.Add(generator)
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return fmt.Errorf("configure RTCP reports: %w", err)
	}
	if err := webrtc.ConfigureTWCCSender(m, reg); err != nil {
		return fmt.Errorf("configure TWCC: %w", err)
	}
	return nil
}
