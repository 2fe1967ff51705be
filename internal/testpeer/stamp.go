package testpeer

import (
	"encoding/binary"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// StampLen is the size of the trailer a stamping publisher appends to each
// RTP payload: a magic number, a sequence number and the send time.
const StampLen = 16

const stampMagic = 0x77746c64 // "wtld"

// ReadStamp returns the sequence number and send time appended to payload,
// if it carries a stamp.
func ReadStamp(payload []byte) (seq uint32, sent time.Time, ok bool) {
	if len(payload) < StampLen {
		return 0, time.Time{}, false
	}
	t := payload[len(payload)-StampLen:]
	if binary.BigEndian.Uint32(t[0:4]) != stampMagic {
		return 0, time.Time{}, false
	}
	return binary.BigEndian.Uint32(t[4:8]), time.Unix(0, int64(binary.BigEndian.Uint64(t[8:16]))), true
}

// publishStamped sends VP8 frames as RTP it packetizes itself, every payload
// stamped.
func (p *Peer) publishStamped(frames [][]byte) error {
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "local")
	if err != nil {
		return err
	}
	if err := p.addVideo(track); err != nil {
		return err
	}
	packetizer := rtp.NewPacketizer(1200-StampLen, 96, 1, &codecs.VP8Payloader{}, rtp.NewRandomSequencer(), 90000)
	var seq uint32
	p.wg.Add(1)
	go p.loop(videoFrame, func(i int) {
		for _, pkt := range packetizer.Packetize(frames[i%len(frames)], uint32(videoFrame.Seconds()*90000)) {
			var t [StampLen]byte
			binary.BigEndian.PutUint32(t[0:4], stampMagic)
			binary.BigEndian.PutUint32(t[4:8], seq)
			binary.BigEndian.PutUint64(t[8:16], uint64(time.Now().UnixNano()))
			seq++
			pkt.Payload = append(pkt.Payload, t[:]...)
			_ = track.WriteRTP(pkt)
		}
	})
	return nil
}
