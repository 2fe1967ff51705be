package signaling

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/worktogether/worktogether/internal/testpeer"
)

// Joins that race the end of a session: each is refused (401), or gets
// bye ended, or is welcomed into the running session and then gets bye
// ended; none is welcomed into an ended session or left connected.
func TestJoinsRacingTheEndGetByeEnded(t *testing.T) {
	const joiners = 60
	h := newHarness(t, Limits{})
	sess := h.createSession(h.now().Add(-time.Second), nil, 200)
	host, _ := h.join(h.invite(sess.ID, "Hosting", "host").Token, testpeer.Options{})
	tokens := make([]string, joiners)
	for i := range tokens {
		tokens[i] = h.invite(sess.ID, "Racer", "").Token
	}
	type outcome struct {
		refused, welcomedEnded, stayed bool
		bye                            string
	}
	results := make(chan outcome, joiners)
	var wg sync.WaitGroup
	start := make(chan struct{})
	// The host ends the session once a few are in, while the rest are
	// still on their way.
	welcomed := make(chan struct{}, joiners)
	go func() {
		for range 5 {
			select {
			case <-welcomed:
			case <-time.After(10 * time.Second):
			}
		}
		host.Send(map[string]any{"type": "host", "action": "end"})
	}()
	for _, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			conn, _, err := websocket.DefaultDialer.Dial(h.wsURL(tok), nil)
			if err != nil {
				results <- outcome{refused: true}
				return
			}
			defer conn.Close()
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			var o outcome
			for {
				_, raw, err := conn.ReadMessage()
				if err != nil {
					o.stayed = o.bye == ""
					results <- o
					return
				}
				var m struct {
					Type   string    `json:"type"`
					Reason string    `json:"reason"`
					State  wireState `json:"state"`
				}
				json.Unmarshal(raw, &m)
				switch m.Type {
				case "welcome":
					o.welcomedEnded = m.State.Phase.Kind == "ended"
					welcomed <- struct{}{}
				case "bye":
					o.bye = m.Reason
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	n := map[string]int{}
	for o := range results {
		switch {
		case o.welcomedEnded:
			t.Error("a join was welcomed into the ended session")
		case o.stayed:
			t.Error("a join stayed connected without bye")
		case o.refused:
			n["refused"]++
		case o.bye != "ended":
			t.Errorf("bye %q", o.bye)
		default:
			n["bye ended"]++
		}
	}
	t.Logf("%d joins racing the end: %v", joiners, n)
}
