package sfu

import (
	"fmt"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Each subscriber connection's bandwidth is estimated from the subscriber's
// own transport-wide congestion feedback on what the server sends it (every
// packet carries the connection's transport-wide sequence number, written by
// its downTracks), by Pion's send-side Google Congestion Control: delay-based
// with a loss-based bound. It paces nothing: the allocator keeps what each
// subscriber receives within its estimate by choosing layers, frame rates
// and paused tiles, which is cheaper and kinder to video than a queue.

// The estimate's bounds, in bits per second. A connection starts at
// initialEstimate; until its first feedback, the estimate limits nothing (a
// client that sends no feedback is served as before).
const (
	initialEstimate = 2_000_000
	minEstimate     = 100_000
	maxEstimate     = 50_000_000
)

// estimatorInterceptor makes a bandwidth estimator for every connection the
// router's API makes, kept by connection id until newPC takes it.
func (r *Router) estimatorInterceptor() (interceptor.Factory, error) {
	f, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		e, err := gcc.NewSendSideBWE(
			gcc.SendSideBWEInitialBitrate(initialEstimate),
			gcc.SendSideBWEMinBitrate(minEstimate),
			gcc.SendSideBWEMaxBitrate(maxEstimate),
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
		)
		if err != nil {
			return nil, err
		}
		return &countedBWE{BandwidthEstimator: e}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("bandwidth estimator: %w", err)
	}
	f.OnNewPeerConnection(func(id string, e cc.BandwidthEstimator) { r.estimators.Store(id, e) })
	return onlyNumbered{f}, nil
}

// onlyNumbered makes Pion's congestion-control interceptors record only the
// streams that carry transport-wide sequence numbers: about the others no
// feedback can come, and recording each of their packets (a map insert and
// two locks) would cost for nothing.
type onlyNumbered struct{ f *cc.InterceptorFactory }

func (o onlyNumbered) NewInterceptor(id string) (interceptor.Interceptor, error) {
	i, err := o.f.NewInterceptor(id)
	if err != nil {
		return nil, err
	}
	return numberedStreams{i}, nil
}

type numberedStreams struct{ interceptor.Interceptor }

func (n numberedStreams) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == sdp.TransportCCURI {
			return n.Interceptor.BindLocalStream(info, w)
		}
	}
	return w
}

// newPC makes a peer connection, and returns it with its bandwidth
// estimator (nil if none was made).
func (r *Router) newPC() (*webrtc.PeerConnection, cc.BandwidthEstimator, error) {
	pc, err := r.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, nil, err
	}
	e, _ := r.estimators.LoadAndDelete(pc.ID())
	est, _ := e.(cc.BandwidthEstimator)
	return pc, est, nil
}

// Estimate is the peer's receiving connection's bandwidth estimate in bits
// per second, and whether it is known (the subscriber has sent transport-wide
// feedback): the estimator's delay-based target, less the share of packets
// being lost. (Its loss-based target, which it would take when lower, stays
// near its floor for many seconds after one burst of loss, long after the
// queue that caused it has drained: video would stay paused for nothing.)
func (p *Peer) Estimate() (int, bool) {
	if p.bwe == nil || !p.egress.feedback.Load() {
		return 0, false
	}
	st := p.bwe.GetStats()
	delay, ok := st["delayTargetBitrate"].(int)
	if !ok {
		return p.bwe.GetTargetBitrate(), true
	}
	loss, _ := st["averageLoss"].(float64)
	return max(int(float64(delay)*(1-min(max(loss, 0), 1))), minEstimate), true
}

// congested tells whether the estimator sees the peer's line congested: a
// share of its packets lost. Growing delay alone does not count: a busy
// receiver's late timestamps look the same (forty load-tool peers on one
// core were held for nothing), and a full queue soon loses packets.
func (p *Peer) congested() bool { return p.loss() > congestionLoss }

// loss is the share of the packets sent to the peer that its line loses,
// as the estimator averages it.
func (p *Peer) loss() float64 {
	if p.bwe == nil {
		return 0
	}
	loss, _ := p.bwe.GetStats()["averageLoss"].(float64)
	return min(max(loss, 0), 1)
}

// congestionLoss is the average loss from which a line counts as congested.
const congestionLoss = 0.05

// PeerOf is the peer of participant in room id, nil when there is none:
// for reading its estimate.
func (r *Router) PeerOf(room, participant string) *Peer {
	r.totals.mu.Lock()
	defer r.totals.mu.Unlock()
	for rm := range r.totals.rooms {
		if rm.id != room {
			continue
		}
		rm.mu.Lock()
		p := rm.peers[participant]
		rm.mu.Unlock()
		if p != nil {
			return p
		}
	}
	return nil
}
