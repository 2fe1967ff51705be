package sfu

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"
)

// maxResendsPerSecond bounds the retransmissions of one published track, for
// all its subscribers together: about three times a 360p track's own rate.
const maxResendsPerSecond = 200

// keyframeInterval is the least time between two keyframe requests sent to a
// publisher for one layer; requests in between are folded into one at the
// end of the interval.
const keyframeInterval = 500 * time.Millisecond

// maxLayers is how many simulcast layers a published video may have.
const maxLayers = 3

// forwarder is one published track (a video with one to maxLayers simulcast
// layers, or an audio track) and its subscribers' downTracks.
type forwarder struct {
	room      *Room
	publisher *Peer
	pc        *webrtc.PeerConnection // the connection it arrives on
	receiver  *webrtc.RTPReceiver    // groups the layers of one simulcast track
	id        string
	kind      webrtc.RTPCodecType
	codec     webrtc.RTPCodecCapability
	audio     bool
	layered   bool          // its publisher sends simulcast layers, named by rid
	announced []string      // the rids its publisher announced, in order
	mid       string        // its media section, when announced by a publish offer
	resends   *rate.Limiter // bounds what NACKs cost: a saturated server must not feed a retransmission storm
	seq       uint64        // its place in the room's order of tracks
	levelID   uint8         // audio: the audio-level extension's id, 0 when not negotiated
	lastVoice atomic.Int64  // audio: unix nanoseconds of the last packet with voice in it

	layers [maxLayers]atomic.Pointer[layer]
	rids   [maxLayers]string // by layer, once known
	// expected are the layers the publisher announced (its rids), arrived
	// or not: a layer stopped before its first packet is still asked for.
	expected [maxLayers]bool
	downs    atomic.Pointer[[]*downTrack]
	downsMu  sync.Mutex   // serializes changes to downs
	live     atomic.Int32 // layers being read

	// Owned by the room's allocator (under Room.mu).
	used [maxLayers]bool

	// Counters.
	in           atomic.Uint64
	droppedQuiet atomic.Uint64
	droppedMuted atomic.Uint64
	droppedCap   atomic.Uint64            // above its publisher's cap (ingress.go)
	packetsOut   [maxLayers]atomic.Uint64 // video by layer; audio in [0]
	bytesOut     [maxLayers]atomic.Uint64
}

// layer is one simulcast layer of a published video (or the one track of a
// publisher that sends a single layer, or audio).
type layer struct {
	index  int
	rid    string
	remote *webrtc.TrackRemote
	cache  *packetCache // video only: to answer subscribers' NACKs

	lastPacket      atomic.Int64  // unix nanoseconds
	bytesIn         atomic.Uint64 // received, for its bitrate
	width           atomic.Uint32 // of its keyframes, once seen
	lastKeyframeReq atomic.Int64
	keyframeQueued  atomic.Bool
	overCap         bool // the picture being received is dropped: its publisher is over its cap (read loop only)

	// Its bitrate, measured by the room's allocator (under Room.mu).
	rate      float64 // bits per second, smoothed; 0 until measured
	lastBytes uint64
	lastAt    int64
}

// newForwarder makes the forwarder of a track p publishes on pc, before or
// at its first packet. rids are the simulcast layers its publisher
// announced, in the order announced (none for a track of one layer).
func newForwarder(r *Room, p *Peer, pc *webrtc.PeerConnection, receiver *webrtc.RTPReceiver, kind webrtc.RTPCodecType, codec webrtc.RTPCodecCapability, rids []string) *forwarder {
	f := &forwarder{
		room:      r,
		publisher: p,
		pc:        pc,
		receiver:  receiver,
		seq:       r.trackSeq.Add(1),
		kind:      kind,
		codec:     codec,
		audio:     kind == webrtc.RTPCodecTypeAudio,
		layered:   len(rids) > 0,
		announced: rids,
	}
	f.id = fmt.Sprintf("%s-%s-%d", kind, p.id, f.seq)
	if !f.audio {
		f.resends = rate.NewLimiter(maxResendsPerSecond, maxResendsPerSecond)
	} else if receiver != nil {
		for _, e := range receiver.GetParameters().HeaderExtensions {
			if e.URI == sdp.AudioLevelURI {
				f.levelID = uint8(e.ID)
			}
		}
	}
	for _, rid := range rids {
		if i := layerIndex(rid, rids); i >= 0 {
			f.expected[i], f.rids[i] = true, rid
		}
	}
	f.downs.Store(&[]*downTrack{})
	// As if every layer were received, so that the first allocation tells
	// a publisher nobody watches to stop.
	f.used = [maxLayers]bool{true, true, true}
	return f
}

// receivedRIDs are the rids of the layers a receiver has tracks for, in its
// order: what a publisher announced, for a track that arrived unannounced.
func receivedRIDs(receiver *webrtc.RTPReceiver, remote *webrtc.TrackRemote) []string {
	if remote.RID() == "" || receiver == nil {
		return nil
	}
	var rids []string
	for _, t := range receiver.Tracks() {
		if t.RID() != "" {
			rids = append(rids, t.RID())
		}
	}
	return rids
}

// layerIndex places a layer by its rid: q/l, h/m, f by name (as LiveKit's
// and most clients' rids go), else by its place among the announced rids,
// lowest first; a track without rid is layer 0.
func layerIndex(rid string, announced []string) int {
	switch rid {
	case "":
		return 0
	case "q", "l", "low":
		return 0
	case "h", "m", "mid":
		return 1
	case "f", "high":
		return 2
	}
	for i, r := range announced {
		if r == rid && i < maxLayers {
			return i
		}
	}
	return -1
}

// addLayer starts forwarding one more layer; false when it has no place.
func (f *forwarder) addLayer(remote *webrtc.TrackRemote) (*layer, bool) {
	i := layerIndex(remote.RID(), f.announced)
	if i < 0 || f.layers[i].Load() != nil {
		return nil, false
	}
	l := &layer{index: i, rid: remote.RID(), remote: remote}
	if !f.audio {
		l.cache = &packetCache{}
	}
	f.rids[i] = l.rid
	f.layers[i].Store(l)
	f.live.Add(1)
	return l, true
}

// has tells whether f has, or expects, layer i.
func (f *forwarder) has(i int) bool { return f.expected[i] || f.layers[i].Load() != nil }

func (f *forwarder) layer(i int) *layer {
	if i < 0 || i >= maxLayers {
		return nil
	}
	return f.layers[i].Load()
}

func (f *forwarder) addDown(d *downTrack) {
	f.downsMu.Lock()
	old := *f.downs.Load()
	next := append(append(make([]*downTrack, 0, len(old)+1), old...), d)
	f.downs.Store(&next)
	f.downsMu.Unlock()
}

func (f *forwarder) removeDown(d *downTrack) {
	f.downsMu.Lock()
	old := *f.downs.Load()
	next := make([]*downTrack, 0, len(old))
	for _, x := range old {
		if x != d {
			next = append(next, x)
		}
	}
	f.downs.Store(&next)
	f.downsMu.Unlock()
}

// run forwards one layer's packets until its track ends. Audio is dropped
// here while the room is quiet or the publisher is muted: the one place
// every packet passes, so no client can get around it. The packet buffer
// and the parsed packet are reused: nothing is allocated per packet.
func (f *forwarder) run(l *layer) {
	defer func() {
		if f.live.Add(-1) == 0 {
			f.room.unpublish(f)
		}
	}()
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := l.remote.Read(buf)
		if err != nil {
			return
		}
		f.forward(l, buf[:n], &pkt)
	}
}

// forward handles one packet from the publisher: the media policy, then the
// fan-out. pkt is scratch space reused from packet to packet.
func (f *forwarder) forward(l *layer, raw []byte, pkt *rtp.Packet) {
	f.in.Add(1)
	l.bytesIn.Add(uint64(len(raw)))
	if f.audio {
		if f.room.audioOff.Load() {
			f.droppedQuiet.Add(1)
			return
		}
		if f.publisher.muted.Load() {
			f.droppedMuted.Add(1)
			return
		}
	}
	if err := pkt.Unmarshal(raw); err != nil {
		return
	}
	if f.audio {
		if !f.publisher.ingress.take(len(raw), true, time.Now().UnixNano()) {
			f.droppedCap.Add(1)
			return
		}
		f.noteVoice(&pkt.Header)
	}
	// The publisher's header extensions (its transport-wide sequence
	// numbers, mid and rid) mean nothing on a subscriber's connection.
	pkt.Header.Extension = false
	pkt.Header.Extensions = pkt.Header.Extensions[:0]
	downs := *f.downs.Load()
	var sent uint64
	if f.audio {
		now := time.Now().UnixNano()
		seq, ts := pkt.SequenceNumber, pkt.Timestamp
		for _, d := range downs {
			pkt.SequenceNumber, pkt.Timestamp = seq, ts
			if d.writeAudio(f, pkt, now) {
				sent++
			}
		}
	} else {
		var vp vp8Desc
		if parseVP8(pkt.Payload, &vp) != nil {
			return
		}
		now := time.Now().UnixNano()
		// A picture starts only within the cap, and is then sent whole.
		if vp.start {
			l.overCap = !f.publisher.ingress.take(len(raw), true, now)
		} else if !l.overCap {
			f.publisher.ingress.take(len(raw), false, now)
		}
		if l.overCap {
			f.droppedCap.Add(1)
			return
		}
		l.lastPacket.Store(now)
		if vp.width != 0 {
			l.width.Store(uint32(vp.width))
		}
		l.cache.store(pkt)
		seq, ts := pkt.SequenceNumber, pkt.Timestamp
		wantKeyframe := false
		for _, d := range downs {
			pkt.SequenceNumber, pkt.Timestamp = seq, ts
			ok, want := d.writeVideo(f, l.index, pkt, &vp, now)
			if ok {
				sent++
			}
			wantKeyframe = wantKeyframe || want
		}
		if wantKeyframe {
			f.requestKeyframe(l.index)
		}
	}
	if sent > 0 {
		f.packetsOut[l.index].Add(sent)
		f.bytesOut[l.index].Add(sent * uint64(len(raw)))
	}
}

// voiceLevel is the audio level (in -dBov, lower is louder) up to which a
// packet counts as voice when its publisher's voice-activity flag is not
// set: quieter than this is a room's background.
const voiceLevel = 50

// noteVoice records when f last carried voice, from the packet's audio
// level (RFC 6464); without the extension every packet counts.
func (f *forwarder) noteVoice(h *rtp.Header) {
	if f.levelID != 0 {
		ext := h.GetExtension(f.levelID)
		if len(ext) == 0 || (ext[0]&0x80 == 0 && ext[0]&0x7f > voiceLevel) {
			return
		}
	}
	f.lastVoice.Store(time.Now().UnixNano())
}

// resend answers a subscriber's NACK: the packets it lists that are still
// cached go again, to that subscriber only.
func (f *forwarder) resend(d *downTrack, nack *rtcp.TransportLayerNack) {
	if f.audio {
		return
	}
	var pkt rtp.Packet
	for _, pair := range nack.Nacks {
		pair.Range(func(seq uint16) bool {
			if !f.resends.Allow() {
				return false
			}
			d.resend(seq, &pkt)
			return true
		})
	}
}

// requestKeyframe asks the publisher for a keyframe on layer i, at most once
// per keyframeInterval; a request inside the interval is sent when it ends.
func (f *forwarder) requestKeyframe(i int) {
	l := f.layer(i)
	if f.audio || l == nil || f.pc == nil {
		return
	}
	now := time.Now().UnixNano()
	last := l.lastKeyframeReq.Load()
	if wait := time.Duration(last + int64(keyframeInterval) - now); wait > 0 {
		if l.keyframeQueued.CompareAndSwap(false, true) {
			time.AfterFunc(wait, func() {
				l.keyframeQueued.Store(false)
				f.requestKeyframe(i)
			})
		}
		return
	}
	if !l.lastKeyframeReq.CompareAndSwap(last, now) {
		return
	}
	_ = f.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(l.remote.SSRC())}})
}
