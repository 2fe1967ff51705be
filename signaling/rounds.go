package signaling

import (
	"context"
	"encoding/json"

	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/store"
	"go.uber.org/zap"
)

// handle runs a room-level message (commit, report, pass, host) on the actor.
func (r *liveRoom) handle(c *client, typ string, raw map[string]json.RawMessage) {
	m := r.members[c.id]
	if m == nil || m.client != c {
		return // this connection was replaced or removed meanwhile
	}
	// Judge the message by the phase the clock says it is now, even if the
	// timer has not fired yet.
	r.tick()
	if r.finished {
		return
	}
	r.armTimer()
	switch typ {
	case "host":
		r.hostAction(c, raw)
	case "commit":
		r.commit(c, m, raw)
	case "report":
		r.report(c, m, raw)
	case "pass":
		r.pass(c, raw)
	case "status":
		r.setStatus(c, m, raw)
	}
}

// commit stores a participant's tasks, then shows them to everyone.
func (r *liveRoom) commit(c *client, m *member, raw map[string]json.RawMessage) {
	if err := fields(raw, []string{"tasks"}); err != nil {
		c.sendError(CodeBadMessage, err.Error(), "commit")
		return
	}
	var tasks []string
	if err := json.Unmarshal(raw["tasks"], &tasks); err != nil || tasks == nil {
		c.sendError(CodeBadMessage, "tasks must be an array of strings", "commit")
		return
	}
	tasks, err := session.CheckCommit(r.machine.State().Kind, tasks)
	if err != nil {
		sessionError(c, "commit", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	err = r.hub.cfg.Store.SaveCommitment(ctx, r.id, m.p.ID, tasks, r.hub.now())
	cancel()
	if err != nil {
		r.log.Error("store commitment", zap.Error(err))
		c.sendError(CodeInvalid, "your commitment could not be saved; try again", "commit")
		return
	}
	m.p.Commitment = tasks
	r.broadcastParticipant(m)
}

// report stores what a participant got done, then shows it to everyone.
func (r *liveRoom) report(c *client, m *member, raw map[string]json.RawMessage) {
	if err := fields(raw, []string{"done"}, "note"); err != nil {
		c.sendError(CodeBadMessage, err.Error(), "report")
		return
	}
	var rep store.Report
	if err := json.Unmarshal(raw["done"], &rep.Done); err != nil || rep.Done == nil {
		c.sendError(CodeBadMessage, "done must be an array of booleans", "report")
		return
	}
	if n, ok := raw["note"]; ok {
		if err := json.Unmarshal(n, &rep.Note); err != nil {
			c.sendError(CodeBadMessage, "note must be a string", "report")
			return
		}
	}
	note, err := session.CheckReport(r.machine.State().Kind, len(m.p.Commitment), rep.Done, rep.Note)
	if err != nil {
		sessionError(c, "report", err)
		return
	}
	rep.Note = note
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	err = r.hub.cfg.Store.SaveReport(ctx, r.id, m.p.ID, rep, r.hub.now())
	cancel()
	if err != nil {
		r.log.Error("store report", zap.Error(err))
		c.sendError(CodeInvalid, "your report could not be saved; try again", "report")
		return
	}
	m.p.Report = &rep
	r.broadcastParticipant(m)
}

// pass hands the turn to the next speaker: the speaker themselves or a host
// may (extension).
func (r *liveRoom) pass(c *client, raw map[string]json.RawMessage) {
	if err := fields(raw, nil); err != nil {
		c.sendError(CodeBadMessage, err.Error(), "pass")
		return
	}
	if r.turns == nil {
		c.sendError(CodeNotAllowed, "turns are taken in the commitment and closing rounds", "pass")
		return
	}
	if c.role != RoleHost && r.turns.Speaker() != c.id {
		c.sendError(CodeNotAllowed, "only the speaker or a host can pass the turn", "pass")
		return
	}
	present := func(id string) bool { return r.members[id] != nil && r.members[id].client != nil }
	if !r.turns.Pass(r.hub.now(), present) {
		c.sendError(CodeNotAllowed, "everyone has had their turn", "pass")
		return
	}
	r.broadcast(r.turnMessage())
}

func (r *liveRoom) turnNow() *WireTurn {
	if r.turns == nil {
		return nil
	}
	return &WireTurn{
		Order:     append([]string{}, r.turns.Order...),
		Current:   r.turns.Current,
		Speaker:   r.turns.Speaker(),
		StartedAt: r.turns.StartedAt.UTC(),
		Seconds:   r.turns.Seconds,
	}
}

func (r *liveRoom) turnMessage() MsgTurn {
	return MsgTurn{Type: "turn", Turn: r.turnNow()}
}
