package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/worktogether/worktogether/session"
	"go.uber.org/zap"
)

// sessionError maps the session machine's errors to wire codes.
func sessionError(c *client, ref string, err error) {
	switch {
	case errors.Is(err, session.ErrWrongPhase):
		c.sendError(CodeNotAllowed, err.Error(), ref)
	case errors.Is(err, session.ErrInvalid):
		c.sendError(CodeInvalid, err.Error(), ref)
	default:
		c.sendError(CodeInvalid, err.Error(), ref)
	}
}

func (r *liveRoom) hostAction(c *client, raw map[string]json.RawMessage) {
	if c.role != RoleHost {
		c.sendError(CodeNotAllowed, "only a host can do that", "host")
		return
	}
	var action string
	if err := json.Unmarshal(raw["action"], &action); err != nil {
		c.sendError(CodeBadMessage, "action must be a string", "host")
		return
	}
	var required []string
	switch action {
	case "advance", "end":
	case "extend":
		required = []string{"seconds"}
	case "mute", "unmute", "remove":
		required = []string{"participant"}
	default:
		c.sendError(CodeBadMessage, fmt.Sprintf("unknown host action %q", action), "host")
		return
	}
	if err := fields(raw, append([]string{"action"}, required...)); err != nil {
		c.sendError(CodeBadMessage, err.Error(), "host")
		return
	}
	now := r.hub.now()
	switch action {
	case "advance":
		r.changePhase(c, action, func() error { return r.machine.Advance(now) })
	case "end":
		r.changePhase(c, action, func() error { return r.machine.End(now) })
	case "extend":
		var secs int
		if err := json.Unmarshal(raw["seconds"], &secs); err != nil {
			c.sendError(CodeBadMessage, "seconds must be a whole number", "host")
			return
		}
		r.changePhase(c, action, func() error { return r.machine.Extend(secs) })
	case "mute", "unmute", "remove":
		var id string
		if err := json.Unmarshal(raw["participant"], &id); err != nil {
			c.sendError(CodeBadMessage, "participant must be a participant id", "host")
			return
		}
		target := r.members[id]
		if target == nil {
			c.sendError(CodeInvalid, "no such participant in this session", "host")
			return
		}
		switch action {
		case "mute", "unmute":
			r.hostMute(c, target, action == "mute")
		default:
			r.remove(c, target)
		}
	}
}

// changePhase applies a host's change to the machine, stores it, and only then
// announces it. If storing fails the change is taken back.
func (r *liveRoom) changePhase(c *client, cause string, change func() error) {
	before := r.machine.State()
	if err := change(); err != nil {
		sessionError(c, "host", err)
		return
	}
	if err := r.savePhase(cause); err != nil {
		r.log.Error("store host change", zap.Error(err))
		r.machine = session.New(r.sess.Plan, r.sess.StartsAt, r.sess.LobbySeconds, &before)
		c.sendError(CodeInvalid, "the change could not be saved; try again", "host")
		return
	}
	r.phaseChanged(before.Index)
	if !r.finished {
		r.armTimer()
	}
}

// hostMute sets or takes back a host's mute of target, stored first. A mute
// drops their audio until the next phase; taking it back does not lift the
// quiet of the work phase.
func (r *liveRoom) hostMute(c *client, target *member, muted bool) {
	if target.muted == muted {
		return
	}
	var phase *int
	if muted {
		idx := r.machine.State().Index
		phase = &idx
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	err := r.hub.cfg.Store.SetMuted(ctx, r.id, target.p.ID, phase)
	cancel()
	if err != nil {
		r.log.Error("store mute", zap.Bool("muted", muted), zap.Error(err))
		c.sendError(CodeInvalid, "the change could not be saved; try again", "host")
		return
	}
	target.muted = muted
	r.setMuted(target, muted)
}

func (r *liveRoom) remove(c *client, target *member) {
	if target.p.Role == RoleHost {
		c.sendError(CodeNotAllowed, "a host cannot be removed", "host")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	err := r.hub.cfg.Store.SetRemoved(ctx, r.id, target.p.ID, r.hub.now())
	cancel()
	if err != nil {
		r.log.Error("store removal", zap.Error(err))
		c.sendError(CodeInvalid, "the removal could not be saved; try again", "host")
		return
	}
	if tc := target.client; tc != nil {
		tc.sendBye(ByeRemoved)
		if p := tc.peer.Load(); p != nil {
			r.media.Leave(p)
		}
		target.client = nil
		r.storePresent()
	}
	r.broadcastParticipant(target)
}
