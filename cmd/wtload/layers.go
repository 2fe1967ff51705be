package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
)

// Simulcast and tiles: what a browser in a big room does, for the load tool.

// tileWidth and tileHeight are the size, in device pixels, of every tile a
// load subscriber shows: a small grid cell, which asks for the low layer.
const (
	tileWidth  = 320
	tileHeight = 180
)

// shown is which publishers (by index) subscriber i shows: the o.tiles
// after it, round the room, so every publisher is shown about equally.
func (o *options) shown(i int) []int {
	var out []int
	for k := 1; len(out) < o.tiles && k <= o.p; k++ {
		j := (i + k) % o.p
		if j != i {
			out = append(out, j)
		}
	}
	return out
}

// tilesFor is subscriber i's tiles message: its shown publishers visible
// and small, every other publisher hidden.
func tilesFor(o options, i int, publishers []string) map[string]any {
	visible := map[int]bool{}
	for _, j := range o.shown(i) {
		visible[j] = true
	}
	tiles := make([]map[string]any, 0, len(publishers))
	for j, id := range publishers {
		if j == i {
			continue
		}
		t := map[string]any{"participant": id, "visible": visible[j], "width": 0, "height": 0, "pinned": false}
		if visible[j] {
			t["width"], t["height"] = tileWidth, tileHeight
		}
		tiles = append(tiles, t)
	}
	return map[string]any{"type": "tiles", "tiles": tiles}
}

// growingTiles sends the tiles of a slot subscriber as a browser would: the
// one who just joined says what it shows of who is there, and everyone
// who shows the newcomer says so again. ids are everyone joined so far.
func (o *options) growingTiles(peers []*testpeer.Peer, ids []string) error {
	i := len(ids) - 1
	known := ids[:min(len(ids), o.p)]
	for j := range peers {
		if j != i && (i >= o.p || !slices.Contains(o.shown(j), i)) {
			continue
		}
		if err := peers[j].Send(tilesFor(*o, j, known)); err != nil {
			return fmt.Errorf("participant %d: tiles: %w", j, err)
		}
	}
	return nil
}

// expectedStreams is how many video streams the subscribers should
// receive: every publisher but themselves, or only what they show.
func (o *options) expectedStreams() int {
	if o.tiles <= 0 {
		return o.p * (o.n - 1)
	}
	n := 0
	for i := 0; i < o.n; i++ {
		if i < o.p {
			n += len(o.shown(i))
		} else {
			n += min(o.tiles, o.p)
		}
	}
	return n
}

// layerBytes reads the server's video egress by layer from its /metrics.
func (o *options) layerBytes(ctx context.Context) ([3]float64, error) {
	var out [3]float64
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", o.url+"/metrics", nil)
	if err != nil {
		return out, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return out, fmt.Errorf("read metrics: %w", err)
	}
	defer resp.Body.Close()
	const name = `worktogether_video_layer_bytes_forwarded_total{layer="`
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 4<<20))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		i, err := strconv.Atoi(rest[:1])
		if err != nil || i < 0 || i > 2 {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err == nil {
			out[i] = v
		}
	}
	return out, sc.Err()
}

// inWindow counts the streams that received packets in the window (with
// tiles, streams hidden after the joins stop and do not count).
func (l *load) inWindow(marks map[*stream]mark) int {
	n := 0
	for s, m := range marks {
		if s.mark().received > m.received {
			n++
		}
	}
	return n
}

// minFPS is the lowest frame rate of any stream that received packets in
// the window.
func (l *load) minFPS(marks map[*stream]mark, window time.Duration) float64 {
	lowest := -1.0
	for s, m := range marks {
		if s.mark().received == m.received {
			continue
		}
		fps := float64(s.frames.Load()-m.frames) / window.Seconds()
		if lowest < 0 || fps < lowest {
			lowest = fps
		}
	}
	return max(lowest, 0)
}
