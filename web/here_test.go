package web

import (
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/testpeer"
)

// In a full room, the room page's look-up tells a person who is in it
// already (another tab, another device) that they are, so the page lets
// them move over instead of calling the room full; someone else hears
// it is full; and once they leave, nobody is "here".
func TestFullRoomKnowsWhoIsHere(t *testing.T) {
	h := newHarness(t, Limits{})
	sess := h.runningSession(1)
	ada, bo := h.invite(sess.ID, "Ada", ""), h.invite(sess.ID, "Bo", "")
	p, _ := h.join(ada.Token, testpeer.Options{})
	look := func(tok string) meResponse {
		t.Helper()
		var me meResponse
		if code := h.do("GET", "/api/me?t="+tok, "", nil, &me); code != 200 {
			t.Fatalf("/api/me: %d", code)
		}
		return me
	}
	if me := look(ada.Token); !me.Here || me.Session.Participants != 1 || me.Session.Capacity != 1 {
		t.Fatalf("Ada, in the room: %+v", me)
	}
	if me := look(bo.Token); me.Here || me.Session.Participants < me.Session.Capacity {
		t.Fatalf("Bo, outside a full room: %+v", me)
	}
	// Ada's second tab is let in, taking over from the first.
	second, _ := h.join(ada.Token, testpeer.Options{})
	if _, err := p.Expect(h.ctx(5*time.Second), "bye"); err != nil {
		t.Fatalf("the first tab was not told: %v", err)
	}
	second.Close()
	eventually(t, 10*time.Second, "Ada is no longer here once she left", func() bool { return !look(ada.Token).Here })
	if me := look(bo.Token); me.Here || me.Session.Participants != 0 {
		t.Fatalf("Bo, in an empty room: %+v", me)
	}
}
