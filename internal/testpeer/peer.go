// Package testpeer is a Worktogether client in Go for tests and the load tool:
// it speaks the websocket protocol, answers the server's offers with a Pion
// peer that keeps to 127.0.0.1, publishes VP8 and Opus from files, and counts
// the RTP it receives from each publisher. It knows the wire contract, not the
// server's insides.
package testpeer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Message is one server message, decoded loosely.
type Message struct {
	Type string
	Raw  json.RawMessage
}

// Decode decodes the message into v.
func (m Message) Decode(v any) error { return json.Unmarshal(m.Raw, v) }

// Options say what the peer publishes.
type Options struct {
	IVF string // VP8 video to publish, or "" for none
	// Frames, when set, are the VP8 frames to publish instead of reading IVF
	// (a load tool reads the file once for all its peers).
	Frames [][]byte
	Ogg    string // Opus audio to publish, or "" for none
	Audio  bool   // publish an audio track even without Ogg (silence frames)
	// Layers, when set, publishes video as VP8 simulcast on a publish
	// connection of the peer's own offer (protocol v2): one list of frames
	// per layer, lowest first, rids q, h, f; stamped, with three temporal
	// layers; a keyframe request restarts the layer at its first frame.
	Layers [][][]byte
	// Origin, when set, is sent as the websocket Origin header.
	Origin string
	// Stamp makes the video publisher packetize itself and append a Stamp
	// (sequence number, send time) to every RTP payload: the SFU forwards
	// payloads untouched, so receivers can measure loss and latency exactly.
	Stamp bool
	// OnTrack, when set, is asked once per received track for a handler that
	// then sees each of its RTP packets, parsed, with the arrival time. The
	// handler runs on the track's reader goroutine; pkt is reused.
	OnTrack func(streamID, kind string) func(pkt *rtp.Packet, arrival time.Time)
	// HoldICE holds the receiving connection's candidates, ours and the
	// server's, this long after Dial: a network where connecting takes a
	// while (a relay, a slow path), so that media is negotiated well before
	// the connection is up.
	HoldICE time.Duration
	// RelayOnly makes the peer wait for welcome and connect only through
	// the TURN servers it lists (ICETransportPolicy relay), as a browser on a
	// network that lets nothing else through would.
	RelayOnly bool
	// Slots, when set, asks for that many video slots (and the server's
	// default number of audio slots) instead of a track per publisher.
	Slots int
}

// Counter counts what arrived on one received track.
type Counter struct {
	Packets atomic.Uint64
	Bytes   atomic.Uint64
	First   atomic.Int64 // unix nanoseconds of the first packet
}

// Peer is one connected participant.
type Peer struct {
	conn *websocket.Conn
	pc   *webrtc.PeerConnection

	writeMu  sync.Mutex
	events   chan Message
	closed   chan struct{}
	once     sync.Once
	wg       sync.WaitGroup // media loops
	readDone chan struct{}

	mu       sync.Mutex
	received map[string]*Counter // "streamid/kind"
	answers  int
	closeErr error

	// CloseCode is the websocket close code the server sent, once closed.
	CloseCode atomic.Int32
	// KeyframeRequests counts the PLIs and FIRs the server sent about our
	// video.
	KeyframeRequests atomic.Int64

	sim *simulcast // the publish connection, when publishing simulcast

	slotRoutes slotRoutes                                        // what each slot carries, when asking for slots
	onTrack    func(string, string) func(*rtp.Packet, time.Time) // Options.OnTrack

	iceFrom time.Time                 // candidates wait until then (Options.HoldICE)
	early   []webrtc.ICECandidateInit // candidates that came before the first offer (read loop only)
}

// afterHold runs f once the candidates' hold is over.
func (p *Peer) afterHold(f func()) {
	if wait := time.Until(p.iceFrom); wait > 0 {
		time.AfterFunc(wait, f)
		return
	}
	f()
}

// LoopbackAPI returns a Pion API whose candidates stay on 127.0.0.1, with
// Pion's default interceptors, as a typical client has them.
func LoopbackAPI() (*webrtc.API, error) {
	return loopbackAPI(nil, webrtc.RegisterDefaultInterceptors)
}

// ShapedAPI is LoopbackAPI behind a shaped downlink: a browser on a weak
// line (Pion's default interceptors send the server transport-wide
// feedback, as browsers do). The sockets tell what the link did.
func ShapedAPI(l Link) (*webrtc.API, *Sockets, error) {
	sockets, err := NewShapedSockets(0, l)
	if err != nil {
		return nil, nil, err
	}
	api, err := loopbackAPI(sockets, webrtc.RegisterDefaultInterceptors)
	return api, sockets, err
}

// LoadAPI is LoopbackAPI with only NACKs and RTCP reports: what a load
// client needs to be a fair peer, without per-packet statistics work, so
// that many peers in one process cost less than the server they measure.
// Its sockets are opened through sockets, when not nil.
func LoadAPI(sockets *Sockets) (*webrtc.API, error) {
	return loopbackAPI(sockets, func(m *webrtc.MediaEngine, reg *interceptor.Registry) error {
		if err := webrtc.ConfigureNack(m, reg); err != nil {
			return err
		}
		return webrtc.ConfigureRTCPReports(reg)
	})
}

// FeedbackLoadAPI is LoadAPI that also sends the server transport-wide
// congestion feedback on what it receives, as browsers do: for a load
// client whose own bandwidth the server is to estimate.
func FeedbackLoadAPI(sockets *Sockets) (*webrtc.API, error) {
	return loopbackAPI(sockets, func(m *webrtc.MediaEngine, reg *interceptor.Registry) error {
		if err := webrtc.ConfigureNack(m, reg); err != nil {
			return err
		}
		if err := webrtc.ConfigureRTCPReports(reg); err != nil {
			return err
		}
		return webrtc.ConfigureTWCCSender(m, reg)
	})
}

func loopbackAPI(sockets *Sockets, interceptors func(*webrtc.MediaEngine, *interceptor.Registry) error) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if err := interceptors(m, reg); err != nil {
		return nil, err
	}
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	se := webrtc.SettingEngine{LoggerFactory: quiet}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if sockets != nil {
		se.SetNet(sockets)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)), nil
}

// ErrRefused is returned by Dial when the handshake is refused.
type ErrRefused struct{ Status int }

func (e ErrRefused) Error() string { return fmt.Sprintf("websocket refused with HTTP %d", e.Status) }

// Dial connects to wsURL (ws://host/ws?token=T) and starts answering offers.
// It does not wait for welcome: use Expect.
func Dial(ctx context.Context, api *webrtc.API, wsURL string, opt Options) (*Peer, error) {
	hdr := http.Header{}
	if opt.Origin != "" {
		hdr.Set("Origin", opt.Origin)
	}
	if opt.Slots > 0 {
		wsURL += "&video_slots=" + strconv.Itoa(opt.Slots)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.DialContext(ctx, wsURL, hdr)
	if err != nil {
		if resp != nil {
			return nil, ErrRefused{Status: resp.StatusCode}
		}
		return nil, fmt.Errorf("dial %s: %w", wsURL, err)
	}
	var conf webrtc.Configuration
	var welcome *Message
	if opt.RelayOnly {
		w, servers, err := readWelcome(ctx, conn)
		if err != nil {
			conn.Close()
			return nil, err
		}
		welcome = &w
		conf = webrtc.Configuration{ICEServers: servers, ICETransportPolicy: webrtc.ICETransportPolicyRelay}
	}
	pc, err := api.NewPeerConnection(conf)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("peer connection: %w", err)
	}
	p := &Peer{
		conn:     conn,
		pc:       pc,
		events:   make(chan Message, 4096),
		closed:   make(chan struct{}),
		readDone: make(chan struct{}),
		received: make(map[string]*Counter),
		iceFrom:  time.Now().Add(opt.HoldICE),
		onTrack:  opt.OnTrack,
	}
	err = p.publish(opt)
	if err == nil && opt.Layers != nil {
		err = p.newSimulcast(api, opt.Layers, conf)
	}
	if err != nil {
		close(p.readDone) // no read loop was started
		p.Close()
		return nil, err
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			p.afterHold(func() { _ = p.Send(map[string]any{"type": "candidate", "candidate": c.ToJSON()}) })
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if isSlot(tr.StreamID()) {
			p.readSlot(tr.StreamID(), func(b []byte) (int, error) { n, _, err := tr.Read(b); return n, err })
			return
		}
		key := tr.StreamID() + "/" + tr.Kind().String()
		p.mu.Lock()
		cnt := p.received[key]
		if cnt == nil {
			cnt = &Counter{}
			p.received[key] = cnt
		}
		p.mu.Unlock()
		buf := make([]byte, 1500)
		var pkt rtp.Packet
		var onRTP func(*rtp.Packet, time.Time)
		if opt.OnTrack != nil {
			onRTP = opt.OnTrack(tr.StreamID(), tr.Kind().String())
		}
		for {
			n, _, err := tr.Read(buf)
			if err != nil {
				return
			}
			now := time.Now()
			cnt.First.CompareAndSwap(0, now.UnixNano())
			cnt.Packets.Add(1)
			cnt.Bytes.Add(uint64(n))
			if onRTP != nil && pkt.Unmarshal(buf[:n]) == nil {
				onRTP(&pkt, now)
			}
		}
	})
	if welcome != nil {
		p.events <- *welcome
	}
	go p.readLoop()
	return p, nil
}

// readWelcome reads the first message, which must be welcome, and the ICE
// servers it carries.
func readWelcome(ctx context.Context, conn *websocket.Conn) (Message, []webrtc.ICEServer, error) {
	deadline := time.Now().Add(5 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetReadDeadline(deadline)
	defer conn.SetReadDeadline(time.Time{})
	_, data, err := conn.ReadMessage()
	if err != nil {
		return Message{}, nil, fmt.Errorf("read welcome: %w", err)
	}
	var w struct {
		Type       string             `json:"type"`
		ICEServers []webrtc.ICEServer `json:"ice_servers"`
	}
	if err := json.Unmarshal(data, &w); err != nil || w.Type != "welcome" {
		return Message{}, nil, fmt.Errorf("first message is not welcome: %.200s", data)
	}
	return Message{Type: w.Type, Raw: append(json.RawMessage(nil), data...)}, w.ICEServers, nil
}

// Send writes one message.
func (p *Peer) Send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return p.SendRaw(websocket.TextMessage, b)
}

// SendRaw writes one frame as it is.
func (p *Peer) SendRaw(kind int, b []byte) error {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	_ = p.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return p.conn.WriteMessage(kind, b)
}

func (p *Peer) readLoop() {
	defer close(p.readDone)
	defer close(p.events)
	for {
		_, data, err := p.conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				p.CloseCode.Store(int32(ce.Code))
			}
			p.mu.Lock()
			p.closeErr = err
			p.mu.Unlock()
			return
		}
		var head struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(data, &head)
		msg := Message{Type: head.Type, Raw: append(json.RawMessage(nil), data...)}
		switch head.Type {
		case "offer":
			err := p.answer(msg)
			if err == nil && p.sim != nil {
				err = p.sim.offer()
			}
			if err != nil {
				p.mu.Lock()
				p.closeErr = err
				p.mu.Unlock()
			}
		case "publish_answer":
			if p.sim != nil {
				if err := p.sim.answer(msg); err != nil {
					p.mu.Lock()
					p.closeErr = err
					p.mu.Unlock()
				}
			}
		case "slots":
			p.slotsNotice(msg, p.onTrack)
		case "layers":
			if p.sim != nil {
				p.sim.layersNotice(msg)
			}
		case "candidate":
			var c struct {
				Candidate webrtc.ICECandidateInit `json:"candidate"`
				PC        string                  `json:"pc"`
			}
			if msg.Decode(&c) == nil {
				if c.PC == "publish" && p.sim != nil {
					p.sim.candidate(c.Candidate)
				} else if p.pc.RemoteDescription() == nil {
					// Before the first offer: held until it is set (the
					// server's candidates may overtake its offer).
					p.early = append(p.early, c.Candidate)
				} else {
					p.afterHold(func() { _ = p.pc.AddICECandidate(c.Candidate) })
				}
			}
		}
		select {
		case p.events <- msg:
		default: // a test that does not read events must not stall media
		}
	}
}

func (p *Peer) answer(msg Message) error {
	var o struct {
		SDP string `json:"sdp"`
	}
	if err := msg.Decode(&o); err != nil {
		return err
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP}); err != nil {
		return fmt.Errorf("set offer: %w", err)
	}
	for _, c := range p.early {
		p.afterHold(func() { _ = p.pc.AddICECandidate(c) })
	}
	p.early = nil
	ans, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("create answer: %w", err)
	}
	if err := p.pc.SetLocalDescription(ans); err != nil {
		return fmt.Errorf("set answer: %w", err)
	}
	p.mu.Lock()
	p.answers++
	p.mu.Unlock()
	return p.Send(map[string]any{"type": "answer", "sdp": ans.SDP})
}

// Expect waits for the next message of type typ, skipping others, until ctx
// is done or the connection closes.
func (p *Peer) Expect(ctx context.Context, typ string) (Message, error) {
	return p.ExpectWhere(ctx, typ, nil)
}

// ExpectWhere waits for the next message of type typ for which match (if
// given) returns true.
func (p *Peer) ExpectWhere(ctx context.Context, typ string, match func(Message) bool) (Message, error) {
	for {
		select {
		case msg, ok := <-p.events:
			if !ok {
				return Message{}, fmt.Errorf("connection closed waiting for %s: %v", typ, p.Err())
			}
			if msg.Type == typ && (match == nil || match(msg)) {
				return msg, nil
			}
		case <-ctx.Done():
			return Message{}, fmt.Errorf("waiting for %s: %w", typ, ctx.Err())
		}
	}
}

// Err is why the connection ended, if it has.
func (p *Peer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closeErr
}

// Received returns the counter of the track of kind ("audio", "video")
// published by streamID, or nil if none arrived yet.
func (p *Peer) Received(streamID, kind string) *Counter {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.received[streamID+"/"+kind]
}

// Packets returns how many packets of kind arrived from streamID so far.
func (p *Peer) Packets(streamID, kind string) uint64 {
	if c := p.Received(streamID, kind); c != nil {
		return c.Packets.Load()
	}
	return 0
}

// PC is the underlying peer connection.
func (p *Peer) PC() *webrtc.PeerConnection { return p.pc }

// Conn is the underlying websocket.
func (p *Peer) Conn() *websocket.Conn { return p.conn }

// Close hangs up and waits for the peer's goroutines. The read loop stops
// before the peer connection closes: an offer answered while it closes could
// start ICE gathering after the close, leaving an agent behind.
func (p *Peer) Close() {
	p.once.Do(func() {
		close(p.closed)
		p.conn.Close()
		<-p.readDone
		_ = p.pc.GracefulClose()
		if p.sim != nil {
			_ = p.sim.pc.GracefulClose()
		}
	})
	p.wg.Wait()
}

// Answers is how many of the server's offers the peer has answered.
func (p *Peer) Answers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.answers
}
