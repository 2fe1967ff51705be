// Command worktogether runs the Worktogether server: the HTTP API, the
// websocket signaling, the SFU and the browser client, with its data in one
// directory. It turns flags and WORKTOGETHER_* variables into one config,
// makes the one logger, wires the packages together and shuts them down
// cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/worktogether/worktogether/i18n"
	"github.com/worktogether/worktogether/links"
	"github.com/worktogether/worktogether/metrics"
	"github.com/worktogether/worktogether/newsletter"
	"github.com/worktogether/worktogether/relay"
	"github.com/worktogether/worktogether/sfu"
	"github.com/worktogether/worktogether/static"
	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/token"
	"github.com/worktogether/worktogether/web"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "worktogether:", err)
		os.Exit(2)
	}
	if os.Getenv("GOGC") == "" {
		// The heap of a media server is mostly buffers that live as long
		// as the calls, and forwarding allocates nothing per packet:
		// collecting at 50 % growth instead of Go's 100 % keeps the peak
		// RSS a sixth lower for a little CPU (20 x 40: 82 against 95 MB
		// at 3.8 µs per egress packet either way; the 50-person room: 178
		// against 220 MB, 4.5 against 4.15 µs). A small box runs out of
		// memory before it runs out of cores. GOGC in the environment
		// still wins.
		debug.SetGCPercent(50)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "worktogether:", err)
		os.Exit(1)
	}
}

func newLogger(level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.EncoderConfig.TimeKey = "time"
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	return zc.Build()
}

// run serves until ctx is done, then shuts down: every client gets bye
// "shutdown" before the process exits.
func run(ctx context.Context, cfg config, stdout io.Writer) error {
	log, err := newLogger(cfg.LogLevel)
	if err != nil {
		return err
	}
	defer log.Sync()

	hostKey := cfg.HostKey
	madeKey := false
	if hostKey == "" {
		if hostKey, madeKey, err = secretFile(cfg.Data, "host_key", 24); err != nil {
			return err
		}
	}
	secretHex, _, err := secretFile(cfg.Data, "token_secret", 32)
	if err != nil {
		return err
	}
	secret, err := hex.DecodeString(secretHex)
	if err != nil {
		return fmt.Errorf("token_secret in %s is not hex; delete it to make a new one", cfg.Data)
	}
	signer, err := token.NewSigner(secret)
	if err != nil {
		return err
	}
	iceServers, err := cfg.iceServers()
	if err != nil {
		return err
	}
	proxies, err := cfg.trustedProxies()
	if err != nil {
		return err
	}
	leads, err := cfg.reminderLeads()
	if err != nil {
		return err
	}
	from, err := cfg.mailFrom()
	if err != nil {
		return err
	}
	var transport newsletter.Transport = newsletter.Files{Dir: filepath.Join(cfg.Data, "outbox")}
	if cfg.SMTP != "" {
		if transport, err = newsletter.ParseSMTP(cfg.SMTP); err != nil {
			return err
		}
	}

	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	router, err := sfu.NewRouter(sfu.Config{
		UDPPort: cfg.UDPPort, PublicIP: cfg.PublicIP, LoopbackOnly: cfg.LoopbackOnly, DisableTCP: cfg.DisableTCP,
		IncludeLoopback: listensOnLoopback(cfg.Addr), PublishBitrate: publishBitrate(cfg.PublishKbps),
	}, log.Named("sfu"))
	if err != nil {
		return err
	}
	defer router.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	if cfg.PublicURL == "" { // http://<addr>, with the port the system chose for :0
		cfg.PublicURL = "http://" + ln.Addr().String()
	}

	lm, err := links.New(cfg.PublicURL, signer)
	if err != nil {
		return err
	}
	// One catalog for the pages, the room and the mails.
	text, err := i18n.Load(static.Files, "i18n", newsletter.Languages...)
	if err != nil {
		return err
	}
	mailer := newsletter.NewWorker(newsletter.Config{
		Store:     st,
		Renderer:  &newsletter.Renderer{Store: st, Links: lm, From: *from, Text: text},
		Transport: transport,
		Log:       log.Named("mail"),
	})
	defer background(mailer.Run)()

	var srv *web.Server // read by the metrics at scrape time, set below
	turn, err := startRelay(cfg, router.Port(), cfg.PublicURL, log.Named("relay"))
	if err != nil {
		return err
	}
	var relayStats func() relay.Stats
	if turn.server != nil {
		defer turn.server.Close()
		relayStats = turn.server.Stats
	}
	metricsHandler := metrics.Handler(metrics.Sources{
		Relay:    relayStats,
		SFU:      router.Stats,
		Sessions: func(ctx context.Context) (web.Stats, error) { return srv.Stats(ctx) },
		Outbox:   func(ctx context.Context) (map[string]int, error) { return st.MailCounts(ctx, "") },
		Log:      log.Named("metrics"),
	})
	srv, err = web.New(web.Config{
		PublicURL:  cfg.PublicURL,
		HostKey:    hostKey,
		ICEServers: iceServers,
		TURN:       turn.turn,
		TURNTTL:    cfg.Relay.TTL,
		Store:      st,
		Signer:     signer,
		Router:     router,
		Log:        log.Named("web"),
		Static:     static.Files,
		Text:       text,

		ReminderLeads: leads,
		AnnounceLead:  cfg.AnnounceLead,
		Mail:          mailer,
		Metrics:       metricsHandler,

		TrustedProxies: proxies,
		RoomIdle:       cfg.roomIdle(),
		Limits:         cfg.limits(),
	})
	if err != nil {
		return err
	}

	httpSrv := srv.HTTPServer(zap.NewStdLog(log.Named("http")))
	defer background(srv.RunScheduler)()

	if cfg.DebugAddr != "" {
		if err := serveDebug(cfg.DebugAddr, log); err != nil {
			return err
		}
	}

	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()

	log.Info("listening", zap.String("addr", ln.Addr().String()), zap.String("public_url", cfg.PublicURL),
		zap.Int("media_port", router.Port()), zap.Bool("loopback_only", cfg.LoopbackOnly),
		zap.String("database", cfg.databaseKind()))
	if len(turn.urls) > 0 {
		log.Info("turn relay", zap.Strings("urls", turn.urls), zap.Bool("built_in", turn.server != nil))
	}
	if cfg.SMTP == "" {
		log.Info("no -smtp: mails are written to the outbox directory", zap.String("dir", filepath.Join(cfg.Data, "outbox")))
	}
	fmt.Fprintf(stdout, "Worktogether is running at %s (media on port %d, udp and tcp)\n", cfg.PublicURL, router.Port())
	if madeKey {
		fmt.Fprintf(stdout, "Host key (shown once; kept in %s): %s\n", filepath.Join(cfg.Data, "host_key"), hostKey)
	}
	if turn.server != nil {
		fmt.Fprintf(stdout, "TURN relay: %s\n", strings.Join(turn.urls, " "))
	}
	fmt.Fprintf(stdout, "Host page: %s/host\n", cfg.PublicURL)
	if cfg.Demo {
		if err := printDemo(ctx, srv, stdout); err != nil {
			log.Warn("demo session", zap.Error(err))
		}
	}

	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("rooms did not stop in time", zap.Error(err))
	}
	if err := httpSrv.Shutdown(shutCtx); err != nil {
		log.Warn("http shutdown", zap.Error(err))
	}
	log.Info("stopped")
	return nil
}

// background runs loop until the returned stop is called; stop waits for it
// to return.
func background(loop func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// printDemo makes sure a session is open now and prints its open link.
func printDemo(ctx context.Context, srv *web.Server, stdout io.Writer) error {
	link, err := srv.DemoLink(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Demo room, open it in two browser windows: %s\n", link)
	return nil
}

// openStore opens the database -database names, or SQLite in the data
// directory, and brings its schema up to date.
func openStore(ctx context.Context, cfg config) (*store.Store, error) {
	if cfg.Database == "" {
		return store.Open(ctx, filepath.Join(cfg.Data, "worktogether.db"))
	}
	st, err := store.OpenPostgres(ctx, cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("-database: %w", err)
	}
	return st, nil
}

// databaseKind names the engine for the log, never the URL.
func (c config) databaseKind() string {
	if c.Database == "" {
		return "sqlite"
	}
	return "postgres"
}

// listensOnLoopback tells whether addr serves only this machine.
func listensOnLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// publishBitrate is the router's PublishBitrate for -publish-kbps: 0 there
// means no cap, which the router spells below 0.
func publishBitrate(kbps int) int {
	if kbps == 0 {
		return -1
	}
	return kbps * 1000
}
