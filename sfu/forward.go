package sfu

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// keyframeInterval is the least time between two keyframe requests sent to a
// publisher for one track; requests in between are folded into one at the end
// of the interval.
const keyframeInterval = 500 * time.Millisecond

// forwarder reads one published track and writes it to every subscriber.
type forwarder struct {
	room      *Room
	publisher *Peer
	remote    *webrtc.TrackRemote
	local     *localTrack
	audio     bool

	lastKeyframeReq atomic.Int64 // unix nanoseconds
	keyframeQueued  atomic.Bool
}

// localTrack is the track every subscriber's sender binds to. It asks the
// publisher for a keyframe whenever a new subscriber binds, so a new tile shows
// a picture at once instead of waiting for the next natural keyframe.
type localTrack struct {
	*webrtc.TrackLocalStaticRTP
	onBind func()
}

func (t *localTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, err := t.TrackLocalStaticRTP.Bind(ctx)
	if err == nil && t.onBind != nil {
		t.onBind()
	}
	return codec, err
}

func newForwarder(r *Room, p *Peer, remote *webrtc.TrackRemote) (*forwarder, error) {
	// The stream id is the publisher's participant id: that is how clients
	// know whose tile a track belongs to.
	id := fmt.Sprintf("%s-%s-%d", remote.Kind(), p.id, remote.SSRC())
	static, err := webrtc.NewTrackLocalStaticRTP(remote.Codec().RTPCodecCapability, id, p.id)
	if err != nil {
		return nil, fmt.Errorf("local track for %s: %w", id, err)
	}
	f := &forwarder{
		room:      r,
		publisher: p,
		remote:    remote,
		local:     &localTrack{TrackLocalStaticRTP: static},
		audio:     remote.Kind() == webrtc.RTPCodecTypeAudio,
	}
	if !f.audio {
		f.local.onBind = f.requestKeyframe
	}
	return f, nil
}

// run forwards packets until the publisher's track ends. Audio is dropped here
// while the room is quiet or the publisher is muted: the one place every
// packet passes, so no client can get around it.
func (f *forwarder) run() {
	defer f.room.unpublish(f)
	buf := make([]byte, 1500)
	for {
		n, _, err := f.remote.Read(buf)
		if err != nil {
			return
		}
		if f.audio && (f.room.audioOff.Load() || f.publisher.muted.Load()) {
			continue
		}
		// Errors here concern one subscriber's transport (closing, not yet
		// connected) and must not stop the others.
		_, _ = f.local.Write(buf[:n])
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
