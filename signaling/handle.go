package signaling

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/worktogether/worktogether/sfu"
)

// fields decodes a client message into its top-level fields and checks that
// exactly the allowed ones (besides type) are present and the required ones
// are there.
func fields(raw map[string]json.RawMessage, required []string, optional ...string) error {
	allowed := map[string]bool{"type": true}
	for _, f := range required {
		allowed[f] = true
		if _, ok := raw[f]; !ok {
			return fmt.Errorf("missing field %q", f)
		}
	}
	for _, f := range optional {
		allowed[f] = true
	}
	var extra []string
	for k := range raw {
		if !allowed[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("unknown field %s", strings.Join(extra, ", "))
	}
	return nil
}

// rateLimitNotice is how often a client flooding the server is told so.
const rateLimitNotice = time.Second

// handle answers one message from the client.
func (c *client) handle(data []byte) {
	if !c.limiter.Allow() {
		// Tell a flooding client once a second, not once a message.
		now := time.Now().UnixNano()
		if last := c.lastLimited.Load(); now-last >= int64(rateLimitNotice) && c.lastLimited.CompareAndSwap(last, now) {
			c.sendError(CodeRateLimited, "too many messages; slow down", "")
		}
		return
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		c.sendError(CodeBadMessage, "message is not a JSON object", "")
		return
	}
	var typ string
	if err := json.Unmarshal(raw["type"], &typ); err != nil || typ == "" {
		c.sendError(CodeBadMessage, "message has no type", "")
		return
	}
	switch typ {
	case "answer":
		c.handleAnswer(raw)
	case "candidate":
		c.handleCandidate(raw)
	case "publish_offer":
		c.handlePublishOffer(raw)
	case "tiles":
		c.handleTiles(raw)
	case "commit", "report", "host", "pass", "status":
		room := c.room.Load()
		if room == nil {
			c.sendError(CodeNotAllowed, "not in a room yet", typ)
			return
		}
		room.do(func() { room.handle(c, typ, raw) })
	default:
		c.sendError(CodeBadMessage, fmt.Sprintf("unknown message type %q", typ), typ)
	}
}

// sdpOf reads the one field, sdp, of an answer or a publish_offer; false
// (the client told why) when it is not a non-empty string.
func (c *client) sdpOf(raw map[string]json.RawMessage, ref string) (string, bool) {
	var sdp string
	if err := fields(raw, []string{"sdp"}); err != nil {
		c.sendError(CodeBadMessage, err.Error(), ref)
		return "", false
	}
	if err := json.Unmarshal(raw["sdp"], &sdp); err != nil || sdp == "" {
		c.sendError(CodeBadMessage, "sdp must be a non-empty string", ref)
		return "", false
	}
	return sdp, true
}

func (c *client) handleAnswer(raw map[string]json.RawMessage) {
	sdp, ok := c.sdpOf(raw, "answer")
	if !ok {
		return
	}
	peer := c.peer.Load()
	if peer == nil {
		c.sendError(CodeNotAllowed, "no offer is waiting for an answer", "answer")
		return
	}
	switch err := peer.HandleAnswer(sdp); {
	case err == nil, errors.Is(err, sfu.ErrPeerClosed):
	case errors.Is(err, sfu.ErrNoOffer):
		c.sendError(CodeNotAllowed, err.Error(), "answer")
	default:
		c.sendError(CodeInvalid, err.Error(), "answer")
	}
}

func (c *client) handleCandidate(raw map[string]json.RawMessage) {
	if err := fields(raw, []string{"candidate"}, "pc"); err != nil {
		c.sendError(CodeBadMessage, err.Error(), "candidate")
		return
	}
	var which string
	if pc, ok := raw["pc"]; ok {
		if err := json.Unmarshal(pc, &which); err != nil || which != pcPublish {
			c.sendError(CodeBadMessage, `pc must be "publish" when given`, "candidate")
			return
		}
	}
	var cand webrtc.ICECandidateInit
	if err := json.Unmarshal(raw["candidate"], &cand); err != nil || string(raw["candidate"]) == "null" {
		c.sendError(CodeBadMessage, "candidate must be an RTCIceCandidateInit object", "candidate")
		return
	}
	peer := c.peer.Load()
	if peer == nil {
		c.sendError(CodeNotAllowed, "no media connection yet", "candidate")
		return
	}
	add := peer.AddCandidate
	if which == pcPublish {
		add = peer.AddPublishCandidate
	}
	if err := add(cand); err != nil && !errors.Is(err, sfu.ErrPeerClosed) {
		c.sendError(CodeInvalid, err.Error(), "candidate")
	}
}
