package signaling

import (
	"encoding/json"
	"fmt"
)

// status is what a participant says about themselves (extension): whether
// their microphone and camera are on, a raised hand, and "be right back".
// It lives in the room only (not stored): a reconnecting client says it
// again. Hands are lowered when a phase begins and when someone leaves.
type status struct {
	mic    *bool // nil until the client says
	camera *bool
	hand   bool
	away   bool
}

// Each status goes to everyone in the room: a burst of StatusBurst, then
// StatusPerSecond per client; beyond it the message is refused (rate_limited).
const (
	StatusPerSecond = 4
	StatusBurst     = 12
)

// statusFields are the fields a status message may carry, each a boolean.
var statusFields = []string{"mic", "camera", "hand", "away"}

// setStatus applies a client's status message and tells everyone when
// something changed.
func (r *liveRoom) setStatus(c *client, m *member, raw map[string]json.RawMessage) {
	if err := fields(raw, nil, statusFields...); err != nil {
		c.sendError(CodeBadMessage, err.Error(), "status")
		return
	}
	if len(raw) == 1 {
		c.sendError(CodeBadMessage, "status needs at least one of mic, camera, hand, away", "status")
		return
	}
	next := m.status
	for _, f := range statusFields {
		v, ok := raw[f]
		if !ok {
			continue
		}
		var b bool
		if err := json.Unmarshal(v, &b); err != nil || string(v) == "null" {
			c.sendError(CodeBadMessage, fmt.Sprintf("%s must be true or false", f), "status")
			return
		}
		switch f {
		case "mic":
			next.mic = &b
		case "camera":
			next.camera = &b
		case "hand":
			next.hand = b
		case "away":
			next.away = b
		}
	}
	if next.equal(m.status) {
		return
	}
	if !c.statusLimit.Allow() {
		c.sendError(CodeRateLimited, "too many status changes; slow down", "status")
		return
	}
	m.status = next
	r.broadcastParticipant(m)
}

func (s status) equal(o status) bool {
	same := func(a, b *bool) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	return same(s.mic, o.mic) && same(s.camera, o.camera) && s.hand == o.hand && s.away == o.away
}

// lowerHands lowers every raised hand (a phase begins); it tells everyone
// of each one lowered.
func (r *liveRoom) lowerHands() {
	for _, m := range r.members {
		if m.status.hand {
			m.status.hand = false
			r.broadcastParticipant(m)
		}
	}
}

// wire puts the status into a participant message; someone away from the
// room has no status at all.
func (s status) wire(w *WireParticipant, present bool) {
	if !present {
		return
	}
	w.Mic, w.Camera, w.Hand, w.Away = s.mic, s.camera, s.hand, s.away
}
