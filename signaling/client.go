package signaling

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
	"github.com/worktogether/worktogether/sfu"
	"github.com/worktogether/worktogether/store"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// maxFrame is the largest websocket message a client may send; a larger one
// closes the connection with status 1009.
const maxFrame = 64 << 10

// client is one websocket. Only the writer goroutine writes to the
// connection; everyone else queues. The reader runs in the HTTP handler's
// goroutine.
type client struct {
	hub     *Hub
	conn    *websocket.Conn
	log     *zap.Logger
	id      string // participant id
	name    string
	role    string
	guest   bool      // came by the open link
	sub     string    // the subscriber whose mailed link this is, if any
	lang    string    // the language of its error messages
	slots   sfu.Slots // what it asked for in the websocket URL
	limiter *rate.Limiter
	// statusLimit bounds the status messages passed on to the whole room
	// (each one is a message to everyone).
	statusLimit *rate.Limiter

	queue       *sendQueue
	closing     chan struct{}
	closeOnce   sync.Once
	dropped     atomic.Bool // closed without flushing the queue
	closeCode   int
	closeText   string
	writerDone  chan struct{}
	peer        atomic.Pointer[sfu.Peer]
	room        atomic.Pointer[liveRoom]
	lastLimited atomic.Int64 // when we last told this client it was rate limited

	tilesMu sync.Mutex
	tiles   map[string]sfu.Tile // what the client shows, kept across its peers
}

var _ sfu.Signaler = (*client)(nil)

// Join is a websocket the web layer has admitted: who it is, in which
// session, and what it asked for.
type Join struct {
	Session     store.Session
	Participant string
	Name        string
	Role        string
	Guest       bool      // came by the open link
	Subscriber  string    // the subscriber whose mailed link this is, if any
	Lang        string    // the language of its error messages
	Slots       sfu.Slots // from the websocket URL (SlotsParam)
}

// ServeWS upgrades an admitted request to a websocket and runs its client
// in the session's room until it goes.
func (h *Hub) ServeWS(w http.ResponseWriter, r *http.Request, j Join) {
	up := &websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		CheckOrigin:     h.cfg.CheckOrigin,
	}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	limits := h.cfg.Limits
	if tc, ok := conn.NetConn().(*net.TCPConn); ok && limits.SocketBuffer > 0 {
		_ = tc.SetWriteBuffer(limits.SocketBuffer)
	}
	c := &client{
		hub:         h,
		conn:        conn,
		log:         h.log.With(zap.String("session", j.Session.ID), zap.String("participant", j.Participant)),
		id:          j.Participant,
		name:        j.Name,
		role:        j.Role,
		lang:        j.Lang,
		guest:       j.Guest,
		sub:         j.Subscriber,
		slots:       j.Slots,
		limiter:     rate.NewLimiter(rate.Limit(limits.MessagesPerSecond), limits.MessageBurst),
		statusLimit: rate.NewLimiter(StatusPerSecond, StatusBurst),
		queue:       newSendQueue(limits),
		closing:     make(chan struct{}),
		writerDone:  make(chan struct{}),
		closeCode:   websocket.CloseNormalClosure,
	}
	go c.writeLoop()
	if err := h.join(r.Context(), j.Session, c); errors.Is(err, errRoomOver) {
		c.sendBye(ByeEnded)
	} else if err != nil {
		c.log.Warn("join", zap.Error(err))
		c.closeWith(websocket.CloseInternalServerErr, "could not join the room")
	}
	c.readLoop()
	if room := c.room.Load(); room != nil {
		room.do(func() { room.leave(c) })
	}
	c.closeWith(websocket.CloseNormalClosure, "")
	<-c.writerDone
}

// sendJSON queues a message. A client too far behind is dropped, so it
// never holds up the room.
func (c *client) sendJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.log.Error("encode message", zap.Error(err))
		return
	}
	select {
	case <-c.closing:
		return
	default:
	}
	switch c.queue.push(b, supersedes(v), time.Now()) {
	case dropLag:
		c.log.Warn("client too far behind, dropping it", zap.String("why", "a message waited too long"), zap.Duration("lag", c.hub.cfg.Limits.SendLag), zap.Int("queued", c.queue.len()))
		c.hub.lagDrops.Add(1)
		c.drop()
	case dropFull:
		c.log.Warn("client's queue is full, dropping it", zap.Int("queued", c.queue.len()))
		c.hub.fullDrops.Add(1)
		c.drop()
	}
}

// sendError tells the client why a message was refused: msg in English as
// the detail, the catalog's words in the client's language as the message.
func (c *client) sendError(code, msg, ref string) {
	c.sendJSON(MsgError{Type: "error", Code: code, Message: c.hub.cfg.ErrorText(c.lang, code, ref, msg), Ref: ref, Detail: msg})
}

// sendBye queues bye and closes the connection once the queue is flushed.
func (c *client) sendBye(reason string) {
	c.sendJSON(MsgBye{Type: "bye", Reason: reason})
	c.closeWith(websocket.CloseNormalClosure, reason)
}

// closeWith closes the connection after what is queued has been written.
func (c *client) closeWith(code int, text string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.closing)
	})
}

// drop closes the connection at once, dropping what is queued.
func (c *client) drop() {
	c.closeOnce.Do(func() {
		c.dropped.Store(true)
		close(c.closing)
		c.conn.Close() // unblocks a write stuck on a client that does not read
	})
}

func (c *client) writeLoop() {
	defer close(c.writerDone)
	defer c.conn.Close()
	ping := time.NewTicker(c.hub.cfg.Limits.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.queue.wake:
			if !c.flush(ping.C) {
				return
			}
		case <-ping.C:
			if !c.ping() {
				return
			}
		case <-c.closing:
			if c.dropped.Load() || !c.flush(ping.C) {
				return
			}
			msg := websocket.FormatCloseMessage(c.closeCode, c.closeText)
			_ = c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			return
		}
	}
}

// flush writes what is queued, and the pings that fall due meanwhile; false
// when the connection is done for.
func (c *client) flush(ping <-chan time.Time) bool {
	for {
		select {
		case <-ping:
			if !c.ping() {
				return false
			}
		default:
		}
		m, ok := c.queue.pop()
		if !ok {
			return true
		}
		if !c.write(m) {
			return false
		}
	}
}

func (c *client) ping() bool {
	err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.hub.cfg.Limits.WriteTimeout))
	if err != nil {
		c.writeFailed(err)
		return false
	}
	return true
}

// writeChunk is how much of a message is written under one deadline.
const writeChunk = 4 << 10

// write writes one message, a chunk at a time: a client that takes none of
// it for SendLag is dropped as too far behind. A long message to a slow
// line is fine as long as it goes on.
func (c *client) write(m queued) bool {
	lag := c.hub.cfg.Limits.SendLag
	_ = c.conn.SetWriteDeadline(time.Now().Add(lag))
	w, err := c.conn.NextWriter(websocket.TextMessage)
	for b := m.b; err == nil && len(b) > 0; {
		n := min(len(b), writeChunk)
		_ = c.conn.SetWriteDeadline(time.Now().Add(lag))
		_, err = w.Write(b[:n])
		b = b[n:]
	}
	if err == nil {
		_ = c.conn.SetWriteDeadline(time.Now().Add(lag))
		err = w.Close()
	}
	if err != nil {
		c.writeFailed(err)
		return false
	}
	return true
}

// writeFailed drops the connection after a failed write, counting a write
// that ran out of time as a client too far behind.
func (c *client) writeFailed(err error) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && !c.dropped.Load() {
		c.log.Warn("client too far behind, dropping it", zap.String("why", "it took nothing for that long"), zap.Duration("lag", c.hub.cfg.Limits.SendLag), zap.Int("queued", c.queue.len()))
		c.hub.lagDrops.Add(1)
	}
	c.drop()
}

func (c *client) readLoop() {
	limits := c.hub.cfg.Limits
	c.conn.SetReadLimit(maxFrame)
	_ = c.conn.SetReadDeadline(time.Now().Add(limits.PongWait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(limits.PongWait))
	})
	for {
		kind, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(limits.PongWait))
		if kind != websocket.TextMessage {
			c.sendError(CodeBadMessage, "messages are JSON text frames", "")
			continue
		}
		c.handle(data)
	}
}

// SendOffer implements sfu.Signaler.
func (c *client) SendOffer(sdp string) { c.sendJSON(MsgOffer{Type: "offer", SDP: sdp}) }

// SendCandidate implements sfu.Signaler.
func (c *client) SendCandidate(cand webrtc.ICECandidateInit) {
	c.sendJSON(msgCandidate{Type: "candidate", Candidate: cand})
}

// SendPublishCandidate implements sfu.Signaler.
func (c *client) SendPublishCandidate(cand webrtc.ICECandidateInit) {
	c.sendJSON(msgCandidate{Type: "candidate", Candidate: cand, PC: pcPublish})
}

// SendLayers implements sfu.Signaler.
func (c *client) SendLayers(rids []string) { c.sendJSON(msgLayers{Type: "layers", RIDs: rids}) }

// SendPaused implements sfu.Signaler.
func (c *client) SendPaused(publishers []string) {
	c.sendJSON(msgPaused{Type: "paused", Participants: publishers})
}

// SendSlots implements sfu.Signaler.
func (c *client) SendSlots(slots map[string]string) {
	m := msgSlots{Type: "slots", Slots: make(map[string]*string, len(slots))}
	for name, id := range slots {
		if id == "" {
			m.Slots[name] = nil
		} else {
			m.Slots[name] = &id
		}
	}
	c.sendJSON(m)
}

// SlotsParam reads the slots a client asks for in the websocket URL
// (video_slots, audio_slots); none when it names none.
func SlotsParam(r *http.Request) (sfu.Slots, error) {
	var s sfu.Slots
	q := r.URL.Query()
	for _, p := range []struct {
		name string
		to   *int
	}{{"video_slots", &s.Video}, {"audio_slots", &s.Audio}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return s, fmt.Errorf("%s must be a positive number", p.name)
		}
		*p.to = n
	}
	return s.Check()
}

// PeerFailed implements sfu.Signaler: the media connection is dead, so the
// websocket is closed and the client reconnects with a fresh one.
func (c *client) PeerFailed() {
	c.log.Info("media connection failed, closing so the client reconnects")
	c.closeWith(websocket.CloseTryAgainLater, "media connection failed, reconnect")
}
