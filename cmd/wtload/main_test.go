package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDropsAreCountedPerSocket overfills two sockets' receive buffers, one
// the load tool's and one not, and reads where the kernel dropped.
func TestDropsAreCountedPerSocket(t *testing.T) {
	open := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetReadBuffer(4096) // the kernel's minimum: a few packets
		return c
	}
	mine, theirs, sender := open(), open(), open()
	port := func(c *net.UDPConn) int { return c.LocalAddr().(*net.UDPAddr).Port }
	own := []int{port(mine), port(sender)}
	before := readDrops(own)
	if !before.known {
		t.Skip("no /proc/net/udp here")
	}
	payload := make([]byte, 1000)
	for i := 0; i < 50; i++ { // nobody reads: most of these are dropped
		sender.WriteToUDP(payload, mine.LocalAddr().(*net.UDPAddr))
	}
	for i := 0; i < 20; i++ {
		sender.WriteToUDP(payload, theirs.LocalAddr().(*net.UDPAddr))
	}
	// Loopback delivers within sendto: the counters are final now.
	got := readDrops(own).since(before)
	if !got.Known || got.LoadTool < 40 || got.LoadTool > 50 || got.Elsewhere < 10 || got.Elsewhere > 20 {
		t.Errorf("drops %+v, want about 45 at the load tool and about 15 elsewhere", got)
	}
	if cell := got.cell(); cell != strings.TrimSpace(cell) || !strings.Contains(cell, " / ") {
		t.Errorf("table cell %q", cell)
	}
}

// TestLoadAgainstTheServer runs a small load against the real server binary
// and checks the report holds what was measured.
func TestLoadAgainstTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	url, srv := startServer(t)

	o := options{
		url: url, hostKey: "load-test-key", n: 4, p: 2, ivf: "../../testdata/v180.ivf",
		rate: 20, warmup: time.Second, duration: 2 * time.Second,
		serverPID: srv.Process.Pid, floorUS: 3, rcvbuf: 1 << 20,
		// and one more subscriber behind 200 kbit/s: less than the two
		// videos it gets.
		weakRate: 200_000, weakDelay: 20 * time.Millisecond, weakQueue: 100 * time.Millisecond,
	}
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	// 2 publishers, each seen by the 3 others.
	if rep.StreamsExpected != 6 || rep.StreamsReceived != 6 {
		t.Errorf("streams %d of %d, want 6 of 6", rep.StreamsReceived, rep.StreamsExpected)
	}
	if rep.PacketsPerSecond <= 0 || rep.Mbps <= 0 || rep.LossPercent > 5 || rep.WindowLossPercent > 5 {
		t.Errorf("received %.0f packets/s, %.2f Mbit/s, loss %.2f %%", rep.PacketsPerSecond, rep.Mbps, rep.LossPercent)
	}
	if rep.JoinP99ms <= 0 || rep.JoinP99ms > 5000 || rep.LatencyP50ms < 0 || rep.LatencyP99ms < rep.LatencyP50ms {
		t.Errorf("join p99 %.1f ms, latency p50 %.1f / p99 %.1f ms", rep.JoinP99ms, rep.LatencyP50ms, rep.LatencyP99ms)
	}
	if rep.CPUMicrosPerPkt <= 0 || rep.CPUOverFloor <= 0 || rep.PeakRSSMB <= 0 || rep.RSSPerStreamMB <= 0 {
		t.Errorf("server figures missing: %+v", rep)
	}
	if !rep.Drops.Known {
		t.Error("receive-buffer drops not read")
	}
	if w := rep.Weak; w == nil {
		t.Error("no weak subscriber in the report")
	} else {
		// Its line is over-full until the server holds it to its estimate,
		// which may then pause one of the two videos (they do not both fit).
		if w.Streams < 1 || w.Streams > 2 || w.Mbps <= 0 || w.Mbps > 0.25 || w.TailDrops == 0 {
			t.Errorf("the weak subscriber got %d streams at %.3f Mbit/s through 0.2, %d tail drops, %.1f %% loss", w.Streams, w.Mbps, w.TailDrops, w.LossPercent)
		}
		if w.LatencyP50ms < 20 || w.OthersLoss > 5 {
			t.Errorf("weak latency p50 %.1f ms over a 20 ms link; the others' loss %.2f %%", w.LatencyP50ms, w.OthersLoss)
		}
		var row strings.Builder
		w.print(&row, "test")
		head := strings.SplitN(weakHeader, "\n", 2)[0]
		if cells, want := strings.Count(row.String(), "|"), strings.Count(head, "|"); cells != want {
			t.Errorf("weak row has %d separators, the header %d:\n%s", cells, want, row.String())
		}
	}
	var row strings.Builder
	rep.printRow(&row, "test")
	head := strings.SplitN(rowHeader, "\n", 2)[0]
	if cells, want := strings.Count(row.String(), "|"), strings.Count(head, "|"); cells != want {
		t.Errorf("row has %d separators, the header %d:\n%s", cells, want, row.String())
	}
}

// TestLossInTheWindow counts what went missing after the mark apart from
// what went missing before it.
func TestLossInTheWindow(t *testing.T) {
	var s stream
	for seq := uint32(1); seq <= 10; seq++ {
		if seq != 5 {
			s.add(seq)
		}
	}
	m := s.mark()
	for seq := uint32(11); seq <= 20; seq++ {
		if seq != 15 && seq != 16 {
			s.add(seq)
		}
	}
	if lost, expected := s.lostSince(m); lost != 2 || expected != 10 {
		t.Errorf("since the mark: %d of %d lost, want 2 of 10", lost, expected)
	}
	if lost, expected := s.lost(); lost != 3 || expected != 20 {
		t.Errorf("in all: %d of %d lost, want 3 of 20", lost, expected)
	}
	if lost, expected := (&stream{}).lostSince(mark{}); lost != 0 || expected != 0 {
		t.Errorf("a stream that never flowed: %d of %d", lost, expected)
	}
}

// startServer builds and starts the server binary with args on top of a
// loopback test configuration, and returns its URL and process.
func startServer(t *testing.T, args ...string) (string, *exec.Cmd) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "worktogether")
	build := exec.Command("go", "build", "-o", bin, "../worktogether")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build server: %v\n%s", err, out)
	}
	srv := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-data", t.TempDir(), "-udp-port", "0",
		"-loopback-only", "-no-ice-tcp", "-host-key", "load-test-key", "-log-level", "warn"}, args...)...)
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "Worktogether is running at "); ok {
				u, _, _ := strings.Cut(rest, " ")
				urls <- u
			}
		}
	}()
	var url string
	select {
	case url = <-urls:
	case <-time.After(20 * time.Second):
		t.Fatal("server did not start")
	}
	return url, srv
}

// Against a server that caps connections per client, a load too big for
// the cap stops with the way out: every participant comes from here.
func TestLoadOverTheConnectionCapSaysSo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	url, _ := startServer(t, "-max-conns-per-client", "2")
	o := options{url: url, hostKey: "load-test-key", n: 3, p: 1, ivf: "../../testdata/v180.ivf",
		rate: 20, warmup: time.Second, duration: time.Second, rcvbuf: 1 << 20}
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := run(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "-max-conns-per-client 0") {
		t.Fatalf("a load over the cap: %v", err)
	}
	t.Log(err)
}
