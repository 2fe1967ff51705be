package sfu

import "errors"

// errShortVP8 is a VP8 payload too short for the descriptor it announces.
var errShortVP8 = errors.New("vp8 payload descriptor truncated")

// vp8Desc is what the forwarder reads of a VP8 RTP payload (RFC 7741): the
// payload descriptor's picture id, TL0PICIDX and temporal layer, and whether
// the packet starts a keyframe. Offsets are where the picture id and
// TL0PICIDX sit in the payload, so a forwarder can rewrite them in a copy.
type vp8Desc struct {
	start    bool // first packet of a picture (S set, partition 0)
	keyframe bool // start of a keyframe

	hasPicID bool
	picID15  bool // the picture id is 15 bits (M set), else 7
	picID    uint16
	picOff   int // offset of the picture id's first byte

	hasTL0 bool
	tl0    uint8
	tl0Off int

	hasTID bool
	tid    uint8
	sync   bool // Y: a layer sync picture, decodable on its own layer's past

	width, height uint16 // of a keyframe, else 0
}

// parseVP8 reads the descriptor at the head of payload into d.
func parseVP8(payload []byte, d *vp8Desc) error {
	*d = vp8Desc{}
	if len(payload) < 1 {
		return errShortVP8
	}
	b0 := payload[0]
	x := b0&0x80 != 0
	s := b0&0x10 != 0
	pid := b0 & 0x07
	i := 1
	if x {
		if len(payload) < 2 {
			return errShortVP8
		}
		b1 := payload[1]
		i = 2
		if b1&0x80 != 0 { // I: picture id
			if len(payload) < i+1 {
				return errShortVP8
			}
			d.hasPicID, d.picOff = true, i
			if payload[i]&0x80 != 0 {
				if len(payload) < i+2 {
					return errShortVP8
				}
				d.picID15 = true
				d.picID = uint16(payload[i]&0x7f)<<8 | uint16(payload[i+1])
				i += 2
			} else {
				d.picID = uint16(payload[i] & 0x7f)
				i++
			}
		}
		if b1&0x40 != 0 { // L: TL0PICIDX
			if len(payload) < i+1 {
				return errShortVP8
			}
			d.hasTL0, d.tl0Off, d.tl0 = true, i, payload[i]
			i++
		}
		if b1&0x30 != 0 { // T or K: TID/Y/KEYIDX
			if len(payload) < i+1 {
				return errShortVP8
			}
			if b1&0x20 != 0 {
				d.hasTID = true
				d.tid = payload[i] >> 6
				d.sync = payload[i]&0x20 != 0
			}
			i++
		}
	}
	d.start = s && pid == 0
	if d.start && len(payload) > i {
		// The VP8 payload header: P (bit 0 of the first byte) is 0 on a
		// keyframe, whose header then carries the frame's size.
		d.keyframe = payload[i]&0x01 == 0
		if d.keyframe && len(payload) >= i+10 && payload[i+3] == 0x9d && payload[i+4] == 0x01 && payload[i+5] == 0x2a {
			d.width = (uint16(payload[i+6]) | uint16(payload[i+7])<<8) & 0x3fff
			d.height = (uint16(payload[i+8]) | uint16(payload[i+9])<<8) & 0x3fff
		}
	}
	return nil
}

// rewriteVP8 writes picture id pic and TL0PICIDX tl0 into payload (a copy
// the caller owns) where d found them; the picture id keeps its width.
func rewriteVP8(payload []byte, d *vp8Desc, pic uint16, tl0 uint8) {
	if d.hasPicID {
		if d.picID15 {
			payload[d.picOff] = 0x80 | byte(pic>>8)&0x7f
			payload[d.picOff+1] = byte(pic)
		} else {
			payload[d.picOff] = byte(pic) & 0x7f
		}
	}
	if d.hasTL0 {
		payload[d.tl0Off] = tl0
	}
}

// picMask is the range of d's picture id: 15 or 7 bits.
func (d *vp8Desc) picMask() uint16 {
	if d.picID15 {
		return 0x7fff
	}
	return 0x7f
}
