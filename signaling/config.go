package signaling

import (
	"context"
	"net/http"
	"time"

	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/sfu"
	"github.com/worktogether/worktogether/store"
	"go.uber.org/zap"
)

// Store is what a room reads and writes.
type Store interface {
	GetSession(ctx context.Context, id string) (store.Session, error)
	JoinedParticipants(ctx context.Context, sessionID string) ([]store.Participant, error)
	PendingInvitees(ctx context.Context, sessionID string) (int, error)
	MarkJoined(ctx context.Context, p store.Participant, at time.Time) error
	SavePhase(ctx context.Context, id string, st session.State, cause string, at time.Time) error
	SaveCommitment(ctx context.Context, sessionID, id string, tasks []string, at time.Time) error
	SaveReport(ctx context.Context, sessionID, id string, r store.Report, at time.Time) error
	SetMuted(ctx context.Context, sessionID, id string, phase *int) error
	SetRemoved(ctx context.Context, sessionID, id string, at time.Time) error
}

var _ Store = (*store.Store)(nil)

// Limits bound what one websocket may cost the server.
type Limits struct {
	// A client is dropped as too slow when the oldest message waiting for
	// it has waited SendLag, or a write to it has not moved for SendLag.
	// SendQueue messages and SendQueueBytes bytes waiting are the backstop;
	// a message that supersedes one still waiting (a participant's, the
	// state, the turn) replaces it.
	SendLag        time.Duration
	SendQueue      int
	SendQueueBytes int
	// SocketBuffer is the kernel's send buffer of a websocket in bytes
	// (Linux doubles it): what the server has written but the client has
	// not read, out of the queue's sight. Negative leaves the kernel's own,
	// which grows to megabytes.
	SocketBuffer      int
	WriteTimeout      time.Duration // one write to a client, at most (pings, the close)
	PingInterval      time.Duration // how often the server pings
	PongWait          time.Duration // silence after which a client is taken for dead
	MessagesPerSecond float64       // steady rate of client messages
	MessageBurst      int           // burst of client messages
}

// DefaultLimits suit browsers on ordinary networks.
func DefaultLimits() Limits {
	return Limits{
		SendLag:           10 * time.Second,
		SendQueue:         1024,
		SendQueueBytes:    1 << 20,
		SocketBuffer:      32 << 10,
		WriteTimeout:      10 * time.Second,
		PingInterval:      15 * time.Second,
		PongWait:          45 * time.Second,
		MessagesPerSecond: 50,
		MessageBurst:      200,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.SendLag <= 0 {
		l.SendLag = d.SendLag
	}
	if l.SendQueue <= 0 {
		l.SendQueue = d.SendQueue
	}
	if l.SendQueueBytes <= 0 {
		l.SendQueueBytes = d.SendQueueBytes
	}
	if l.SocketBuffer == 0 {
		l.SocketBuffer = d.SocketBuffer
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.PingInterval <= 0 {
		l.PingInterval = d.PingInterval
	}
	if l.PongWait <= 0 {
		l.PongWait = d.PongWait
	}
	if l.MessagesPerSecond <= 0 {
		l.MessagesPerSecond = d.MessagesPerSecond
	}
	if l.MessageBurst <= 0 {
		l.MessageBurst = d.MessageBurst
	}
	return l
}

// Config is everything the room core needs.
type Config struct {
	Store  Store
	Router *sfu.Router
	Log    *zap.Logger
	Now    func() time.Time // the server clock; time.Now when nil
	Limits Limits           // zero fields take DefaultLimits
	// ICEServers are the STUN/TURN servers a participant's connections may
	// use, handed out in welcome; none when nil.
	ICEServers func(participant string) []ICEServer
	// CheckOrigin tells whether a browser's websocket may come from the
	// Origin it names; the upgrader's same-host check when nil.
	CheckOrigin func(r *http.Request) bool
	// ErrorText is what a person reads for an error message: msg is the
	// English detail, code and ref what it answers. msg itself when nil.
	ErrorText func(lang, code, ref, msg string) string
	// IdleClose is how long a room stays open with nobody connected before
	// it closes (its goroutine and media room); the next join opens it
	// again from the store. DefaultIdleClose when zero; never when negative.
	IdleClose time.Duration
}

// DefaultIdleClose is how long an empty room stays open by default.
const DefaultIdleClose = 2 * time.Minute
