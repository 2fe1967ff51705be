package testpeer

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// RIDs are the rids a simulcast test peer publishes, lowest layer first, as
// the browser client does.
var RIDs = []string{"q", "h", "f"}

// l1t3 is the temporal layer of each picture in three temporal layers.
var l1t3 = [4]uint8{0, 2, 1, 2}

// simulcast is a peer's publish connection (protocol v2): its own offer,
// the server's publish_answer, one VP8 track in up to three layers, each
// packetized here with a VP8 descriptor carrying picture id, TL0PICIDX and
// temporal layer, and stamped.
type simulcast struct {
	p      *Peer
	pc     *webrtc.PeerConnection
	layers [][][]byte
	tracks []*webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender

	midID, ridID uint8
	mid          atomic.Value // string, once negotiated

	mu     sync.Mutex
	active map[string]bool // by rid: what the server last said anyone receives
	// keyframe[i] asks layer i to send a keyframe next (after a PLI).
	keyframe []atomic.Bool
	sent     []atomic.Uint64 // packets sent, by layer
	offered  bool
	answered bool
	pending  []webrtc.ICECandidateInit // candidates that came before the answer
	start    sync.Once
}

// candidate adds a candidate of the server's publish side, held until the
// answer is applied.
func (s *simulcast) candidate(c webrtc.ICECandidateInit) {
	s.mu.Lock()
	if !s.answered {
		s.pending = append(s.pending, c)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	_ = s.pc.AddICECandidate(c)
}

// Active tells whether the server last said rid of our simulcast video is
// received (every rid is active until the server says otherwise).
func (p *Peer) Active(rid string) bool {
	return p.sim != nil && p.sim.isActive(rid)
}

// SentPackets is how many RTP packets the simulcast publisher sent on rid.
func (p *Peer) SentPackets(rid string) uint64 {
	if p.sim == nil {
		return 0
	}
	for i, r := range RIDs {
		if r == rid && i < len(p.sim.sent) {
			return p.sim.sent[i].Load()
		}
	}
	return 0
}

func (p *Peer) newSimulcast(api *webrtc.API, layers [][][]byte, conf webrtc.Configuration) error {
	if len(layers) < 1 || len(layers) > len(RIDs) {
		return fmt.Errorf("simulcast takes 1 to %d layers", len(RIDs))
	}
	pc, err := api.NewPeerConnection(conf)
	if err != nil {
		return fmt.Errorf("publish connection: %w", err)
	}
	s := &simulcast{p: p, pc: pc, layers: layers, active: map[string]bool{}, keyframe: make([]atomic.Bool, len(layers))}
	p.sim = s
	p.sim.sent = make([]atomic.Uint64, len(layers))
	for i := range layers {
		track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
			"video", "local", webrtc.WithRTPStreamID(RIDs[i]))
		if err != nil {
			return err
		}
		s.tracks = append(s.tracks, track)
		if i == 0 {
			if s.sender, err = pc.AddTrack(track); err != nil {
				return fmt.Errorf("add simulcast video: %w", err)
			}
		} else if err := s.sender.AddEncoding(track); err != nil {
			return fmt.Errorf("add layer %s: %w", RIDs[i], err)
		}
	}
	for _, ext := range s.sender.GetParameters().HeaderExtensions {
		switch ext.URI {
		case sdp.SDESMidURI:
			s.midID = uint8(ext.ID)
		case sdp.SDESRTPStreamIDURI:
			s.ridID = uint8(ext.ID)
		}
	}
	if s.midID == 0 || s.ridID == 0 {
		return fmt.Errorf("simulcast header extensions not negotiated")
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			_ = p.Send(map[string]any{"type": "candidate", "candidate": c.ToJSON(), "pc": "publish"})
		}
	})
	for i := range layers {
		p.wg.Add(1)
		go s.readRTCP(i)
	}
	return nil
}

// offer sends the publish offer, once, after the server's first offer.
func (s *simulcast) offer() error {
	s.mu.Lock()
	if s.offered {
		s.mu.Unlock()
		return nil
	}
	s.offered = true
	s.mu.Unlock()
	off, err := s.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("publish offer: %w", err)
	}
	if err := s.pc.SetLocalDescription(off); err != nil {
		return fmt.Errorf("publish offer: %w", err)
	}
	return s.p.Send(map[string]any{"type": "publish_offer", "sdp": off.SDP})
}

func (s *simulcast) answer(msg Message) error {
	var a struct {
		SDP string `json:"sdp"`
	}
	if err := msg.Decode(&a); err != nil {
		return err
	}
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: a.SDP}); err != nil {
		return fmt.Errorf("set publish answer: %w", err)
	}
	for _, tr := range s.pc.GetTransceivers() {
		if tr.Sender() == s.sender {
			s.mid.Store(tr.Mid())
		}
	}
	s.mu.Lock()
	s.answered = true
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	for _, c := range pending {
		_ = s.pc.AddICECandidate(c)
	}
	s.startOnce()
	return nil
}

func (s *simulcast) layersNotice(msg Message) {
	var l struct {
		RIDs []string `json:"rids"`
	}
	if json.Unmarshal(msg.Raw, &l) != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rid := range RIDs {
		s.active[rid] = false
	}
	for _, rid := range l.RIDs {
		s.active[rid] = true
	}
}

func (s *simulcast) isActive(rid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	on, told := s.active[rid]
	return on || !told
}

// readRTCP turns the server's keyframe requests about layer i into a
// keyframe on it: the file starts again at its first frame.
func (s *simulcast) readRTCP(i int) {
	defer s.p.wg.Done()
	for {
		pkts, _, err := s.sender.ReadSimulcastRTCP(RIDs[i])
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				s.p.KeyframeRequests.Add(1)
				s.keyframe[i].Store(true)
			}
		}
	}
}

// startOnce starts one sending loop per layer when the publish connection
// is first answered.
func (s *simulcast) startOnce() {
	s.start.Do(func() {
		for i := range s.layers {
			s.p.wg.Add(1)
			go s.sendLayer(i)
		}
	})
}

// StampLayer is the simulcast layer a stamp's sequence number names: a
// layered publisher keeps its layer in the top byte.
func StampLayer(seq uint32) int { return int(seq >> 24) }

// sendLayer sends layer i's frames at 20 a second while the server says
// someone receives it (a browser stops encoding a layer nobody receives).
func (s *simulcast) sendLayer(i int) {
	defer s.p.wg.Done()
	frames := s.layers[i]
	packetizer := rtp.NewPacketizer(1200-StampLen-6, 96, 1, &codecs.VP8Payloader{}, rtp.NewRandomSequencer(), 90000)
	t := time.NewTicker(videoFrame)
	defer t.Stop()
	var seq uint32
	pic := uint16(i * 1000)
	var tl0 uint8
	frame, pictures := 0, 0
	wasActive := true
	for {
		select {
		case <-s.p.closed:
			return
		case <-t.C:
		}
		active := s.isActive(RIDs[i])
		if !active {
			wasActive = false
			continue
		}
		if !wasActive || s.keyframe[i].Swap(false) {
			frame = 0 // a layer starting again, or asked for, begins with a keyframe
			wasActive = true
		}
		tid := l1t3[pictures%4]
		if frame%len(frames) == 0 {
			tid = 0
		}
		if tid == 0 && pictures > 0 {
			tl0++
		}
		mid, _ := s.mid.Load().(string)
		for j, pkt := range packetizer.Packetize(frames[frame%len(frames)], uint32(videoFrame.Seconds()*90000)) {
			// Pion's payloader writes a one-byte descriptor; ours carries
			// the picture id, TL0PICIDX and temporal layer as Chrome's does.
			start := byte(0)
			if j == 0 {
				start = 0x10
			}
			desc := []byte{0x80 | start, 0xe0, 0x80 | byte(pic>>8), byte(pic), tl0, tid << 6}
			body := pkt.Payload[1:]
			payload := make([]byte, 0, len(desc)+len(body)+StampLen)
			payload = append(append(payload, desc...), body...)
			var st [StampLen]byte
			binary.BigEndian.PutUint32(st[0:4], stampMagic)
			binary.BigEndian.PutUint32(st[4:8], uint32(i)<<24|seq&0xffffff)
			binary.BigEndian.PutUint64(st[8:16], uint64(time.Now().UnixNano()))
			seq++
			pkt.Payload = append(payload, st[:]...)
			_ = pkt.Header.SetExtension(s.midID, []byte(mid))
			_ = pkt.Header.SetExtension(s.ridID, []byte(RIDs[i]))
			if s.tracks[i].WriteRTP(pkt) == nil {
				s.sent[i].Add(1)
			}
		}
		pic = (pic + 1) & 0x7fff
		frame++
		pictures++
	}
}
