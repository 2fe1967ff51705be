package sfu

import (
	"fmt"

	"github.com/pion/webrtc/v4"
	"go.uber.org/zap"
)

// candidateQueue holds a client's trickled candidates until its connection
// has a remote description, then adds them as they come. Its owner's lock
// guards it.
type candidateQueue struct {
	remoteSet bool
	held      []webrtc.ICECandidateInit
}

// add adds c to pc, or holds it (at most maxQueuedCandidates) until the
// remote description, which the error names as waitingFor.
func (q *candidateQueue) add(pc *webrtc.PeerConnection, c webrtc.ICECandidateInit, waitingFor string) error {
	if !q.remoteSet {
		if len(q.held) >= maxQueuedCandidates {
			return fmt.Errorf("%w: too many candidates before the %s", ErrBadICE, waitingFor)
		}
		q.held = append(q.held, c)
		return nil
	}
	if err := pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: %v", ErrBadICE, err)
	}
	return nil
}

// remoteApplied adds what was held, once pc has its first remote
// description.
func (q *candidateQueue) remoteApplied(pc *webrtc.PeerConnection, log *zap.Logger) {
	if q.remoteSet {
		return
	}
	q.remoteSet = true
	for _, c := range q.held {
		if err := pc.AddICECandidate(c); err != nil {
			log.Debug("queued candidate refused", zap.Error(err))
		}
	}
	q.held = nil
}
