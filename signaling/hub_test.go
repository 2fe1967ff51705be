package signaling

import (
	"context"
	"testing"
	"time"

	"github.com/worktogether/worktogether/session"
	"github.com/worktogether/worktogether/sfu"
	"github.com/worktogether/worktogether/store"
	"go.uber.org/zap/zaptest"
)

// fakeStore is a Store whose GetSession blocks for the sessions in hold
// until their channel closes.
type fakeStore struct {
	hold map[string]chan struct{}
}

var _ Store = (*fakeStore)(nil)

func (f *fakeStore) GetSession(ctx context.Context, id string) (store.Session, error) {
	if ch := f.hold[id]; ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return store.Session{}, ctx.Err()
		}
	}
	return testSession(id), nil
}

func (f *fakeStore) JoinedParticipants(context.Context, string) ([]store.Participant, error) {
	return nil, nil
}
func (f *fakeStore) PendingInvitees(context.Context, string) (int, error) { return 0, nil }
func (f *fakeStore) MarkJoined(context.Context, store.Participant, time.Time) error {
	return nil
}
func (f *fakeStore) SavePhase(context.Context, string, session.State, string, time.Time) error {
	return nil
}
func (f *fakeStore) SaveCommitment(context.Context, string, string, []string, time.Time) error {
	return nil
}
func (f *fakeStore) SaveReport(context.Context, string, string, store.Report, time.Time) error {
	return nil
}
func (f *fakeStore) SetMuted(context.Context, string, string, *int) error { return nil }
func (f *fakeStore) SetRemoved(context.Context, string, string, time.Time) error {
	return nil
}

var testNow = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func testSession(id string) store.Session {
	return store.Session{ID: id, Title: id, StartsAt: testNow.Add(time.Hour), Plan: session.DefaultPlan(),
		Capacity: 10, LobbySeconds: 3600, HostParticipant: "host-" + id, CreatedAt: testNow}
}

func testHub(t *testing.T, st Store) *Hub {
	t.Helper()
	log := zaptest.NewLogger(t)
	router, err := sfu.NewRouter(sfu.Config{LoopbackOnly: true}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { router.Close() })
	h, err := NewHub(Config{Store: st, Router: router, Log: log, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return h
}

// waitLoading waits, a bounded while, until the room of id is loading.
func waitLoading(t *testing.T, h *Hub, id string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		h.mu.Lock()
		loading := h.pending[id] != nil
		h.mu.Unlock()
		if loading {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the room of %s never began to load", id)
		}
	}
}

// A room whose session is slow to load holds up neither the hub nor other
// sessions' rooms; joins of the same session wait for the one load and get
// the same room.
func TestRoomForLoadsWithoutTheHubLock(t *testing.T) {
	slow := make(chan struct{})
	h := testHub(t, &fakeStore{hold: map[string]chan struct{}{"slow": slow}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	type result struct {
		r   *liveRoom
		err error
	}
	slowRooms := make(chan result, 2)
	for range 2 {
		go func() {
			r, err := h.roomFor(ctx, testSession("slow"))
			slowRooms <- result{r, err}
		}()
	}
	waitLoading(t, h, "slow")

	// While "slow" loads, another session's room starts and the hub answers.
	fast, err := h.roomFor(ctx, testSession("fast"))
	if err != nil || fast == nil {
		t.Fatalf("fast room: %v", err)
	}
	if n := h.Present("slow"); n != 0 {
		t.Fatalf("present in a room still loading: %d", n)
	}
	select {
	case res := <-slowRooms:
		t.Fatalf("slow room ready before its load finished: %v", res.err)
	default:
	}

	close(slow)
	a, b := <-slowRooms, <-slowRooms
	if a.err != nil || b.err != nil {
		t.Fatalf("slow room: %v, %v", a.err, b.err)
	}
	if a.r != b.r {
		t.Fatal("two joins of one session got two rooms")
	}
	if len(h.live()) != 2 {
		t.Fatalf("rooms running: %d, want 2", len(h.live()))
	}
}

// A load whose join went away is taken over by the next join.
func TestRoomForRetriesAfterACancelledLoad(t *testing.T) {
	slow := make(chan struct{})
	h := testHub(t, &fakeStore{hold: map[string]chan struct{}{"s": slow}})
	gone, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := h.roomFor(gone, testSession("s"))
		first <- err
	}()
	waitLoading(t, h, "s")
	second := make(chan error, 1)
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	go func() {
		_, err := h.roomFor(ctx, testSession("s"))
		second <- err
	}()
	cancel()
	if err := <-first; err == nil {
		t.Fatal("a cancelled load started a room")
	}
	close(slow)
	if err := <-second; err != nil {
		t.Fatalf("the next join after a cancelled load: %v", err)
	}
}
