package main

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
)

// scrape reads /metrics into name{labels} -> value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetricsCountWhatIsForwardedAndDropped(t *testing.T) {
	const key = "metrics-key"
	p := start(t, t.TempDir(), "-host-key", key, "-room-idle", "500ms")
	plan := []map[string]any{{"kind": "commitment", "seconds": 1}, {"kind": "work", "seconds": 600}, {"kind": "closing", "seconds": 60}}
	var sess struct{ ID string }
	// Begun two seconds ago: in the work phase from the first packet.
	p.post(t, "/api/sessions", key, map[string]any{"title": "Metrics", "starts_at": time.Now().Add(-2 * time.Second).UTC().Format(time.RFC3339), "plan": plan}, &sess)
	api, err := testpeer.LoopbackAPI()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var peers []*testpeer.Peer
	for _, name := range []string{"Ada", "Bo"} {
		var inv struct{ Token string }
		p.post(t, "/api/sessions/"+sess.ID+"/invites", key, map[string]any{"name": name}, &inv)
		peer, err := testpeer.Dial(ctx, api, "ws"+strings.TrimPrefix(p.url, "http")+"/ws?token="+inv.Token,
			testpeer.Options{IVF: "../../testdata/v180.ivf", Ogg: "../../testdata/tone.ogg"})
		if err != nil {
			t.Fatal(err)
		}
		defer peer.Close()
		peers = append(peers, peer)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		m := scrape(t, p.url)
		if m[`worktogether_audio_packets_dropped_total{reason="quiet"}`] > 50 && m[`worktogether_packets_forwarded_total{kind="video"}`] > 50 {
			if m[`worktogether_packets_forwarded_total{kind="audio"}`] != 0 {
				t.Fatalf("audio forwarded during work: %v", m[`worktogether_packets_forwarded_total{kind="audio"}`])
			}
			if m["worktogether_participants"] != 2 || m[`worktogether_sessions{phase="work"}`] != 1 || m["worktogether_tracks"] != 4 ||
				m[`worktogether_mail_outbox{status="queued"}`] != 0 {
				t.Fatalf("gauges: participants %v, work sessions %v, tracks %v", m["worktogether_participants"],
					m[`worktogether_sessions{phase="work"}`], m["worktogether_tracks"])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed the quiet: %v", m)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Once both have left, the empty room closes (-room-idle).
	for _, peer := range peers {
		peer.Close()
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		m := scrape(t, p.url)
		if m["worktogether_rooms_closed_idle_total"] == 1 && m["worktogether_media_rooms"] == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the empty room never closed: rooms closed for idleness %v, media rooms %v",
				m["worktogether_rooms_closed_idle_total"], m["worktogether_media_rooms"])
		}
		time.Sleep(100 * time.Millisecond)
	}
}
