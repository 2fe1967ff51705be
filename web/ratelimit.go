package web

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// keyedLimiter is one token bucket per key (a client address, a mail
// address), forgetting keys that have been quiet for a while so its memory
// stays bounded.
type keyedLimiter struct {
	every time.Duration
	burst int
	max   int

	mu   sync.Mutex
	keys map[string]*keyedEntry
}

type keyedEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newKeyedLimiter(every time.Duration, burst, maxKeys int) *keyedLimiter {
	return &keyedLimiter{every: every, burst: burst, max: maxKeys, keys: make(map[string]*keyedEntry)}
}

// allow takes a token for key at now.
func (k *keyedLimiter) allow(key string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.keys[key]
	if e == nil {
		if len(k.keys) >= k.max {
			k.prune(now)
		}
		if len(k.keys) >= k.max {
			return false // under a flood of new keys, refuse rather than grow
		}
		e = &keyedEntry{lim: rate.NewLimiter(rate.Every(k.every), k.burst)}
		k.keys[key] = e
	}
	e.seen = now
	return e.lim.AllowN(now, 1)
}

// prune forgets keys whose bucket has filled up again.
func (k *keyedLimiter) prune(now time.Time) {
	full := k.every * time.Duration(k.burst)
	for key, e := range k.keys {
		if now.Sub(e.seen) > full {
			delete(k.keys, key)
		}
	}
}
