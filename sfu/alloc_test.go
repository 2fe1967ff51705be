package sfu

import (
	"testing"
	"time"
)

// layeredForwarder has three layers of the given widths (0: not yet seen).
func layeredForwarder(widths ...uint32) *forwarder {
	f, _ := benchForwarder(0)
	f.layered = true
	for i, w := range widths {
		l := &layer{index: i, rid: []string{"q", "h", "f"}[i], cache: &packetCache{}}
		l.width.Store(w)
		f.layers[i].Store(l)
		f.expected[i] = true
	}
	return f
}

func TestTilesAskForTheLayerThatFits(t *testing.T) {
	f := layeredForwarder(240, 480, 960)
	cases := []struct {
		name     string
		tile     Tile
		presence bool
		layer    int
		tid      int
	}{
		{"hidden", Tile{Visible: false, Width: 1000}, false, noLayer, allTemporal},
		{"unknown size gets the best", Tile{Visible: true}, false, 2, allTemporal},
		{"small", Tile{Visible: true, Width: 200}, false, 0, allTemporal},
		{"exactly the low width", Tile{Visible: true, Width: 240}, false, 0, allTemporal},
		{"medium", Tile{Visible: true, Width: 400}, false, 1, allTemporal},
		{"large", Tile{Visible: true, Width: 900}, false, 2, allTemporal},
		{"larger than every layer", Tile{Visible: true, Width: 4000}, false, 2, allTemporal},
		{"presence", Tile{Visible: true, Width: 900}, true, 0, presenceTID},
		{"presence, pinned", Tile{Visible: true, Width: 900, Pinned: true}, true, 2, allTemporal},
		{"presence, hidden", Tile{Visible: false}, true, noLayer, allTemporal},
	}
	for _, c := range cases {
		layer, tid := f.desired(c.tile, c.presence)
		if layer != c.layer || tid != c.tid {
			t.Errorf("%s: layer %d tid %d, want %d %d", c.name, layer, tid, c.layer, c.tid)
		}
	}

	// Sizes not known yet: Galène's rule of thumb, by tile width.
	f = layeredForwarder(0, 0, 0)
	for _, c := range []struct{ width, layer int }{{320, 0}, {640, 1}, {641, 2}} {
		if layer, _ := f.desired(Tile{Visible: true, Width: c.width}, false); layer != c.layer {
			t.Errorf("unknown sizes, %d px: layer %d, want %d", c.width, layer, c.layer)
		}
	}
	// A layer not seen yet above one that is too small is taken as larger.
	f = layeredForwarder(240, 0, 0)
	if layer, _ := f.desired(Tile{Visible: true, Width: 400}, false); layer != 1 {
		t.Errorf("layer %d for 400 px above a 240-wide layer, want 1", layer)
	}
}

func TestAFlowingLayerStandsInForOneThatIsNot(t *testing.T) {
	f := layeredForwarder(240, 480, 960)
	now := time.Now().UnixNano()
	f.layer(0).lastPacket.Store(now)
	f.layer(1).lastPacket.Store(now - int64(5*time.Second)) // stopped
	f.layer(2).lastPacket.Store(now)
	if got := f.effective(1, now); got != 0 {
		t.Fatalf("middle layer stopped: forward %d, want the one below (0)", got)
	}
	f.layer(0).lastPacket.Store(now - int64(5*time.Second))
	if got := f.effective(1, now); got != 2 {
		t.Fatalf("nothing flows below: forward %d, want the one above (2)", got)
	}
	f.layer(2).lastPacket.Store(now - int64(5*time.Second))
	if got := f.effective(1, now); got != 1 {
		t.Fatalf("nothing flows: forward %d, want the wish (1), which its publisher will start", got)
	}
	if got := f.effective(noLayer, now); got != noLayer {
		t.Fatalf("hidden: forward %d", got)
	}
}
