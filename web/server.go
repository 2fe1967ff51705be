package web

import (
	"context"
	"errors"
	"fmt"
	"github.com/worktogether/worktogether/i18n"
	"github.com/worktogether/worktogether/newsletter"
	"github.com/worktogether/worktogether/static"
	"io/fs"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/worktogether/worktogether/links"
	"github.com/worktogether/worktogether/sfu"
	"github.com/worktogether/worktogether/signaling"
	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/token"
	"go.uber.org/zap"
)

// ICEServer is a STUN or TURN server handed to clients in welcome.
type ICEServer = signaling.ICEServer

// Limits bound what one websocket and one HTTP client may cost the server.
type Limits struct {
	// Websocket is the room core's: send queue, write timeout, pings,
	// message rate.
	Websocket signaling.Limits

	// HTTP (HTTPServer): a client's headers, its whole request, one
	// response, and an idle keep-alive connection.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeoutHTTP  time.Duration
	IdleTimeout       time.Duration

	// Host-key guessing: each wrong key waits HostKeyDelay before its 401;
	// HostKeyFailures wrong keys from one client lock it out (429) for
	// HostKeyLockout.
	HostKeyDelay    time.Duration
	HostKeyFailures int
	HostKeyLockout  time.Duration

	// ConnsPerClient caps the connections one client (an IPv4 address or
	// an IPv6 /64, after the trusted proxies) has open at once: requests in
	// progress and open websockets; over it, 429. 0 takes the default,
	// negative is no cap.
	ConnsPerClient int
}

// DefaultConnsPerClient is the default of Limits.ConnsPerClient.
const DefaultConnsPerClient = 64

// DefaultLimits suit browsers on ordinary networks.
func DefaultLimits() Limits {
	return Limits{
		Websocket:         signaling.DefaultLimits(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeoutHTTP:  60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		HostKeyDelay:      time.Second,
		HostKeyFailures:   10,
		HostKeyLockout:    15 * time.Minute,
		ConnsPerClient:    DefaultConnsPerClient,
	}
}

// Config is everything the server needs.
type Config struct {
	PublicURL  string // base of every link, e.g. https://cowork.example.org
	HostKey    string
	ICEServers []ICEServer
	// TURN, when set, makes a participant's own short-lived TURN
	// credentials (the built-in relay's or an external server's), valid for
	// ttl from now; they are handed out beside ICEServers in welcome and in
	// the connection check.
	TURN func(id string, now time.Time, ttl time.Duration) []ICEServer
	// TURNTTL is how long the credentials in welcome are good for; 12 h
	// when zero.
	TURNTTL time.Duration
	Store   *store.Store
	Signer  *token.Signer
	Router  *sfu.Router
	Log     *zap.Logger
	Now     func() time.Time // the server clock; time.Now when nil
	Static  fs.FS            // the browser client
	Text    *i18n.Catalog    // the message catalog; static.Files' when nil
	Limits  Limits           // zero fields take DefaultLimits
	// ReminderLeads are how long before a session its reminders go out;
	// none means no reminders.
	ReminderLeads []time.Duration
	// AnnounceLead is how long before a session the list hears of it (0:
	// at once); a series announces only its next occurrence.
	AnnounceLead time.Duration
	// Mail is told when mail was queued, so it goes out at once; may be nil.
	Mail MailWaker
	// Metrics, when set, is served on GET /metrics.
	Metrics http.Handler
	// TrustedProxies are the proxies whose X-Forwarded-For is believed
	// (-trusted-proxies); none means the header is ignored.
	TrustedProxies []netip.Prefix
	// RoomIdle is how long a room stays open with nobody in it (-room-idle);
	// the next join opens it again. signaling.DefaultIdleClose when zero,
	// never closed while its session runs when negative.
	RoomIdle time.Duration
}

// MailWaker is the mail worker, as far as the web layer needs it.
type MailWaker interface{ Wake() }

// Server serves HTTP and websockets.
type Server struct {
	cfg   Config
	log   *zap.Logger
	hub   *signaling.Hub
	mux   *http.ServeMux
	links *links.Maker
	text  *i18n.Catalog // every page's and API error's words

	subscribeByClient  *keyedLimiter
	subscribeByAddress *keyedLimiter
	guestByClient      *keyedLimiter
	guestsPerSession   *keyedLimiter // per session and client
	postByClient       *keyedLimiter // the mailed links' buttons: confirm, forget
	checkByClient      *keyedLimiter // connection checks per client address
	checkByParticipant *keyedLimiter // and per participant
	hostGuard          *hostGuard
	conns              *connCap // connections open per client
}

// New checks cfg and builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Signer == nil || cfg.Router == nil || cfg.Log == nil {
		return nil, errors.New("web: store, signer, router and logger are required")
	}
	if cfg.HostKey == "" {
		return nil, errors.New("web: host key is required")
	}
	lm, err := links.New(cfg.PublicURL, cfg.Signer)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TURNTTL <= 0 {
		cfg.TURNTTL = 12 * time.Hour
	}
	cfg.Limits = withDefaults(cfg.Limits)
	cat := cfg.Text
	if cat == nil {
		if cat, err = i18n.Load(static.Files, "i18n", newsletter.Languages...); err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
	}
	s := &Server{cfg: cfg, log: cfg.Log, links: lm, text: cat, mux: http.NewServeMux(),
		// Sign-ups: a burst of 5 then one every 3 minutes per client, and
		// 3 then one every 20 minutes per address.
		subscribeByClient:  newKeyedLimiter(3*time.Minute, 5, 10000),
		subscribeByAddress: newKeyedLimiter(20*time.Minute, 3, 10000),
		// Guest links: a burst of 10 then one every 6 seconds per client.
		guestByClient: newKeyedLimiter(6*time.Second, 10, 10000),
		// And at most 10 guest links per session and client, one more
		// every 6 minutes.
		guestsPerSession: newKeyedLimiter(6*time.Minute, 10, 10000),
		// Buttons of mailed links: a burst of 20 then one every 3 seconds.
		postByClient: newKeyedLimiter(3*time.Second, 20, 10000),
		// Connection checks: 6 then one every 10 s per client, 3 then one
		// every 20 s per participant.
		checkByClient:      newKeyedLimiter(10*time.Second, 6, 10000),
		checkByParticipant: newKeyedLimiter(20*time.Second, 3, 10000),
		hostGuard:          newHostGuard(cfg.Limits.HostKeyFailures, cfg.Limits.HostKeyLockout, 10000),
		conns:              newConnCap(max(cfg.Limits.ConnsPerClient, 0)),
	}
	s.hub, err = signaling.NewHub(signaling.Config{
		Store: cfg.Store, Router: cfg.Router, Log: cfg.Log.Named("rooms"), Now: cfg.Now,
		Limits:      cfg.Limits.Websocket,
		ICEServers:  func(id string) []ICEServer { return s.iceServers(id, cfg.TURNTTL) },
		CheckOrigin: s.checkOrigin,
		ErrorText:   s.errorText,
		IdleClose:   cfg.RoomIdle,
	})
	if err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// withDefaults fills the HTTP limits; the room core fills its own.
func withDefaults(l Limits) Limits {
	d := DefaultLimits()
	for _, f := range []struct{ v, d *time.Duration }{
		{&l.ReadHeaderTimeout, &d.ReadHeaderTimeout}, {&l.ReadTimeout, &d.ReadTimeout},
		{&l.WriteTimeoutHTTP, &d.WriteTimeoutHTTP}, {&l.IdleTimeout, &d.IdleTimeout},
		{&l.HostKeyDelay, &d.HostKeyDelay}, {&l.HostKeyLockout, &d.HostKeyLockout},
	} {
		if *f.v <= 0 {
			*f.v = *f.d
		}
	}
	if l.HostKeyFailures <= 0 {
		l.HostKeyFailures = d.HostKeyFailures
	}
	if l.ConnsPerClient == 0 {
		l.ConnsPerClient = d.ConnsPerClient
	}
	return l
}

func (s *Server) now() time.Time { return s.cfg.Now().UTC() }

// ServeHTTP serves every route, each response with the security headers,
// each client within its connections, each host-key attempt through the
// guard.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w = &langWriter{ResponseWriter: w, srv: s, lang: s.errorLang(r)}
	secureHeaders(w.Header())
	s.capConns(w, r, func() {
		if s.guardHostKey(w, r) {
			s.mux.ServeHTTP(w, r)
		}
	})
}

// limited wraps a public POST in a per-client rate limit.
func (s *Server) limited(lim *keyedLimiter, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !lim.allow(limitKey(s.clientIP(r)), s.now()) {
			w.Header().Set("Retry-After", strconv.Itoa(int(lim.every/time.Second)))
			writeError(w, http.StatusTooManyRequests, "rate_limited", "too many requests; please try again later")
			return
		}
		h(w, r)
	}
}

// healthz answers 200 ok while the database answers, 503 otherwise.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.cfg.Store.Check(ctx); err != nil {
		s.log.Error("health check", zap.Error(err))
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("database unavailable"))
		return
	}
	w.Write([]byte("ok"))
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("POST /api/sessions", s.requireHost(s.createSession))
	s.mux.HandleFunc("GET /api/sessions", s.sessionsByState)
	s.mux.HandleFunc("GET /api/sessions/{id}", s.getSession)
	s.mux.HandleFunc("DELETE /api/sessions/{id}", s.requireHost(s.cancelSession))
	s.mux.HandleFunc("POST /api/sessions/{id}/invites", s.requireHost(s.createInvite))
	s.mux.HandleFunc("GET /api/sessions/{id}/summary", s.requireHost(s.summary))
	s.mux.HandleFunc("PATCH /api/sessions/{id}", s.requireHost(s.reschedule))
	s.mux.HandleFunc("POST /api/sessions/{id}/remind", s.requireHost(s.remind))
	s.mux.HandleFunc("GET /api/subscribers", s.requireHost(s.subscribers))
	s.mux.HandleFunc("POST /api/series", s.requireHost(s.createSeries))
	s.mux.HandleFunc("GET /api/series", s.requireHost(s.listSeries))
	s.mux.HandleFunc("DELETE /api/series/{id}", s.requireHost(s.cancelSeries))
	s.mux.HandleFunc("POST /api/subscribe", s.subscribe)
	s.mux.HandleFunc("GET /confirm", s.confirmPage)
	s.mux.HandleFunc("POST /confirm", s.limited(s.postByClient, s.confirm))
	s.mux.HandleFunc("GET /unsubscribe", s.unsubscribePage)
	// Not limited: RFC 8058 one-click POSTs come from a few mail providers'
	// servers, and repeating one is harmless.
	s.mux.HandleFunc("POST /unsubscribe", s.unsubscribe)
	s.mux.HandleFunc("GET /sessions.ics", s.calendarFeed)
	s.mux.HandleFunc("GET /record", s.recordPage)
	s.mux.HandleFunc("GET /api/record", s.recordJSON)
	s.mux.HandleFunc("DELETE /api/record", s.limited(s.postByClient, s.forgetJSON))
	s.mux.HandleFunc("POST /record/series", s.limited(s.postByClient, s.followForm))
	s.mux.HandleFunc("POST /api/record/series", s.limited(s.postByClient, s.followJSON))
	s.mux.HandleFunc("GET /forget", s.forgetPage)
	s.mux.HandleFunc("POST /forget", s.limited(s.postByClient, s.forget))
	s.mux.HandleFunc("GET /api/host", s.requireHost(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"host": true})
	}))
	s.mux.HandleFunc("GET /api/me", s.whoAmI)
	s.mux.HandleFunc("GET /api/connection-check", s.limited(s.checkByClient, s.connectionCheck))
	s.mux.HandleFunc("POST /api/guest", s.limited(s.guestByClient, s.createGuest))
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", s.text.T(s.text.Lang(r, ""), "api.not_found"))
	})
	s.mux.HandleFunc("GET /ws", s.serveWS)
	if s.cfg.Metrics != nil {
		s.mux.Handle("GET /metrics", s.cfg.Metrics)
	}
	s.pageRoutes()
}

// Shutdown says bye to every client and stops every room. It returns when all
// room goroutines have ended or ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.hub.Shutdown(ctx)
}

// notify is how changes made now queue their mails.
func (s *Server) notify() *store.Notify {
	return &store.Notify{Now: s.now(), Leads: s.cfg.ReminderLeads, AnnounceLead: s.cfg.AnnounceLead}
}

// mailQueued wakes the mail worker after a change queued mail.
func (s *Server) mailQueued() {
	if s.cfg.Mail != nil {
		s.cfg.Mail.Wake()
	}
}
