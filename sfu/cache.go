package sfu

import (
	"sync"

	"github.com/pion/rtp"
)

// cacheSize is how many recent packets of a published video track are kept
// to answer NACKs: about four seconds of 360p video. A power of two.
const cacheSize = 256

// packetCache keeps the recent packets of one published track, shared by all
// its subscribers, to resend what a subscriber reports lost. One cache per
// published track, instead of a buffer per subscriber stream as Pion's NACK
// responder keeps, is most of what keeps memory per forwarded stream low.
// Slots reuse their buffers: storing allocates only while they first fill.
type packetCache struct {
	mu    sync.Mutex
	slots [cacheSize]cacheSlot
}

type cacheSlot struct {
	valid     bool
	seq       uint16
	timestamp uint32
	marker    bool
	payload   []byte
}

// store keeps a copy of pkt.
func (c *packetCache) store(pkt *rtp.Packet) {
	c.mu.Lock()
	s := &c.slots[pkt.SequenceNumber%cacheSize]
	s.valid, s.seq, s.timestamp, s.marker = true, pkt.SequenceNumber, pkt.Timestamp, pkt.Marker
	s.payload = append(s.payload[:0], pkt.Payload...)
	c.mu.Unlock()
}

// get copies the packet with sequence number seq into dst, whose payload
// buffer is reused; false when it is no longer kept.
func (c *packetCache) get(seq uint16, dst *rtp.Packet) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.slots[seq%cacheSize]
	if !s.valid || s.seq != seq {
		return false
	}
	dst.Version = 2
	dst.SequenceNumber, dst.Timestamp, dst.Marker = s.seq, s.timestamp, s.marker
	dst.Payload = append(dst.Payload[:0], s.payload...)
	return true
}
