package sfu

import (
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// noLayer is a downTrack's layer while it receives nothing.
const noLayer = -1

// allTemporal lets every temporal layer through.
const allTemporal = 3

// sentRing is how many packets a downTrack remembers it sent, to map a
// subscriber's NACK back to the published layer and packet: the size of a
// layer's packet cache.
const sentRing = cacheSize

// downTrack is one subscriber's copy of one published track: the local track
// its sender binds to. For video it picks one of the publisher's layers and
// rewrites what it sends (SSRC, sequence numbers, timestamps, VP8 picture id
// and TL0PICIDX) so the subscriber sees one continuous stream across layer
// switches and dropped temporal layers. Nothing here allocates per packet.
type downTrack struct {
	// src is the published track it carries: fixed for a track of its own,
	// changed by the allocator for a slot (see slots.go), nil for a slot
	// that carries nothing.
	src atomic.Pointer[forwarder]
	// What the subscriber's connection knows it as, fixed at creation.
	id, stream string
	kind       webrtc.RTPCodecType
	codec      webrtc.RTPCodecCapability
	audio      bool

	// Set by the allocator, read by the forwarding loops.
	target atomic.Int32 // the layer to receive, noLayer for none
	maxTID atomic.Int32 // the highest temporal layer to receive

	bound atomic.Bool
	conn  *egress // the subscriber connection's, shared by its downTracks

	mu          sync.Mutex
	ssrc        uint32
	payloadType uint8
	writer      webrtc.TrackLocalWriter
	current     int // the layer being forwarded, noLayer for none
	tidCap      int // the temporal cap in effect
	dropping    bool
	started     bool
	// out = in - offset, per field, for the current layer.
	seqOff  uint16
	tsOff   uint32
	picOff  uint16
	tl0Off  uint8
	lastSeq uint16
	lastTS  uint32
	lastPic uint16
	lastTL0 uint8
	lastAt  int64                 // unix nanoseconds of the last packet sent
	sent    *[sentRing]sentPacket // video only: audio is not resent
	scratch []byte
	twccID  uint8   // the transport-wide sequence number's extension id; 0 when not negotiated
	twccBuf [2]byte // its value, for the packet being written
	// padHeader is the header of the padding packets it sends (padding.go).
	padHeader rtp.Header
	// needKey makes the next source start at a keyframe only: set when a
	// slot changes publisher (a delta picture of another stream would not
	// decode).
	needKey bool
	// Audio numbering across a slot's changes of publisher: out = in - off.
	audioSeqOff  uint16
	audioTSOff   uint32
	audioSwitch  bool // the next packet starts a new source
	audioStarted bool
}

// egress is what the downTracks of one subscriber connection share.
type egress struct {
	// up is whether the connection is up: Pion drops what is written
	// before its SRTP starts, without an error, so nothing is sent (and no
	// keyframe spent) until then.
	up atomic.Bool
	// twcc numbers every packet sent on the connection (transport-wide
	// congestion control): the subscriber's feedback on them is what the
	// connection's bandwidth estimate is made of.
	twcc atomic.Uint32
	// feedback is whether the subscriber has sent transport-wide feedback:
	// only then does its estimate mean anything.
	feedback atomic.Bool
	// resends is what the connection may spend on resends (its share of
	// the estimate, set by the allocator): on a full line they only add to
	// what is lost.
	resends resendBudget
	// sizes remembers what the packets sent carried, by transport-wide
	// number, for reading its feedback (line.go).
	sizes sentSizes
	// padding is what a probe of the line may send beside the video
	// (padding.go).
	padding padBudget
}

// sentPacket is where a sent sequence number came from and what it carried.
type sentPacket struct {
	valid bool
	seq   uint16
	layer uint8
	inSeq uint16
	ts    uint32
	pic   uint16
	tl0   uint8
}

func newDownTrack(f *forwarder, conn *egress) *downTrack {
	d := newLocalTrack(f.id, f.publisher.id, f.kind, f.codec, conn)
	d.src.Store(f)
	return d
}

// newLocalTrack makes a downTrack the connection knows as track id of
// stream, carrying nothing until a source is set.
func newLocalTrack(id, stream string, kind webrtc.RTPCodecType, codec webrtc.RTPCodecCapability, conn *egress) *downTrack {
	d := &downTrack{id: id, stream: stream, kind: kind, codec: codec, audio: kind == webrtc.RTPCodecTypeAudio,
		conn: conn, current: noLayer, tidCap: allTemporal}
	d.target.Store(0)
	d.maxTID.Store(allTemporal)
	if !d.audio {
		d.scratch = make([]byte, 1500)
		d.sent = new([sentRing]sentPacket)
	}
	return d
}

// source is the forwarder it carries now, nil for none.
func (d *downTrack) source() *forwarder { return d.src.Load() }

// requestKeyframe asks its source for a keyframe of the layer it wants.
func (d *downTrack) requestKeyframe() {
	if f := d.source(); f != nil {
		f.requestKeyframe(int(d.target.Load()))
	}
}

// retarget makes it carry f from now on (nil: nothing). What it sends stays
// one continuous stream: the next source starts at its keyframe, numbered
// on from the last packet sent. The caller moves it between the forwarders'
// fan-outs.
func (d *downTrack) retarget(f *forwarder) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.src.Store(f)
	d.current, d.dropping, d.needKey, d.audioSwitch = noLayer, false, true, true
	// Resends map to the cache of the source they were sent from.
	if d.sent != nil {
		*d.sent = [sentRing]sentPacket{}
	}
}

var _ webrtc.TrackLocal = (*downTrack)(nil)

// Bind is called by Pion when the subscriber's sender starts.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, d.codec.MimeType) {
			d.mu.Lock()
			d.ssrc, d.payloadType, d.writer = uint32(ctx.SSRC()), uint8(c.PayloadType), ctx.WriteStream()
			d.twccID = 0
			for _, e := range ctx.HeaderExtensions() {
				if e.URI == sdp.TransportCCURI {
					d.twccID = uint8(e.ID)
				}
			}
			d.mu.Unlock()
			d.bound.Store(true)
			if !d.audio && d.conn.up.Load() {
				// A new track on a connection that is up gets a keyframe
				// at once, so its tile shows a picture instead of waiting
				// for the next one (on one still connecting, the peer asks
				// when it is up).
				d.requestKeyframe()
			}
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// Unbind is called by Pion when the subscriber's sender stops.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.bound.Store(false)
	return nil
}

func (d *downTrack) ID() string                { return d.id }
func (d *downTrack) RID() string               { return "" }
func (d *downTrack) StreamID() string          { return d.stream }
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.kind }

// opusRate is the RTP clock of Opus, for the timestamps of a slot's audio.
const opusRate = 48000

// writeAudio sends an audio packet of f as it came, with this subscriber's
// SSRC and payload type (and, after a slot changed publisher, numbered on
// from what it sent before). It reports whether it was written.
func (d *downTrack) writeAudio(f *forwarder, pkt *rtp.Packet, now int64) bool {
	if !d.bound.Load() || !d.conn.up.Load() || d.src.Load() != f {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.audioSwitch {
		d.audioSwitch = false
		if d.audioStarted {
			elapsed := max(uint32((now-d.lastAt)*opusRate/1e9), 1)
			d.audioSeqOff = pkt.SequenceNumber - (d.lastSeq + 1)
			d.audioTSOff = pkt.Timestamp - (d.lastTS + elapsed)
		}
	}
	d.audioStarted = true
	pkt.Header.SSRC = d.ssrc
	pkt.Header.PayloadType = d.payloadType
	pkt.Header.SequenceNumber -= d.audioSeqOff
	pkt.Header.Timestamp -= d.audioTSOff
	d.lastSeq, d.lastTS, d.lastAt = pkt.SequenceNumber, pkt.Timestamp, now
	d.number(&pkt.Header, len(pkt.Payload), now)
	_, err := d.writer.WriteRTP(&pkt.Header, pkt.Payload)
	return err == nil
}

// writeVideo offers packet pkt of layer to this subscriber: sent when the
// subscriber is on that layer (or switches to it at this keyframe) and the
// packet's temporal layer is wanted. It reports whether it was sent, and
// whether this subscriber waits for a keyframe on layer.
func (d *downTrack) writeVideo(f *forwarder, layer int, pkt *rtp.Packet, vp *vp8Desc, now int64) (sent, wantKeyframe bool) {
	target := int(d.target.Load())
	if !d.bound.Load() || !d.conn.up.Load() || d.src.Load() != f {
		return false, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.current != layer {
		if target != layer {
			return false, false
		}
		// A publisher of one layer is forwarded from any picture's start,
		// as before layers existed (the keyframe asked for follows); a
		// switch between layers waits for the new layer's keyframe.
		if !vp.keyframe && !(vp.start && !f.layered && !d.needKey) {
			return false, true
		}
		d.needKey = false
		d.switchTo(layer, pkt, vp, now)
	}
	if vp.start {
		if target == noLayer {
			// Paused: stop at a picture's edge, so the last picture shown
			// is whole.
			d.current = noLayer
			return false, false
		}
		d.dropping = !d.passes(vp)
	}
	if d.dropping {
		// Leave no gap: the packets and pictures not sent are taken out of
		// the numbering.
		d.seqOff++
		if vp.start {
			d.picOff++
		}
		return false, false
	}
	out := sentPacket{
		valid: true, seq: pkt.SequenceNumber - d.seqOff, layer: uint8(layer), inSeq: pkt.SequenceNumber,
		ts: pkt.Timestamp - d.tsOff, pic: (vp.picID - d.picOff) & vp.picMask(), tl0: vp.tl0 - d.tl0Off,
	}
	seq := pkt.SequenceNumber - d.seqOff
	d.sent[seq%sentRing] = out
	d.lastSeq, d.lastTS, d.lastAt = seq, out.ts, now
	if vp.hasPicID {
		d.lastPic = out.pic
	}
	if vp.hasTL0 {
		d.lastTL0 = out.tl0
	}
	ok := d.send(pkt, vp, seq, out, now)
	if ok && pkt.Marker && d.conn.padding.on.Load() {
		d.pad(now)
	}
	return ok, false
}

// passes decides at the start of a picture whether its temporal layer is
// sent. A lower cap takes effect at once; a higher one at a picture that can
// be decoded from what was sent: a base-layer picture or a layer sync.
func (d *downTrack) passes(vp *vp8Desc) bool {
	if !vp.hasTID {
		return true
	}
	want := int(d.maxTID.Load())
	if want < d.tidCap || (want > d.tidCap && (vp.tid == 0 || vp.sync)) {
		d.tidCap = want
	}
	return int(vp.tid) <= d.tidCap
}

// switchTo makes layer current from this keyframe on, with offsets that
// continue the numbering the subscriber has seen.
func (d *downTrack) switchTo(layer int, pkt *rtp.Packet, vp *vp8Desc, now int64) {
	d.current = layer
	d.dropping = false
	d.tidCap = int(d.maxTID.Load())
	if !d.started {
		d.started = true
		return // the first layer passes with its own numbering
	}
	d.seqOff = pkt.SequenceNumber - (d.lastSeq + 1)
	elapsed := uint32((now - d.lastAt) * 90 / 1e6) // 90 kHz ticks
	if elapsed == 0 {
		elapsed = 1
	}
	d.tsOff = pkt.Timestamp - (d.lastTS + elapsed)
	d.picOff = (vp.picID - (d.lastPic + 1)) & vp.picMask()
	d.tl0Off = vp.tl0 - (d.lastTL0 + 1)
}

// send writes pkt as seq with the rewritten fields of out. Called with mu
// held; pkt's header is changed.
func (d *downTrack) send(pkt *rtp.Packet, vp *vp8Desc, seq uint16, out sentPacket, now int64) bool {
	pkt.Header.SSRC = d.ssrc
	pkt.Header.PayloadType = d.payloadType
	pkt.Header.SequenceNumber = seq
	pkt.Header.Timestamp = out.ts
	payload := pkt.Payload
	if (vp.hasPicID && out.pic != vp.picID) || (vp.hasTL0 && out.tl0 != vp.tl0) {
		payload = append(d.scratch[:0], payload...)
		rewriteVP8(payload, vp, out.pic, out.tl0)
	}
	d.number(&pkt.Header, len(payload), now)
	_, err := d.writer.WriteRTP(&pkt.Header, payload)
	return err == nil
}

// rtpOverhead is what a packet carries besides its payload: the RTP header
// with its one extension, SRTP's tag, UDP and IP.
const rtpOverhead = 12 + 8 + 10 + 8 + 20

// number gives a packet about to be sent the connection's next
// transport-wide sequence number as its one header extension (what the
// publisher had is stripped before). Called with mu held; nothing is
// allocated once the header's extension list has grown to one.
func (d *downTrack) number(h *rtp.Header, payload int, now int64) {
	h.Extension = false
	h.Extensions = h.Extensions[:0]
	if d.twccID == 0 {
		return
	}
	seq := uint16(d.conn.twcc.Add(1) - 1)
	d.conn.sizes.put(seq, payload+rtpOverhead, now)
	binary.BigEndian.PutUint16(d.twccBuf[:], seq)
	_ = h.SetExtension(d.twccID, d.twccBuf[:])
}

// resend answers this subscriber's NACK for seq from the layer's cache.
func (d *downTrack) resend(seq uint16, pkt *rtp.Packet) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sent == nil {
		return // audio: nothing is resent
	}
	s := d.sent[seq%sentRing]
	if !s.valid || s.seq != seq {
		return // never sent, or long ago
	}
	f := d.source()
	if f == nil {
		return
	}
	l := f.layer(int(s.layer))
	if l == nil || !l.cache.get(s.inSeq, pkt) {
		return
	}
	var vp vp8Desc
	if parseVP8(pkt.Payload, &vp) != nil {
		return
	}
	now := time.Now().UnixNano()
	if !d.conn.resends.take(len(pkt.Payload)+12, now) {
		return
	}
	d.send(pkt, &vp, seq, s, now)
}
