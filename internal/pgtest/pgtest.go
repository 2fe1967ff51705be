// Package pgtest runs a real PostgreSQL server for a test binary: initdb
// into a temporary directory, the server on a free port of 127.0.0.1 only
// (and its socket in that directory), as an unprivileged user, with a
// random password; it ends with the test binary even when that dies. Each
// test gets a database of its own. It knows nothing of the schema; the
// store under test brings its own. The binaries are found in PG_BIN, on
// PATH, or in Debian's /usr/lib/postgresql/<version>/bin.
//
// Without PostgreSQL on the machine a test is skipped, but when CI=true it
// fails: CI installs PostgreSQL (.ci/run), so its absence there is a fault.
// One that is installed but does not start is always a failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// ErrNotInstalled is returned by Start when no PostgreSQL server binaries
// are found.
var ErrNotInstalled = errors.New("PostgreSQL is not installed (Debian: apt-get install postgresql)")

// Server is one running PostgreSQL server.
type Server struct {
	dir      string // data directory, socket and log; removed by Stop
	port     int
	password string
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the server process has exited
	waitErr  error         // how it exited, once exited is closed
	admin    *sql.DB       // to the postgres database, for CREATE DATABASE
	next     atomic.Int64  // numbers the databases made
}

// binDir finds the directory holding initdb and postgres: PG_BIN, then
// PATH, then Debian's /usr/lib/postgresql/<version>/bin (newest first).
func binDir() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			return "", fmt.Errorf("%w: no initdb in PG_BIN=%s", ErrNotInstalled, d)
		}
		return d, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// runAs is who runs the server: initdb and postgres refuse root, so as
// root they run as the postgres user (made by Debian's package).
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and there is no postgres user to run PostgreSQL as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// Start initializes and starts a server; Stop ends it. It returns
// ErrNotInstalled when PostgreSQL is not on the machine.
func Start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	pw := make([]byte, 16)
	rand.Read(pw)
	s.password = hex.EncodeToString(pw)
	pwfile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwfile, []byte(s.password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(pwfile, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "postgres",
		"--pwfile", pwfile, "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--no-locale", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// A free port can be taken between choosing and binding: try a few.
	for try := 0; ; try++ {
		if err = s.startServer(bin, cred); err == nil {
			break
		}
		if try == 2 {
			return nil, err
		}
	}
	ok = true
	return s, nil
}

// startServer runs postgres on a free port and waits until it answers.
func (s *Server) startServer(bin string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.port = port
	log, err := os.Create(filepath.Join(s.dir, "server.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(s.dir, "data"),
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(port), "-c", "unix_socket_directories="+s.dir,
		// A test server: nothing of it must survive a crash.
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	s.cmd.Stdout, s.cmd.Stderr = log, log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	dieWithParent(s.cmd.SysProcAttr)
	s.exited = make(chan struct{})
	started := make(chan error, 1)
	go func() {
		// The parent-death signal is tied to the thread that started the
		// child: this one stays locked, and alive, until the child exits.
		runtime.LockOSThread()
		if err := s.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	admin, err := sql.Open("pgx", s.url("postgres"))
	if err != nil {
		s.stopServer()
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = admin.PingContext(ctx)
		cancel()
		if err == nil {
			s.admin = admin
			return nil
		}
		select {
		case <-s.exited:
			admin.Close()
			return fmt.Errorf("postgres exited (%v): %s", s.waitErr, s.Log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			admin.Close()
			s.stopServer()
			return fmt.Errorf("postgres did not accept connections within 30s: %v\n%s", err, s.Log())
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Log is what the server wrote so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	return string(b)
}

// url is the URL of database db, over TCP on loopback.
func (s *Server) url(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword("postgres", s.password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// Password is the password in every URL of this server.
func (s *Server) Password() string { return s.password }

// Database makes a new, empty database and returns its URL.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d", s.next.Add(1))
	if _, err := s.admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	return s.url(name)
}

// stopServer asks postgres for a fast shutdown and waits for it.
func (s *Server) stopServer() {
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// Stop ends the server and removes its directory.
func (s *Server) Stop() {
	if s.admin != nil {
		s.admin.Close()
	}
	s.stopServer()
	os.RemoveAll(s.dir)
}

// Unavailable ends t when Start failed with err: a skip when PostgreSQL is
// not installed (a failure under CI=true), a failure when it is but would
// not start.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	switch {
	case !errors.Is(err, ErrNotInstalled):
		t.Fatalf("PostgreSQL would not start: %v", err)
	case strings.EqualFold(os.Getenv("CI"), "true"):
		t.Fatalf("PostgreSQL is needed in CI: %v", err)
	}
	t.Skipf("skipped: %v", err)
}
