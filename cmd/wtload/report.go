package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is Linux's USER_HZ, the unit of CPU times in /proc.
const clockTicks = 100

// proc is what /proc tells of the server.
type proc struct {
	cpu   time.Duration // user + system
	hwmKB int64         // peak resident set
}

// readProc reads the server's CPU time and peak memory; zero without a pid.
func readProc(pid int) (proc, error) {
	if pid == 0 {
		return proc{}, nil
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, fmt.Errorf("server pid %d: %w", pid, err)
	}
	// Fields after the command name, which may hold spaces: state is field 3,
	// utime 14 and stime 15.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return proc{}, fmt.Errorf("server pid %d: short stat", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	out := proc{cpu: time.Duration(utime+stime) * time.Second / clockTicks}
	status, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return proc{}, err
	}
	defer status.Close()
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			out.hwmKB, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		}
	}
	return out, nil
}

// report is what one run measured.
type report struct {
	Weak              *weakReport `json:"weak,omitempty"` // the weak subscriber, with -weak-rate
	Participants      int         `json:"participants"`
	Publishers        int         `json:"publishers"`
	Video             string      `json:"video"`
	Audio             bool        `json:"audio"`
	WindowSeconds     float64     `json:"window_seconds"`
	JoinP50ms         float64     `json:"join_p50_ms"`
	JoinP95ms         float64     `json:"join_p95_ms"`
	JoinP99ms         float64     `json:"join_p99_ms"`
	StreamsExpected   int         `json:"video_streams_expected"`
	StreamsReceived   int         `json:"video_streams_received"`
	PacketsPerSecond  float64     `json:"egress_packets_per_second"`
	Mbps              float64     `json:"egress_mbit_per_second"`
	LossPercent       float64     `json:"loss_percent"`        // from each stream's first packet on, joins included
	WindowLossPercent float64     `json:"window_loss_percent"` // in the measuring window only: the steady state
	LatencyP50ms      float64     `json:"latency_p50_ms"`
	LatencyP99ms      float64     `json:"latency_p99_ms"`
	ServerPID         int         `json:"server_pid,omitempty"`
	CPUMicrosPerPkt   float64     `json:"server_cpu_us_per_egress_packet,omitempty"`
	CPUOverFloor      float64     `json:"server_cpu_per_packet_over_floor,omitempty"`
	ServerCPUPercent  float64     `json:"server_cpu_percent,omitempty"`
	LoadCPUPercent    float64     `json:"load_tool_cpu_percent"` // the load tool's own use: near 100 % of its core, it may be the bottleneck
	PeakRSSMB         float64     `json:"server_peak_rss_mb,omitempty"`
	RSSPerStreamMB    float64     `json:"server_peak_rss_mb_per_forwarded_stream,omitempty"`
	// Drops are the packets the kernel dropped at full receive buffers in
	// the window, at the load tool's sockets and elsewhere (the server's).
	Drops Drops `json:"receive_buffer_drops"`
	// LayerMbps is the server's video egress by simulcast layer (0 lowest)
	// in the window, from its /metrics.
	LayerMbps [3]float64 `json:"egress_mbit_per_second_by_layer"`
	// MinFPS is the lowest frame rate at which any subscriber received any
	// publisher it shows, in the window.
	MinFPS float64 `json:"min_fps"`
}

func (l *load) report(o options, packets, bytes uint64, window time.Duration, before, after proc) *report {
	r := &report{Participants: o.n, Publishers: o.p, Video: o.ivf, Audio: o.ogg != "", WindowSeconds: window.Seconds()}
	l.mu.Lock()
	q := quantiles(l.joinTimes, 0.5, 0.95, 0.99)
	r.JoinP50ms, r.JoinP95ms, r.JoinP99ms = q[0], q[1], q[2]
	var lost, expected uint64
	for _, s := range l.streams {
		lo, ex := s.lost()
		lost += lo
		expected += ex
		if ex > 0 { // packets arrived, not only the track
			r.StreamsReceived++
		}
	}
	l.mu.Unlock()
	// Every subscriber receives every publisher but itself.
	r.StreamsExpected = o.p * (o.n - 1)
	if expected > 0 {
		r.LossPercent = 100 * float64(lost) / float64(expected)
	}
	r.PacketsPerSecond = float64(packets) / window.Seconds()
	r.Mbps = float64(bytes) * 8 / window.Seconds() / 1e6
	r.LatencyP50ms, r.LatencyP99ms = l.latency.quantile(0.5), l.latency.quantile(0.99)
	if o.serverPID != 0 && packets > 0 {
		cpu := after.cpu - before.cpu
		r.ServerPID = o.serverPID
		r.CPUMicrosPerPkt = float64(cpu.Microseconds()) / float64(packets)
		if o.floorUS > 0 {
			r.CPUOverFloor = r.CPUMicrosPerPkt / o.floorUS
		}
		r.ServerCPUPercent = 100 * cpu.Seconds() / window.Seconds()
		r.PeakRSSMB = float64(after.hwmKB) / 1024
		streams := r.StreamsExpected
		if r.Audio {
			streams *= 2
		}
		r.RSSPerStreamMB = r.PeakRSSMB / float64(streams)
	}
	return r
}

// mark notes where every stream stands, at the start of the window.
func (l *load) mark() map[*stream]mark {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[*stream]mark, len(l.streams))
	for _, s := range l.streams {
		out[s] = s.mark()
	}
	return out
}

// windowLoss is the loss since marks, in percent, over the streams that
// were flowing then.
func (l *load) windowLoss(marks map[*stream]mark) float64 {
	var lost, expected uint64
	for s, m := range marks {
		lo, ex := s.lostSince(m)
		lost += lo
		expected += ex
	}
	if expected == 0 {
		return 0
	}
	return 100 * float64(lost) / float64(expected)
}

func ms(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
}

// rowHeader is the head of the table printRow writes rows of.
const rowHeader = `| load | streams received | egress pkt/s | Mbit/s | video Mbit/s by layer (low / mid / top) | min fps | loss % (window / all) | join p50 / p99 | latency p50 / p99 | server CPU-µs per egress pkt | × floor | server CPU | load tool CPU | peak RSS per stream | buffer drops: load tool / server |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`

func (r *report) printRow(w io.Writer, label string) {
	floor := "-"
	if r.CPUOverFloor > 0 {
		floor = fmt.Sprintf("%.2f", r.CPUOverFloor)
	}
	fmt.Fprintf(w, "| %s | %d / %d | %.0f | %.1f | %.2f / %.2f / %.2f | %.1f | %.3f / %.3f | %s / %s | %s / %s | %.2f | %s | %.0f %% | %.0f %% | %.3f MB | %s |\n",
		label, r.StreamsReceived, r.StreamsExpected, r.PacketsPerSecond, r.Mbps, r.LayerMbps[0], r.LayerMbps[1], r.LayerMbps[2], r.MinFPS,
		r.WindowLossPercent, r.LossPercent,
		ms(r.JoinP50ms), ms(r.JoinP99ms), ms(r.LatencyP50ms), ms(r.LatencyP99ms),
		r.CPUMicrosPerPkt, floor, r.ServerCPUPercent, r.LoadCPUPercent, r.RSSPerStreamMB, r.Drops.cell())
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "participants          %d (%d publishing %s%s)\n", r.Participants, r.Publishers, r.Video, map[bool]string{true: " + Opus", false: ""}[r.Audio])
	fmt.Fprintf(w, "window                %.1f s\n", r.WindowSeconds)
	fmt.Fprintf(w, "join to first RTP     p50 %s  p95 %s  p99 %s\n", ms(r.JoinP50ms), ms(r.JoinP95ms), ms(r.JoinP99ms))
	fmt.Fprintf(w, "video streams         %d of %d received\n", r.StreamsReceived, r.StreamsExpected)
	fmt.Fprintf(w, "egress received       %.0f packets/s  %.1f Mbit/s  loss %.3f %% in the window, %.3f %% from the first packet\n",
		r.PacketsPerSecond, r.Mbps, r.WindowLossPercent, r.LossPercent)
	fmt.Fprintf(w, "forwarding latency    p50 %s  p99 %s\n", ms(r.LatencyP50ms), ms(r.LatencyP99ms))
	if r.ServerPID != 0 {
		fmt.Fprintf(w, "server CPU            %.2f µs per egress packet (%.0f %% of a core)\n", r.CPUMicrosPerPkt, r.ServerCPUPercent)
		fmt.Fprintf(w, "server peak RSS       %.1f MB, %.3f MB per forwarded stream\n", r.PeakRSSMB, r.RSSPerStreamMB)
	}
	fmt.Fprintf(w, "load tool CPU         %.0f %% of a core\n", r.LoadCPUPercent)
	fmt.Fprintf(w, "buffer drops          %s (packets dropped at full receive buffers: load tool / server)\n", r.Drops.cell())
}

func (d Drops) cell() string {
	if !d.Known {
		return "-"
	}
	return fmt.Sprintf("%d / %d", d.LoadTool, d.Elsewhere)
}
