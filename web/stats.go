package web

import (
	"context"

	"github.com/worktogether/worktogether/signaling"
)

// Stats is a snapshot of the sessions and connections, for metrics.
type Stats struct {
	SessionsByPhase map[string]int      // sessions neither over nor cancelled, by phase kind
	Participants    int                 // connected now
	SlowDrops       signaling.SlowDrops // clients dropped for not reading their messages
	RoomsIdleClosed uint64              // rooms closed for being empty
}

// Stats reads the present state.
func (s *Server) Stats(ctx context.Context) (Stats, error) {
	list, err := s.upcoming(ctx)
	if err != nil {
		return Stats{}, err
	}
	out := Stats{SessionsByPhase: map[string]int{}, SlowDrops: s.hub.SlowDrops(), RoomsIdleClosed: s.hub.IdleClosed()}
	for _, sess := range list {
		out.SessionsByPhase[s.machineFor(sess).State().Kind.String()]++
	}
	out.Participants = s.hub.Participants()
	return out, nil
}
