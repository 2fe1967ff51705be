package signaling

import (
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/store"
)

// The shapes of the wire contract (../shared/protocol.md, docs/protocol.md).

type WirePhase struct {
	Index     int       `json:"index"`
	Kind      string    `json:"kind"`
	StartedAt time.Time `json:"started_at"`
	EndsAt    time.Time `json:"ends_at"`
}

type WireSession struct {
	ID           string         `json:"id"`
	Title        string         `json:"title"`
	StartsAt     time.Time      `json:"starts_at"`
	Plan         session.Plan   `json:"plan"`
	Capacity     int            `json:"capacity"`
	LobbySeconds int            `json:"lobby_seconds"`
	WorkVideo    string         `json:"work_video"` // extension: "presence" or "full"
	Private      bool           `json:"private"`    // extension: invite links only, never announced
	HostURL      string         `json:"host_url,omitempty"`
	OpenURL      string         `json:"open_url,omitempty"` // extension: one link anyone may use to join
	Mail         map[string]int `json:"mail,omitempty"`     // extension, host only: the session's mails by status`
	Participants int            `json:"participants"`
	Phase        *WirePhase     `json:"phase,omitempty"`
}

type WireState struct {
	Phase      WirePhase `json:"phase"`
	ServerTime time.Time `json:"server_time"`
}

type WireYou struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

type WireCommitment struct {
	Tasks []string `json:"tasks"`
}

type WireReport struct {
	Done []bool `json:"done"`
	Note string `json:"note"`
}

type WireParticipant struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Role       string          `json:"role"`
	Present    bool            `json:"present"`
	Commitment *WireCommitment `json:"commitment"`
	Report     *WireReport     `json:"report"`
	Muted      bool            `json:"muted"`
	// Extension: what the participant says of themselves (status message);
	// mic and camera are null until they say.
	Mic    *bool `json:"mic"`
	Camera *bool `json:"camera"`
	Hand   bool  `json:"hand"`
	Away   bool  `json:"away"`
}

type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Server -> client messages.

type MsgWelcome struct {
	Type         string            `json:"type"`
	You          WireYou           `json:"you"`
	Session      WireSession       `json:"session"`
	State        WireState         `json:"state"`
	Participants []WireParticipant `json:"participants"`
	ICEServers   []ICEServer       `json:"ice_servers"`
	Turn         *WireTurn         `json:"turn"` // extension: the speaking order, null outside rounds
	// PublishLimit is the cap on what the participant may publish, all
	// tracks together, in bits per second; 0: none (extension).
	PublishLimit int `json:"publish_limit"`
}

// WireTurn is the speaking order of a commitment or closing round
// (extension).
type WireTurn struct {
	Order     []string  `json:"order"`   // participant ids
	Current   int       `json:"current"` // index into order; len(order) once everyone has spoken
	Speaker   string    `json:"speaker"` // who is on, "" once everyone has spoken
	StartedAt time.Time `json:"started_at"`
	Seconds   int       `json:"seconds"` // suggested speaking time each
}

// MsgTurn announces the speaking order (extension): when a round starts or
// ends, when the turn passes, when a latecomer is added.
type MsgTurn struct {
	Type string    `json:"type"`
	Turn *WireTurn `json:"turn"`
}

type MsgState struct {
	Type string `json:"type"`
	WireState
}

type msgParticipant struct {
	Type string `json:"type"`
	WireParticipant
}

type MsgOffer struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

type msgCandidate struct {
	Type      string                  `json:"type"`
	Candidate webrtc.ICECandidateInit `json:"candidate"`
	PC        string                  `json:"pc,omitempty"` // extension: "publish" for the publish connection
}

// msgPublishAnswer answers a client's publish_offer (extension, v2).
type msgPublishAnswer struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

// msgLayers tells a simulcast publisher which rids of its video anyone
// receives (extension, v2).
type msgLayers struct {
	Type string   `json:"type"`
	RIDs []string `json:"rids"`
}

// msgPaused tells a subscriber whose videos the server holds back because
// its connection has no room for them (v2 extension).
type msgPaused struct {
	Type         string   `json:"type"`
	Participants []string `json:"participants"`
}

// msgSlots tells a slot subscriber which participant each of its slots
// carries now, null for none (v2 extension).
type msgSlots struct {
	Type  string             `json:"type"`
	Slots map[string]*string `json:"slots"`
}

// pcPublish names the publish connection in candidate messages.
const pcPublish = "publish"

type MsgError struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`          // for people, in the client's language
	Ref     string `json:"ref"`              // the type of the message it answers
	Detail  string `json:"detail,omitempty"` // extension: for developers, in English
}

type MsgBye struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// Error codes of the contract.
const (
	CodeBadMessage  = "bad_message"
	CodeNotAllowed  = "not_allowed"
	CodeInvalid     = "invalid"
	CodeFull        = "full"
	CodeGuestsFull  = "guests_full" // extension: the open link's share of the room is taken
	CodeRateLimited = "rate_limited"
)

// Reasons of bye.
const (
	ByeEnded     = "ended"
	ByeRemoved   = "removed"
	ByeReplaced  = "replaced"
	ByeCancelled = "cancelled"
	ByeShutdown  = "shutdown"
)

// Roles.
const (
	RoleParticipant = "participant"
	RoleHost        = "host"
)

func ToWirePhase(st session.State) WirePhase {
	return WirePhase{Index: st.Index, Kind: st.Kind.String(), StartedAt: st.StartedAt.UTC(), EndsAt: st.EndsAt.UTC()}
}

func ToWireParticipant(p store.Participant, present, muted bool) WireParticipant {
	w := WireParticipant{ID: p.ID, Name: p.Name, Role: p.Role, Present: present, Muted: muted}
	if p.Commitment != nil {
		w.Commitment = &WireCommitment{Tasks: p.Commitment}
	}
	if p.Report != nil {
		w.Report = &WireReport{Done: p.Report.Done, Note: p.Report.Note}
	}
	return w
}

func ToWireSession(s store.Session) WireSession {
	return WireSession{
		ID:           s.ID,
		Title:        s.Title,
		StartsAt:     s.StartsAt.UTC(),
		Plan:         s.Plan,
		Capacity:     s.Capacity,
		LobbySeconds: s.LobbySeconds,
		WorkVideo:    s.WorkVideo,
		Private:      s.Private,
	}
}
