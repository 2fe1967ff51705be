package signaling

import (
	"context"
)

// Stats is a snapshot of the sessions and connections, for metrics.
type Stats struct {
	SessionsByPhase map[string]int // sessions neither over nor cancelled, by phase kind
	Participants    int            // connected now
	SendQueueDrops  uint64         // clients dropped for not reading their messages
}

// Stats reads the present state.
func (s *Server) Stats(ctx context.Context) (Stats, error) {
	list, err := s.upcoming(ctx)
	if err != nil {
		return Stats{}, err
	}
	out := Stats{SessionsByPhase: map[string]int{}, SendQueueDrops: s.queueDrops.Load()}
	for _, sess := range list {
		out.SessionsByPhase[s.machineFor(sess).State().Kind.String()]++
	}
	s.hub.mu.Lock()
	for _, r := range s.hub.rooms {
		out.Participants += int(r.present.Load())
	}
	s.hub.mu.Unlock()
	return out, nil
}
