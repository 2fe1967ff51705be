package signaling

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/sfu"
	"github.com/worktogether/worktogether/store"
)

// Layers and tiles (protocol v2, docs/protocol.md): a client may publish on
// a connection of its own offer (simulcast), and says what it shows of each
// publisher so the SFU sends only that.

// maxTilesPerMessage bounds one tiles message; maxTileSide bounds a size.
const (
	maxTilesPerMessage = 200
	maxTileSide        = 16384
)

type wireTile struct {
	Participant string `json:"participant"`
	Visible     *bool  `json:"visible"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Pinned      bool   `json:"pinned"`
}

// presence tells whether the room's video is presence video now: the work
// phase of a session that asks for it.
func (r *liveRoom) presence(st session.State) bool {
	return st.Kind == session.Work && r.sess.WorkVideo != store.WorkVideoFull
}

func (c *client) handlePublishOffer(raw map[string]json.RawMessage) {
	sdp, ok := c.sdpOf(raw, "publish_offer")
	if !ok {
		return
	}
	peer := c.peer.Load()
	if peer == nil {
		c.sendError(CodeNotAllowed, "no media connection yet: send publish_offer after the first offer", "publish_offer")
		return
	}
	answer, err := peer.HandlePublishOffer(sdp)
	switch {
	case err == nil:
		c.sendJSON(msgPublishAnswer{Type: "publish_answer", SDP: answer})
	case errors.Is(err, sfu.ErrPeerClosed):
	default:
		c.sendError(CodeInvalid, err.Error(), "publish_offer")
	}
}

func (c *client) handleTiles(raw map[string]json.RawMessage) {
	if err := fields(raw, []string{"tiles"}); err != nil {
		c.sendError(CodeBadMessage, err.Error(), "tiles")
		return
	}
	var tiles []wireTile
	if err := json.Unmarshal(raw["tiles"], &tiles); err != nil {
		c.sendError(CodeBadMessage, "tiles must be a list of {participant, visible, width, height, pinned}", "tiles")
		return
	}
	if len(tiles) > maxTilesPerMessage {
		c.sendError(CodeInvalid, fmt.Sprintf("at most %d tiles in one message", maxTilesPerMessage), "tiles")
		return
	}
	next := make(map[string]sfu.Tile, len(tiles))
	for _, t := range tiles {
		if t.Participant == "" || len(t.Participant) > 64 || t.Visible == nil {
			c.sendError(CodeInvalid, "each tile needs a participant id and visible", "tiles")
			return
		}
		if t.Width < 0 || t.Height < 0 || t.Width > maxTileSide || t.Height > maxTileSide {
			c.sendError(CodeInvalid, fmt.Sprintf("tile sizes must be 0 to %d pixels", maxTileSide), "tiles")
			return
		}
		next[t.Participant] = sfu.Tile{Visible: *t.Visible, Width: t.Width, Height: t.Height, Pinned: t.Pinned}
	}
	c.tilesMu.Lock()
	if c.tiles == nil {
		c.tiles = make(map[string]sfu.Tile)
	}
	for id, t := range next {
		if len(c.tiles) >= sfu.MaxTiles {
			if _, ok := c.tiles[id]; !ok {
				continue
			}
		}
		c.tiles[id] = t
	}
	c.tilesMu.Unlock()
	if peer := c.peer.Load(); peer != nil {
		peer.SetTiles(next)
		if room := c.room.Load(); room != nil {
			room.media.ReallocateFor(peer)
		}
	}
}

// applyTiles gives a new peer what the client said it shows.
func (c *client) applyTiles(peer *sfu.Peer) {
	c.tilesMu.Lock()
	tiles := make(map[string]sfu.Tile, len(c.tiles))
	for id, t := range c.tiles {
		tiles[id] = t
	}
	c.tilesMu.Unlock()
	if len(tiles) > 0 {
		peer.SetTiles(tiles)
	}
}
