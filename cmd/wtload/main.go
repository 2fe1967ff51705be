// Command wtload puts load on a Worktogether server and measures it: it
// creates a session (or takes one), invites N participants and runs them as
// Pion peers in this process, P of them publishing VP8 read from an IVF file
// (optionally Opus too), every one subscribing to everyone. Publishers stamp
// a sequence number and the send time into each RTP payload, so loss and
// forwarding latency are exact. It reports join times, what arrived, and,
// given the server's pid, the server's CPU time per forwarded packet and its
// peak memory per forwarded stream. It talks to 127.0.0.1 only and stops by
// itself.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/rtp"
	"github.com/worktogether/worktogether/internal/testpeer"
)

type options struct {
	url       string
	hostKey   string
	session   string
	n, p      int
	ivf, ogg  string
	rate      float64
	duration  time.Duration
	warmup    time.Duration
	serverPID int
	json      bool
	row       string
	floorUS   float64
	rcvbuf    int
	layers    string // simulcast: IVF files, lowest layer first
	tiles     int    // each subscriber shows this many publishers' tiles, small; 0: no tiles message
	slots     int    // each peer asks for this many video slots (protocol v2); 0: a section per track
	work      bool   // the session is in its work phase (presence video) from the start
	workVideo string
	// One more subscriber behind a shaped downlink, when weakRate > 0.
	weakRate             int
	weakDelay, weakQueue time.Duration
	feedback             bool // every peer sends transport-wide feedback, as browsers do
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8080", "the server (loopback only)")
	flag.StringVar(&o.hostKey, "host-key", os.Getenv("WORKTOGETHER_HOST_KEY"), "host key (default $WORKTOGETHER_HOST_KEY)")
	flag.StringVar(&o.session, "session", "", "use this session instead of creating one")
	flag.IntVar(&o.n, "n", 20, "participants")
	flag.IntVar(&o.p, "p", 10, "of them publishing video")
	flag.StringVar(&o.ivf, "ivf", "testdata/v360.ivf", "VP8 video to publish")
	flag.StringVar(&o.ogg, "ogg", "", "Opus audio to publish too (Ogg), none when empty")
	flag.Float64Var(&o.rate, "rate", 10, "joins per second")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "measuring window, after every join and the warm-up")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "wait after the last join before measuring")
	flag.IntVar(&o.serverPID, "server-pid", 0, "the server's pid, to read its CPU time and memory")
	flag.BoolVar(&o.json, "json", false, "print the report as JSON")
	flag.StringVar(&o.row, "row", "", "print the report as one Markdown table row with this label")
	flag.Float64Var(&o.floorUS, "floor-us", 0, "the machine's floor in µs per egress packet (go test -bench Floor ./sfu), to report CPU as a multiple of it")
	flag.IntVar(&o.rcvbuf, "rcvbuf", 4<<20, "receive buffer in bytes for each peer's UDP socket (past net.core.rmem_max when run as root, else capped by it); 0 keeps the kernel's default")
	flag.StringVar(&o.layers, "layers", "", "publish VP8 simulcast instead of -ivf: IVF files, lowest layer first, comma separated (e.g. testdata/v180.ivf,testdata/v180.ivf,testdata/v360.ivf)")
	flag.IntVar(&o.tiles, "tiles", 0, "each subscriber shows this many publishers as small tiles (320x180) and hides the rest, as a paged grid does; 0 sends no tiles message")
	flag.IntVar(&o.slots, "slots", 0, "each peer asks for this many video slots (and the default audio slots) instead of a media section per published track; with -tiles, tiles are sent as the room grows, as a browser does")
	flag.BoolVar(&o.work, "work", false, "run the load in the session's work phase (audio dropped; presence video unless -work-video full)")
	flag.StringVar(&o.workVideo, "work-video", "presence", "the session's work-phase video: presence or full")
	flag.IntVar(&o.weakRate, "weak-rate", 0, "add one subscriber behind a shaped downlink of this many bits per second (its own row, -row with -weak-header); 0: none")
	flag.DurationVar(&o.weakDelay, "weak-delay", 40*time.Millisecond, "one-way delay of the weak subscriber's downlink")
	flag.DurationVar(&o.weakQueue, "weak-queue", 200*time.Millisecond, "longest wait at the weak subscriber's bottleneck before tail drop")
	flag.BoolVar(&o.feedback, "feedback", false, "every peer sends transport-wide congestion feedback, as browsers do (the server then estimates each one's bandwidth)")
	header := flag.Bool("row-header", false, "print the head of the -row table and exit")
	weakHeaderFlag := flag.Bool("weak-header", false, "print the head of the weak-subscriber table and exit")
	cpuProfile := flag.String("cpuprofile", "", "write the load tool's own CPU profile to this file")
	flag.Parse()
	if *header {
		fmt.Println(rowHeader)
		return
	}
	if *weakHeaderFlag {
		fmt.Println(weakHeader)
		return
	}
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "wtload:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "wtload: cpu profile:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wtload:", err)
		os.Exit(1)
	}
	if o.row != "" {
		if rep.Weak != nil {
			rep.Weak.print(os.Stdout, o.row)
			return
		}
		rep.printRow(os.Stdout, o.row)
		return
	}
	if o.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
		return
	}
	rep.print(os.Stdout)
}

func (o *options) check() error {
	u, err := url.Parse(o.url)
	if err != nil || u.Host == "" {
		return fmt.Errorf("-url %q is not a URL", o.url)
	}
	if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
		return fmt.Errorf("-url %q: wtload only sends to this machine (127.0.0.1)", o.url)
	}
	if o.n < 2 || o.p < 1 || o.p > o.n {
		return errors.New("need -n of at least 2 and 1 <= -p <= -n")
	}
	if o.rcvbuf < 0 {
		return errors.New("-rcvbuf must not be negative")
	}
	if o.rate <= 0 || o.duration <= 0 {
		return errors.New("-rate and -duration must be positive")
	}
	if o.hostKey == "" {
		return errors.New("-host-key (or WORKTOGETHER_HOST_KEY) is needed to invite participants")
	}
	return nil
}

// api calls the server as host.
func (o *options) api(ctx context.Context, method, path string, body, out any) error {
	raw, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, method, o.url+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+o.hostKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusTooManyRequests && bytes.Contains(b, []byte("too many connections")) {
		return fmt.Errorf("%s %s: %d %s: %s", method, path, resp.StatusCode, b, overCap)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

// overCap is the way out when the server caps connections per client.
const overCap = "every participant comes from this machine, so start the server with -max-conns-per-client 0"

// load is the running measurement.
type load struct {
	latency   histogram
	packets   atomic.Uint64 // every RTP packet received
	bytes     atomic.Uint64
	mu        sync.Mutex
	streams   map[string]*stream   // subscriber index/publisher id
	joinTimes []time.Duration      // first RTP of each publisher at each subscriber, from when both had joined
	joinedAt  map[string]time.Time // participant id -> when its websocket connect began
	// Video packets received by simulcast layer (from the publishers'
	// stamps).
	layerPackets [3]atomic.Uint64
}

// layerMark is the layer counters now.
func (l *load) layerMark() [3]uint64 {
	var out [3]uint64
	for i := range out {
		out[i] = l.layerPackets[i].Load()
	}
	return out
}

// layerShare is each layer's share of the video packets since mark, in
// percent.
func (l *load) layerShare(mark [3]uint64) [3]float64 {
	var out [3]float64
	now := l.layerMark()
	var total uint64
	for i := range now {
		total += now[i] - mark[i]
	}
	for i := range now {
		if total > 0 {
			out[i] = 100 * float64(now[i]-mark[i]) / float64(total)
		}
	}
	return out
}

// since is when a subscriber (which began joining at joined) could first
// have the publisher's video: when the later of the two began to join.
func (l *load) since(joined time.Time, publisher string) time.Time {
	if pub, ok := l.joinedAt[publisher]; ok && pub.After(joined) {
		return pub
	}
	return joined
}

// onTrack gives subscriber sub's handler for one received track: the stream
// it feeds is found once, so each packet costs no map look-up and no shared
// lock.
func (l *load) onTrack(sub int, joined time.Time, layered bool) func(string, string) func(*rtp.Packet, time.Time) {
	return func(publisher, kind string) func(*rtp.Packet, time.Time) {
		if kind != "video" {
			return func(pkt *rtp.Packet, _ time.Time) {
				l.packets.Add(1)
				l.bytes.Add(uint64(len(pkt.Payload) + 12))
			}
		}
		s := &stream{}
		l.mu.Lock()
		l.streams[fmt.Sprint(sub, "/", publisher)] = s
		l.mu.Unlock()
		return func(pkt *rtp.Packet, at time.Time) {
			l.packets.Add(1)
			l.bytes.Add(uint64(len(pkt.Payload) + 12))
			seq, sent, ok := testpeer.ReadStamp(pkt.Payload)
			if !ok {
				return
			}
			l.latency.add(at.Sub(sent))
			if layered {
				if layer := testpeer.StampLayer(seq); layer < len(l.layerPackets) {
					l.layerPackets[layer].Add(1)
				}
				// Layers and dropped temporal layers leave gaps in the
				// stamps; the SFU's own numbering has none, so loss is
				// counted on the RTP sequence numbers.
				seq = s.extend(pkt.SequenceNumber)
			}
			if pkt.Marker {
				s.frames.Add(1)
			}
			if s.add(seq) {
				l.mu.Lock()
				l.joinTimes = append(l.joinTimes, at.Sub(l.since(joined, publisher)))
				l.mu.Unlock()
			}
		}
	}
}

// wait waits d, or less if ctx ends (then returning its error).
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func run(ctx context.Context, o options) (*report, error) {
	frames, err := testpeer.ReadIVF(o.ivf)
	if err != nil {
		return nil, err
	}
	var layers [][][]byte
	if o.layers != "" {
		for _, path := range strings.Split(o.layers, ",") {
			f, err := testpeer.ReadIVF(path)
			if err != nil {
				return nil, err
			}
			layers = append(layers, f)
		}
	}

	if o.session == "" {
		var sess struct{ ID string }
		plan := []map[string]any{{"kind": "commitment", "seconds": 86400}, {"kind": "work", "seconds": 60}, {"kind": "closing", "seconds": 60}}
		starts := time.Now()
		if o.work {
			// The commitment round is over before anyone joins.
			plan = []map[string]any{{"kind": "commitment", "seconds": 1}, {"kind": "work", "seconds": 86400}, {"kind": "closing", "seconds": 60}}
			starts = starts.Add(-2 * time.Second)
		}
		if err := o.api(ctx, "POST", "/api/sessions", map[string]any{
			"title": "wtload", "starts_at": starts.UTC().Format(time.RFC3339), "plan": plan, "capacity": min(o.n+1, 200),
			"work_video": o.workVideo,
		}, &sess); err != nil {
			return nil, fmt.Errorf("create session: %w", err)
		}
		o.session = sess.ID
	}
	sockets, err := testpeer.NewSockets(o.rcvbuf)
	if err != nil {
		return nil, err
	}
	loadAPI := testpeer.LoadAPI
	if o.feedback {
		loadAPI = testpeer.FeedbackLoadAPI
	}
	api, err := loadAPI(sockets)
	if err != nil {
		return nil, err
	}
	l := &load{streams: map[string]*stream{}, joinedAt: map[string]time.Time{}}
	peers := make([]*testpeer.Peer, 0, o.n)
	ids := make([]string, 0, o.n)
	defer func() {
		var wg sync.WaitGroup
		for _, p := range peers {
			wg.Add(1)
			go func() { defer wg.Done(); p.Close() }()
		}
		wg.Wait()
	}()
	wsBase := "ws" + strings.TrimPrefix(o.url, "http") + "/ws?token="
	every := time.Duration(float64(time.Second) / o.rate)
	for i := 0; i < o.n; i++ {
		var inv struct{ Token string }
		if err := o.api(ctx, "POST", "/api/sessions/"+o.session+"/invites", map[string]any{"name": fmt.Sprintf("load-%03d", i)}, &inv); err != nil {
			return nil, fmt.Errorf("invite: %w", err)
		}
		joined := time.Now()
		opt := testpeer.Options{OnTrack: l.onTrack(i, joined, layers != nil), Stamp: true, Slots: o.slots}
		if i < o.p {
			if layers != nil {
				opt.Layers = layers
			} else {
				opt.Frames = frames
			}
			opt.Ogg = o.ogg
		}
		p, err := testpeer.Dial(ctx, api, wsBase+url.QueryEscape(inv.Token), opt)
		if refused := (testpeer.ErrRefused{}); errors.As(err, &refused) && refused.Status == http.StatusTooManyRequests {
			return nil, fmt.Errorf("participant %d: %w: %s", i, err, overCap)
		}
		if err != nil {
			return nil, fmt.Errorf("participant %d: %w", i, err)
		}
		peers = append(peers, p)
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		msg, err := p.Expect(wctx, "welcome")
		cancel()
		if err != nil {
			return nil, fmt.Errorf("participant %d: %w", i, err)
		}
		var w struct {
			You struct{ ID string } `json:"you"`
		}
		if err := msg.Decode(&w); err != nil {
			return nil, fmt.Errorf("participant %d: %w", i, err)
		}
		l.mu.Lock()
		l.joinedAt[w.You.ID] = joined
		l.mu.Unlock()
		ids = append(ids, w.You.ID)
		// Tiles name publishers, who join first: the last of them and
		// everyone after say what they show once all publishers are known.
		// A slot subscriber gets only what it names, so it says so as
		// the room grows, as a browser does (see growingTiles).
		if o.tiles > 0 && o.slots > 0 {
			if err := o.growingTiles(peers, ids); err != nil {
				return nil, err
			}
		} else if o.tiles > 0 && i >= o.p-1 {
			from := i
			if i == o.p-1 {
				from = 0
			}
			for j := from; j <= i; j++ {
				if err := peers[j].Send(tilesFor(o, j, ids[:o.p])); err != nil {
					return nil, fmt.Errorf("participant %d: tiles: %w", j, err)
				}
			}
		}
		if err := wait(ctx, time.Until(joined.Add(every))); err != nil {
			return nil, err
		}
	}
	var wk *weak
	if o.weakRate > 0 {
		if wk, err = o.joinWeak(ctx, wsBase, ids[:o.p], layers != nil); err != nil {
			return nil, err
		}
		defer wk.peer.Close()
	}
	if err := wait(ctx, o.warmup); err != nil {
		return nil, err
	}

	before, err := readProc(o.serverPID)
	if err != nil {
		return nil, err
	}
	self0, err := readProc(os.Getpid())
	if err != nil {
		return nil, err
	}
	drops0 := readDrops(sockets.Ports())
	marks := l.mark()
	layersAtStart := l.layerMark()
	if wk != nil {
		wk.start()
	}
	layer0, err := o.layerBytes(ctx)
	if err != nil {
		return nil, err
	}
	p0, b0, t0 := l.packets.Load(), l.bytes.Load(), time.Now()
	if err := wait(ctx, o.duration); err != nil {
		return nil, err
	}
	after, err := readProc(o.serverPID)
	if err != nil {
		return nil, err
	}
	self1, err := readProc(os.Getpid())
	if err != nil {
		return nil, err
	}
	p1, b1, elapsed := l.packets.Load(), l.bytes.Load(), time.Since(t0)
	layer1, err := o.layerBytes(ctx)
	if err != nil {
		return nil, err
	}
	drops1 := readDrops(sockets.Ports())
	rep := l.report(o, p1-p0, b1-b0, elapsed, before, after)
	rep.WindowLossPercent = l.windowLoss(marks)
	rep.Drops = drops1.since(drops0)
	rep.LoadCPUPercent = 100 * (self1.cpu - self0.cpu).Seconds() / elapsed.Seconds()
	for i := range rep.LayerMbps {
		rep.LayerMbps[i] = float64(layer1[i]-layer0[i]) * 8 / elapsed.Seconds() / 1e6
	}
	rep.MinFPS = l.minFPS(marks, elapsed)
	if wk != nil {
		wr := wk.report(o, elapsed, l, marks, b1-b0, layersAtStart)
		rep.Weak = &wr
	}
	rep.StreamsExpected = o.expectedStreams()
	if o.tiles > 0 {
		rep.StreamsReceived = l.inWindow(marks)
	}
	return rep, nil
}
