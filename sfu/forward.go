package sfu

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"
)

// maxResendsPerSecond bounds the retransmissions of one published track, for
// all its subscribers together: about three times a 360p track's own rate.
const maxResendsPerSecond = 200

// keyframeInterval is the least time between two keyframe requests sent to a
// publisher for one track; requests in between are folded into one at the end
// of the interval.
const keyframeInterval = 500 * time.Millisecond

// forwarder reads one published track and writes it to every subscriber.
type forwarder struct {
	room      *Room
	publisher *Peer
	remote    *webrtc.TrackRemote
	local     *fanout
	audio     bool
	cache     *packetCache  // video only: to answer subscribers' NACKs
	resends   *rate.Limiter // bounds what NACKs cost: a saturated server must not feed a retransmission storm

	lastKeyframeReq atomic.Int64 // unix nanoseconds
	keyframeQueued  atomic.Bool

	// Counters, written only by run.
	in           atomic.Uint64
	droppedQuiet atomic.Uint64
	droppedMuted atomic.Uint64
}

func newForwarder(r *Room, p *Peer, remote *webrtc.TrackRemote) (*forwarder, error) {
	// The stream id is the publisher's participant id: that is how clients
	// know whose tile a track belongs to.
	id := fmt.Sprintf("%s-%s-%d", remote.Kind(), p.id, remote.SSRC())
	f := &forwarder{
		room:      r,
		publisher: p,
		remote:    remote,
		local:     newFanout(remote.Codec().RTPCodecCapability, remote.Kind(), id, p.id),
		audio:     remote.Kind() == webrtc.RTPCodecTypeAudio,
	}
	if !f.audio {
		// A new subscriber gets a keyframe at once, so their tile shows a
		// picture instead of waiting for the next natural keyframe.
		f.local.onBind = f.requestKeyframe
		f.cache = &packetCache{}
		f.resends = rate.NewLimiter(maxResendsPerSecond, maxResendsPerSecond)
	}
	return f, nil
}

// run forwards packets until the publisher's track ends. Audio is dropped here
// while the room is quiet or the publisher is muted: the one place every
// packet passes, so no client can get around it. The packet buffer and the
// parsed packet are reused: nothing is allocated per packet.
func (f *forwarder) run() {
	defer f.room.unpublish(f)
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := f.remote.Read(buf)
		if err != nil {
			return
		}
		f.forward(buf[:n], &pkt)
	}
}

// forward handles one packet from the publisher: the media policy, then the
// fan-out. pkt is scratch space reused from packet to packet.
func (f *forwarder) forward(raw []byte, pkt *rtp.Packet) {
	f.in.Add(1)
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
	// The publisher's header extensions (its transport-wide sequence
	// numbers) mean nothing on a subscriber's connection.
	pkt.Header.Extension = false
	pkt.Header.Extensions = pkt.Header.Extensions[:0]
	if f.cache != nil {
		f.cache.store(pkt)
	}
	f.local.write(pkt, len(raw))
}

// resend answers a subscriber's NACK: the packets it lists that are still
// cached go again, to that subscriber only.
func (f *forwarder) resend(nack *rtcp.TransportLayerNack) {
	if f.cache == nil {
		return
	}
	var pkt rtp.Packet
	for _, pair := range nack.Nacks {
		pair.Range(func(seq uint16) bool {
			if !f.resends.Allow() {
				return false
			}
			if f.cache.get(seq, &pkt) {
				f.local.writeTo(nack.MediaSSRC, &pkt)
			}
			return true
		})
	}
}

// requestKeyframe asks the publisher for a keyframe, at most once per
// keyframeInterval; a request inside the interval is sent when it ends.
func (f *forwarder) requestKeyframe() {
	if f.audio {
		return
	}
	now := time.Now().UnixNano()
	last := f.lastKeyframeReq.Load()
	if wait := time.Duration(last + int64(keyframeInterval) - now); wait > 0 {
		if f.keyframeQueued.CompareAndSwap(false, true) {
			time.AfterFunc(wait, func() {
				f.keyframeQueued.Store(false)
				f.requestKeyframe()
			})
		}
		return
	}
	if !f.lastKeyframeReq.CompareAndSwap(last, now) {
		return
	}
	_ = f.publisher.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(f.remote.SSRC())}})
}
