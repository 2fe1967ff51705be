package signaling

import (
	"context"
	"fmt"

	"go.uber.org/zap"
)

// guestsPerCapacity bounds how many guests one session's open link lets in
// over its life, per seat: the member list stays bounded however many
// come and go.
const guestsPerCapacity = 2

// guestRefusal says why a guest may not come in now, or "" when they may:
// the open link has let in its share of guests (isNew), or every seat left
// is kept for an invited participant who has not come yet.
func (r *liveRoom) guestRefusal(isNew bool) string {
	guests, present := 0, 0
	for _, m := range r.members {
		if m.guest {
			guests++
			if m.client != nil {
				present++
			}
		}
	}
	if isNew && guests >= guestsPerCapacity*r.sess.Capacity {
		return fmt.Sprintf("this open link has let in as many guests as it may (%d)", guests)
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	pending, err := r.hub.cfg.Store.PendingInvitees(ctx, r.id)
	cancel()
	if err != nil {
		r.log.Warn("count invitees", zap.Error(err))
		pending = 0 // let the guest in rather than refuse on a failed count
	}
	if free := r.sess.Capacity - int(r.countPresent()) - pending; free <= 0 {
		return "the seats left are kept for invited participants"
	}
	return ""
}
