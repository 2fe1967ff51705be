// Package metrics serves the server's numbers in the Prometheus text format
// (GET /metrics): sessions by phase, participants, tracks, packets and bytes
// forwarded and dropped (the quiet of the work phase counted apart),
// negotiation failures, websocket send-queue drops, rooms closed for being
// empty, the mail outbox and the
// TURN relay's allocations and refusals. It
// reads snapshots when scraped, so nothing is added to the packet path.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/worktogether/worktogether/relay"
	"github.com/worktogether/worktogether/sfu"
	"github.com/worktogether/worktogether/web"
	"go.uber.org/zap"
)

// Sources are where the numbers come from.
type Sources struct {
	SFU      func() sfu.Stats
	Sessions func(context.Context) (web.Stats, error)
	Outbox   func(context.Context) (map[string]int, error) // mails by status
	Relay    func() relay.Stats                            // nil without the built-in relay
	Log      *zap.Logger
}

// Handler returns the /metrics handler.
func Handler(src Sources) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(&collector{src: src})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: zap.NewStdLog(src.Log)})
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("worktogether_"+name, help, labels, nil)
}

var (
	sessionsDesc     = desc("sessions", "Sessions neither over nor cancelled, by phase.", "phase")
	participantsDesc = desc("participants", "Participants connected now.")
	roomsDesc        = desc("media_rooms", "Rooms with media now.")
	peersDesc        = desc("peers", "Peer connections now.")
	tracksDesc       = desc("tracks", "Published tracks being forwarded now.")
	packetsInDesc    = desc("packets_received_total", "RTP packets read from publishers.")
	packetsOutDesc   = desc("packets_forwarded_total", "RTP packets written to subscribers.", "kind")
	bytesOutDesc     = desc("bytes_forwarded_total", "RTP bytes written to subscribers.", "kind")
	layerPacketsDesc = desc("video_layer_packets_forwarded_total", "Video RTP packets written to subscribers, by simulcast layer (0 lowest).", "layer")
	layerBytesDesc   = desc("video_layer_bytes_forwarded_total", "Video RTP bytes written to subscribers, by simulcast layer (0 lowest).", "layer")
	droppedDesc      = desc("audio_packets_dropped_total", "Audio packets not forwarded, by reason: quiet (work phase) or muted (by a host).", "reason")
	overCapDesc      = desc("publish_packets_dropped_total", "Packets not forwarded because their publisher sent more than the per-publisher cap (-publish-kbps).")
	negotiationDesc  = desc("negotiation_failures_total", "Offers that could not be made and answers refused.")
	offersDesc       = desc("offers_total", "Offers the server made to subscribers: one per renegotiation.")
	paddingDesc      = desc("probe_padding_bytes_total", "Padding sent to subscribers while probing whether their line takes more.")
	queueDropsDesc   = desc("websocket_send_queue_drops_total", "Clients dropped for not reading their messages, by reason: lag (what waited for them had waited too long), full (their queue reached its bound).", "reason")
	idleClosedDesc   = desc("rooms_closed_idle_total", "Rooms closed for being empty (-room-idle); the next join opens them again.")
	outboxDesc       = desc("mail_outbox", "Mails in the outbox, by status.", "status")
	relayAllocDesc   = desc("relay_allocations", "TURN allocations open on the built-in relay.")
	relayRefusedDesc = desc("relay_refused_total", "TURN requests and connections refused, by reason: auth (stale, forged or malformed credentials), quota (allocations per participant), connections (TCP/TLS connections over the bound).", "reason")
	relayDropDesc    = desc("relay_packets_dropped_total", "Relayed packets dropped (and permissions refused), by reason: peer (not to or from the SFU), rate (over the participant's bandwidth).", "reason")
)

type collector struct{ src Sources }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{sessionsDesc, participantsDesc, roomsDesc, peersDesc, tracksDesc, packetsInDesc,
		packetsOutDesc, bytesOutDesc, layerPacketsDesc, layerBytesDesc, droppedDesc, overCapDesc, negotiationDesc, offersDesc, paddingDesc, queueDropsDesc, idleClosedDesc, outboxDesc,
		relayAllocDesc, relayRefusedDesc, relayDropDesc} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	st := c.src.SFU()
	gauge(roomsDesc, float64(st.Rooms))
	gauge(peersDesc, float64(st.Peers))
	gauge(tracksDesc, float64(st.Tracks))
	counter(packetsInDesc, st.PacketsIn)
	counter(packetsOutDesc, st.AudioPacketsOut, "audio")
	counter(packetsOutDesc, st.VideoPacketsOut, "video")
	counter(bytesOutDesc, st.AudioBytesOut, "audio")
	counter(bytesOutDesc, st.VideoBytesOut, "video")
	for i := range st.VideoLayerPacketsOut {
		counter(layerPacketsDesc, st.VideoLayerPacketsOut[i], strconv.Itoa(i))
		counter(layerBytesDesc, st.VideoLayerBytesOut[i], strconv.Itoa(i))
	}
	counter(droppedDesc, st.AudioDroppedQuiet, "quiet")
	counter(droppedDesc, st.AudioDroppedMuted, "muted")
	counter(overCapDesc, st.DroppedOverCap)
	counter(negotiationDesc, st.NegotiationFailures)
	counter(offersDesc, st.Offers)
	counter(paddingDesc, st.PaddingBytesOut)

	if sig, err := c.src.Sessions(ctx); err != nil {
		c.src.Log.Warn("metrics: sessions", zap.Error(err))
	} else {
		for _, phase := range []string{"lobby", "commitment", "work", "break", "closing"} {
			gauge(sessionsDesc, float64(sig.SessionsByPhase[phase]), phase)
		}
		gauge(participantsDesc, float64(sig.Participants))
		counter(queueDropsDesc, sig.SlowDrops.Lag, "lag")
		counter(queueDropsDesc, sig.SlowDrops.Full, "full")
		counter(idleClosedDesc, sig.RoomsIdleClosed)
	}
	if c.src.Relay != nil {
		rs := c.src.Relay()
		gauge(relayAllocDesc, float64(rs.Allocations))
		counter(relayRefusedDesc, rs.AuthRefused, "auth")
		counter(relayRefusedDesc, rs.QuotaRefused, "quota")
		counter(relayRefusedDesc, rs.TCPConnRefused, "connections")
		counter(relayDropDesc, rs.DroppedPeer, "peer")
		counter(relayDropDesc, rs.DroppedRate, "rate")
	}
	if box, err := c.src.Outbox(ctx); err != nil {
		c.src.Log.Warn("metrics: outbox", zap.Error(err))
	} else {
		for _, status := range []string{"queued", "sent", "failed", "skipped"} {
			gauge(outboxDesc, float64(box[status]), status)
		}
	}
}
