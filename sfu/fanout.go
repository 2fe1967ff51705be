package sfu

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// fanout is the local track every subscriber of one published track binds
// to. Each packet is parsed once by the forwarder; fanout only rewrites the
// SSRC and payload type each subscriber's sender expects and hands header
// and payload to its writer, allocating nothing per packet. It counts what
// it writes.
type fanout struct {
	id       string
	streamID string
	codec    webrtc.RTPCodecCapability
	kind     webrtc.RTPCodecType
	onBind   func()

	mu       sync.RWMutex
	bindings []binding

	packets atomic.Uint64 // packets written, summed over subscribers
	bytes   atomic.Uint64
}

type binding struct {
	id          string
	ssrc        uint32
	payloadType uint8
	writer      webrtc.TrackLocalWriter
}

var _ webrtc.TrackLocal = (*fanout)(nil)

func newFanout(codec webrtc.RTPCodecCapability, kind webrtc.RTPCodecType, id, streamID string) *fanout {
	return &fanout{id: id, streamID: streamID, codec: codec, kind: kind}
}

// Bind is called by Pion when a subscriber's sender starts.
func (f *fanout) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, f.codec.MimeType) {
			f.mu.Lock()
			f.bindings = append(f.bindings, binding{
				id: ctx.ID(), ssrc: uint32(ctx.SSRC()), payloadType: uint8(c.PayloadType), writer: ctx.WriteStream(),
			})
			f.mu.Unlock()
			if f.onBind != nil {
				f.onBind()
			}
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// Unbind is called by Pion when a subscriber's sender stops.
func (f *fanout) Unbind(ctx webrtc.TrackLocalContext) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, b := range f.bindings {
		if b.id == ctx.ID() {
			// Copy on removal: a writer may still range over the old slice.
			f.bindings = append(append([]binding(nil), f.bindings[:i]...), f.bindings[i+1:]...)
			return nil
		}
	}
	return nil
}

func (f *fanout) ID() string                { return f.id }
func (f *fanout) RID() string               { return "" }
func (f *fanout) StreamID() string          { return f.streamID }
func (f *fanout) Kind() webrtc.RTPCodecType { return f.kind }

// writeTo sends pkt to the one subscriber whose stream has ssrc (a
// retransmission); it is not counted as forwarded.
func (f *fanout) writeTo(ssrc uint32, pkt *rtp.Packet) {
	f.mu.RLock()
	bindings := f.bindings
	f.mu.RUnlock()
	for i := range bindings {
		if b := &bindings[i]; b.ssrc == ssrc {
			pkt.Header.SSRC = b.ssrc
			pkt.Header.PayloadType = b.payloadType
			_, _ = b.writer.WriteRTP(&pkt.Header, pkt.Payload)
			return
		}
	}
}

// write sends pkt to every subscriber. It changes pkt's SSRC and payload
// type as it goes; the caller owns pkt and reuses it for the next packet.
func (f *fanout) write(pkt *rtp.Packet, size int) {
	f.mu.RLock()
	bindings := f.bindings
	f.mu.RUnlock()
	var sent uint64
	for i := range bindings {
		b := &bindings[i]
		pkt.Header.SSRC = b.ssrc
		pkt.Header.PayloadType = b.payloadType
		// An error concerns one subscriber's transport (closing, not yet
		// connected) and must not stop the others.
		if _, err := b.writer.WriteRTP(&pkt.Header, pkt.Payload); err == nil {
			sent++
		}
	}
	if sent > 0 {
		f.packets.Add(sent)
		f.bytes.Add(sent * uint64(size))
	}
}
