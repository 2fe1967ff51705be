package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
)

// weak is one more participant, publishing nothing, that receives through
// a shaped downlink (-weak-rate): how a person on a weak line fares, beside
// everyone else.
type weak struct {
	load    *load
	sockets *testpeer.Sockets
	peer    *testpeer.Peer
	marks   map[*stream]mark
	p0, b0  uint64
	layers0 [3]uint64
	latency []uint64 // the latency histogram when the window began
}

// joinWeak joins the weak subscriber, with the tiles everyone else shows
// (or none) once publishers are known.
func (o *options) joinWeak(ctx context.Context, wsBase string, publishers []string, layered bool) (*weak, error) {
	var inv struct{ Token string }
	if err := o.api(ctx, "POST", "/api/sessions/"+o.session+"/invites", map[string]any{"name": "weak"}, &inv); err != nil {
		return nil, fmt.Errorf("invite the weak subscriber: %w", err)
	}
	sockets, err := testpeer.NewShapedSockets(o.rcvbuf, testpeer.Link{Rate: o.weakRate, Delay: o.weakDelay, Queue: o.weakQueue})
	if err != nil {
		return nil, err
	}
	api, err := testpeer.FeedbackLoadAPI(sockets)
	if err != nil {
		return nil, err
	}
	w := &weak{load: &load{streams: map[string]*stream{}, joinedAt: map[string]time.Time{}}, sockets: sockets}
	joined := time.Now()
	w.peer, err = testpeer.Dial(ctx, api, wsBase+url.QueryEscape(inv.Token), testpeer.Options{OnTrack: w.load.onTrack(o.n, joined, layered), Stamp: true})
	if err != nil {
		return nil, fmt.Errorf("weak subscriber: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := w.peer.Expect(wctx, "welcome"); err != nil {
		w.peer.Close()
		return nil, fmt.Errorf("weak subscriber: %w", err)
	}
	if o.tiles > 0 {
		// Shows what subscriber 0 shows: the same tiles as a strong peer.
		if err := w.peer.Send(tilesFor(*o, -1, publishers)); err != nil {
			w.peer.Close()
			return nil, fmt.Errorf("weak subscriber: tiles: %w", err)
		}
	}
	return w, nil
}

// start marks the beginning of the measuring window.
func (w *weak) start() {
	w.marks = w.load.mark()
	w.p0, w.b0 = w.load.packets.Load(), w.load.bytes.Load()
	w.layers0 = w.load.layerMark()
	w.latency = w.load.latency.snapshot()
}

// weakReport is what the weak subscriber received in the window.
type weakReport struct {
	LinkMbps       float64    `json:"link_mbps"`
	LinkDelayMs    float64    `json:"link_delay_ms"`
	Mbps           float64    `json:"mbps"`
	LossPercent    float64    `json:"loss_percent"`
	LatencyP50ms   float64    `json:"latency_p50_ms"`
	LatencyP99ms   float64    `json:"latency_p99_ms"`
	MinFPS         float64    `json:"min_fps"`
	Streams        int        `json:"streams"`     // video streams received in the window
	LayerShare     [3]float64 `json:"layer_share"` // of its video packets, by layer, in percent
	TailDrops      uint64     `json:"tail_drops"`  // at the shaped bottleneck, the whole run
	OthersLoss     float64    `json:"others_loss_percent"`
	OthersMinFPS   float64    `json:"others_min_fps"`
	OthersMbps     float64    `json:"others_mbps_each"`
	OthersLayerPct [3]float64 `json:"others_layer_share"`
}

func (w *weak) report(o options, window time.Duration, others *load, othersMarks map[*stream]mark, othersBytes uint64, others0 [3]uint64) weakReport {
	l := w.load
	r := weakReport{
		LinkMbps:     float64(o.weakRate) / 1e6,
		LinkDelayMs:  float64(o.weakDelay) / float64(time.Millisecond),
		Mbps:         float64(l.bytes.Load()-w.b0) * 8 / window.Seconds() / 1e6,
		LossPercent:  l.windowLoss(w.marks),
		LatencyP50ms: l.latency.quantileSince(w.latency, 0.5),
		LatencyP99ms: l.latency.quantileSince(w.latency, 0.99),
		MinFPS:       l.minFPS(w.marks, window),
		Streams:      l.inWindow(w.marks),
		TailDrops:    w.sockets.LinkStats().TailDrops,
		OthersLoss:   others.windowLoss(othersMarks),
		OthersMinFPS: others.minFPS(othersMarks, window),
		OthersMbps:   float64(othersBytes) * 8 / window.Seconds() / 1e6 / float64(o.n),
	}
	r.LayerShare = l.layerShare(w.layers0)
	r.OthersLayerPct = others.layerShare(others0)
	return r
}

func (r weakReport) print(out io.Writer, label string) {
	fmt.Fprintf(out, "| %s: weak subscriber on %.1f Mbit/s, %.0f ms | %d | %.2f | %.1f / %.1f / %.1f %% | %.1f | %.3f | %s / %s | %d | others: %.3f %% loss, %.1f fps, %.2f Mbit/s each, %.1f / %.1f / %.1f %% |\n",
		label, r.LinkMbps, r.LinkDelayMs, r.Streams, r.Mbps, r.LayerShare[0], r.LayerShare[1], r.LayerShare[2], r.MinFPS,
		r.LossPercent, ms(r.LatencyP50ms), ms(r.LatencyP99ms), r.TailDrops,
		r.OthersLoss, r.OthersMinFPS, r.OthersMbps, r.OthersLayerPct[0], r.OthersLayerPct[1], r.OthersLayerPct[2])
}

// weakHeader is the head of the table weakReport.print writes rows of.
const weakHeader = `| weak-link load | video streams received | Mbit/s | its video by layer (low / mid / top) | min fps | loss % | latency p50 / p99 | drops at its bottleneck | everyone else |
|---|---|---|---|---|---|---|---|---|`
