package sfu

import (
	"sync"
	"sync/atomic"
)

// Stats is a snapshot of what a router forwards, for metrics. Counters only
// grow; gauges (Rooms, Peers, Tracks) are the present.
type Stats struct {
	Rooms, Peers, Tracks int

	PacketsIn       uint64 // RTP packets read from publishers
	AudioPacketsOut uint64 // RTP packets written to subscribers
	VideoPacketsOut uint64
	AudioBytesOut   uint64
	VideoBytesOut   uint64
	// Video written to subscribers by simulcast layer (0 lowest; a
	// publisher sending one layer counts as 0).
	VideoLayerPacketsOut [maxLayers]uint64
	VideoLayerBytesOut   [maxLayers]uint64
	AudioDroppedQuiet    uint64 // audio packets dropped by the quiet of the work phase
	AudioDroppedMuted    uint64 // audio packets dropped by a host's mute
	DroppedOverCap       uint64 // packets dropped because their publisher sent more than its cap
	NegotiationFailures  uint64 // offers that could not be made, answers refused
	Offers               uint64 // offers made to subscribers (each renegotiation is one)
	// PaddingBytesOut is the padding written to subscribers by probes of
	// their lines (padding.go).
	PaddingBytesOut uint64
}

// totals are the counters of forwarders that have ended, and router-wide
// events.
type totals struct {
	mu    sync.Mutex
	rooms map[*Room]struct{}
	ended Stats

	negotiationFailures atomic.Uint64
	offers              atomic.Uint64
	padding             atomic.Uint64 // bytes, by every peer's probes
}

func (t *totals) addRoom(r *Room) {
	t.mu.Lock()
	if t.rooms == nil {
		t.rooms = make(map[*Room]struct{})
	}
	t.rooms[r] = struct{}{}
	t.mu.Unlock()
}

func (t *totals) removeRoom(r *Room) {
	t.mu.Lock()
	delete(t.rooms, r)
	t.mu.Unlock()
}

// addForwarder adds a forwarder's counts to s.
func (s *Stats) addForwarder(f *forwarder) {
	s.PacketsIn += f.in.Load()
	s.AudioDroppedQuiet += f.droppedQuiet.Load()
	s.AudioDroppedMuted += f.droppedMuted.Load()
	s.DroppedOverCap += f.droppedCap.Load()
	for i := range f.packetsOut {
		packets, bytes := f.packetsOut[i].Load(), f.bytesOut[i].Load()
		if f.audio {
			s.AudioPacketsOut += packets
			s.AudioBytesOut += bytes
			continue
		}
		s.VideoPacketsOut += packets
		s.VideoBytesOut += bytes
		s.VideoLayerPacketsOut[i] += packets
		s.VideoLayerBytesOut[i] += bytes
	}
}

// Stats returns what the router has forwarded so far.
func (r *Router) Stats() Stats {
	t := &r.totals
	t.mu.Lock()
	out := t.ended
	rooms := make([]*Room, 0, len(t.rooms))
	for room := range t.rooms {
		rooms = append(rooms, room)
	}
	// Live forwarders are read under the same lock that retire takes, so a
	// forwarder ending meanwhile is counted once.
	for _, room := range rooms {
		room.mu.Lock()
		out.Rooms++
		out.Peers += len(room.peers)
		out.Tracks += len(room.tracks)
		for f := range room.tracks {
			out.addForwarder(f)
		}
		room.mu.Unlock()
	}
	t.mu.Unlock()
	out.NegotiationFailures = t.negotiationFailures.Load()
	out.Offers = t.offers.Load()
	out.PaddingBytesOut = t.padding.Load()
	return out
}
