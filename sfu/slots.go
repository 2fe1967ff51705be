package sfu

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/pion/webrtc/v4"
)

// Slots: a subscriber may ask for a fixed set of media sections (as many
// video slots as tiles it shows, a few audio slots) instead of one per
// published track. The server fills each slot with whichever publisher it
// should carry now and says which in a slots message; a slot that changes
// publisher stays one continuous stream (the downTrack numbers on across
// the change, the new publisher starting at a keyframe). Joins and leaves
// then renegotiate nobody: the offer a slot subscriber gets at its join is
// the only one, and its size does not grow with the room or with churn.

// Slots is how many slots a subscriber asks for; zero Video means none (a
// section per published track, as in protocol v1).
type Slots struct{ Video, Audio int }

// Bounds on what a subscriber may ask for.
const (
	MaxVideoSlots     = 64
	MaxAudioSlots     = 16
	DefaultAudioSlots = 4
)

// voiceHold is how long after its last voice a publisher keeps its audio
// slot when others wait for one.
const voiceHold = 3 * time.Second

// Check says whether s is within bounds, filling in the default number of
// audio slots.
func (s Slots) Check() (Slots, error) {
	if s.Video < 0 || s.Video > MaxVideoSlots {
		return s, fmt.Errorf("video slots must be 1 to %d", MaxVideoSlots)
	}
	if s.Audio < 0 || s.Audio > MaxAudioSlots {
		return s, fmt.Errorf("audio slots must be 1 to %d", MaxAudioSlots)
	}
	if s.Video > 0 && s.Audio == 0 {
		s.Audio = DefaultAudioSlots
	}
	if s.Video == 0 && s.Audio > 0 {
		return s, fmt.Errorf("audio slots need video slots")
	}
	return s, nil
}

// slot is one media section a slot subscriber receives.
type slot struct {
	name   string // its stream id, what the slots message names it by
	down   *downTrack
	sender *webrtc.RTPSender
	f      *forwarder // what it carries now, nil for nothing
}

// slotSet is a slot subscriber's slots and what it could put in them.
type slotSet struct {
	video, audio []*slot
	offered      map[*forwarder]struct{} // every track in the room but its own
	told         map[string]string       // the last mapping sent, slot name to publisher id
}

// slotNotice is a mapping to send to a subscriber.
type slotNotice struct {
	to    *Peer
	slots map[string]string
}

// addSlots gives a new peer's connection its slots. Called before the peer
// is in the room.
func (p *Peer) addSlots(s Slots) error {
	set := &slotSet{offered: map[*forwarder]struct{}{}}
	add := func(kind webrtc.RTPCodecType, codec webrtc.RTPCodecCapability, prefix string, n int) ([]*slot, error) {
		out := make([]*slot, 0, n)
		for i := range n {
			name := fmt.Sprintf("slot-%s%d", prefix, i)
			d := newLocalTrack(name, name, kind, codec, &p.egress)
			d.src.Store(nil)
			d.target.Store(noLayer)
			tr, err := p.pc.AddTransceiverFromTrack(d, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
			if err != nil {
				return nil, fmt.Errorf("add %s: %w", name, err)
			}
			out = append(out, &slot{name: name, down: d, sender: tr.Sender()})
			go drainRTCP(tr.Sender(), d)
		}
		return out, nil
	}
	var err error
	if set.video, err = add(webrtc.RTPCodecTypeVideo, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "v", s.Video); err != nil {
		return err
	}
	if set.audio, err = add(webrtc.RTPCodecTypeAudio, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "a", s.Audio); err != nil {
		return err
	}
	p.slots = set
	return nil
}

// candidate is a track that could fill a slot, with what ranks it.
type candidate struct {
	f       *forwarder
	pinned  bool  // video: the tile enlarged
	named   bool  // video: the subscriber said it shows this tile
	holding bool  // it has a slot now (and, for audio, spoke lately)
	voice   int64 // audio: when it last carried voice
}

// assignSlots fills a slot subscriber's slots with the tracks it should
// receive now: video by its tiles (pinned, then the tiles it named, then
// who already has a slot, then by who published first), audio by who
// speaks. It returns the mapping to send when it changed. Called with
// Room.mu held.
func (p *Peer) assignSlots(now int64) *slotNotice {
	p.mu.Lock()
	defer p.mu.Unlock()
	set := p.slots
	if set == nil || p.closed {
		return nil
	}
	var video, audio []candidate
	for f := range set.offered {
		c := candidate{f: f}
		if _, ok := p.senders[f]; ok {
			c.holding = true
		}
		if f.audio {
			if f.publisher.muted.Load() {
				continue
			}
			c.voice = f.lastVoice.Load()
			c.holding = c.holding && time.Duration(now-c.voice) < voiceHold
			audio = append(audio, c)
			continue
		}
		tile, named := p.tiles[f.publisher.id]
		if !named {
			tile = defaultTile()
		}
		if !tile.Visible {
			continue
		}
		c.pinned, c.named = tile.Pinned, named
		video = append(video, c)
	}
	rank := func(a, b candidate) int {
		for _, k := range [][2]bool{{a.pinned, b.pinned}, {a.named, b.named}, {a.holding, b.holding}} {
			if k[0] != k[1] {
				if k[0] {
					return -1
				}
				return 1
			}
		}
		if a.voice != b.voice {
			if a.voice > b.voice {
				return -1
			}
			return 1
		}
		return int(a.f.seq) - int(b.f.seq)
	}
	slices.SortFunc(video, rank)
	slices.SortFunc(audio, rank)
	p.fillLocked(set.video, video)
	p.fillLocked(set.audio, audio)

	told := make(map[string]string, len(set.video)+len(set.audio))
	for _, s := range append(slices.Clip(set.video), set.audio...) {
		if s.f != nil {
			told[s.name] = s.f.publisher.id
		} else {
			told[s.name] = ""
		}
	}
	if set.told != nil && maps.Equal(told, set.told) {
		return nil
	}
	set.told = told
	return &slotNotice{to: p, slots: told}
}

// fillLocked puts the first len(slots) of ranked into slots, keeping every
// track that stays where it is. Called with p.mu held.
func (p *Peer) fillLocked(slots []*slot, ranked []candidate) {
	keep := make(map[*forwarder]bool, len(slots))
	for i := 0; i < len(ranked) && i < len(slots); i++ {
		keep[ranked[i].f] = true
	}
	var free []*slot
	for _, s := range slots {
		switch {
		case s.f == nil:
			free = append(free, s)
		case !keep[s.f]:
			p.emptyLocked(s)
			free = append(free, s)
		default:
			delete(keep, s.f) // already in a slot
		}
	}
	for _, c := range ranked {
		if len(free) == 0 {
			break
		}
		if !keep[c.f] {
			continue
		}
		s := free[0]
		free = free[1:]
		s.f = c.f
		s.down.retarget(c.f)
		c.f.addDown(s.down)
		p.senders[c.f] = &subscription{sender: s.sender, down: s.down}
	}
}

// emptyLocked takes a slot's track out of it. Called with p.mu held.
func (p *Peer) emptyLocked(s *slot) {
	f := s.f
	s.f = nil
	f.removeDown(s.down)
	delete(p.senders, f)
	s.down.target.Store(noLayer)
	s.down.retarget(nil)
}

// dropFromSlotsLocked forgets f, a track that ended. Called with p.mu held.
func (p *Peer) dropFromSlotsLocked(f *forwarder) {
	delete(p.slots.offered, f)
	for _, s := range append(slices.Clip(p.slots.video), p.slots.audio...) {
		if s.f == f {
			p.emptyLocked(s)
		}
	}
}
