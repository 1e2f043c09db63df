// Package pgtest runs throwaway PostgreSQL servers for tests: initdb into a
// temporary directory, a postmaster listening on a Unix socket in it (no
// TCP), with durability switched off (fsync, synchronous_commit,
// full_page_writes), and a fresh database per test on it.
//
// Start gives a test a server of its own, stopped and removed when the test
// ends (what a test that stops or restarts its server needs); Shared gives
// every test of the binary one server, started on first use, which Main
// stops when the tests end. Either way NewDatabase creates a database with
// a unique name and returns its connection string, so tests sharing a
// server do not see each other's tables.
//
// The server binaries are looked for in /usr/lib/postgresql/*/bin (the
// highest version; Debian's layout) and then in PATH; a test fails, never
// skips, when they are missing. initdb and postgres refuse to run as root:
// under euid 0 they run as nobody/nogroup (65534), in a directory that
// user owns.
//
// A Server is safe for concurrent use by the tests that share it, but
// Stop, Start and Restart must not race with each other.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// unprivileged is the user and group the server runs as when the tests run
// as root: nobody and nogroup on Debian.
const unprivileged = 65534

// readyTimeout bounds the wait for a started server to accept connections.
const readyTimeout = 60 * time.Second

// Server is a throwaway PostgreSQL server.
type Server struct {
	bin  string // directory holding initdb and postgres
	dir  string // everything of the server: data, socket, log; removed by cleanup
	data string
	sock string
	root bool // the server runs as the unprivileged user (this process is root)

	mu   sync.Mutex // guards proc
	proc *process

	dbs atomic.Int64 // databases created, for unique names
}

// process is one run of the postmaster.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	err    error         // cmd.Wait's, once exited is closed
}

// Start initialises and starts a server of t's own, which t's cleanup
// stops (an immediate shutdown: its data are thrown away) and removes. It
// fails t if the server binaries are missing or the server does not start.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := newServer()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.shutdown(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s
}

var shared struct {
	once sync.Once
	s    *Server
	err  error
}

// Shared returns the test binary's shared server, starting it on first
// use. Main stops it; a test binary that uses Shared should call Main
// from its TestMain (otherwise the server, started with a parent-death
// signal, dies with the binary, but its directory stays in os.TempDir()).
// Tests must not Stop or Restart it: use Start for that.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() { shared.s, shared.err = newServer() })
	if shared.err != nil {
		t.Fatalf("pgtest: %v", shared.err)
	}
	return shared.s
}

// Main runs the tests, stops the shared server if one was started, and
// exits with the tests' exit code: call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared.s != nil {
		if err := shared.s.shutdown(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// newServer initialises a data directory and starts a server on it.
func newServer() (s *Server, err error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(os.TempDir(), fmt.Sprintf("pgtest-%d-", os.Getpid()))
	if err != nil {
		return nil, err
	}
	s = &Server{bin: bin, dir: dir, data: filepath.Join(dir, "data"), sock: filepath.Join(dir, "sock")}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	if err := os.Mkdir(s.sock, 0o755); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		s.root = true
		for _, p := range []string{dir, s.sock} {
			if err := os.Chown(p, unprivileged, unprivileged); err != nil {
				return nil, fmt.Errorf("hand %s to uid %d: %w", p, unprivileged, err)
			}
		}
	}
	initdb := s.command(filepath.Join(bin, "initdb"), "-D", s.data, "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// command returns a command running name as the server's user, in its
// directory.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	asUser(cmd, s.root)
	return cmd
}

// findBin returns the directory of the highest installed version's
// initdb and postgres, or the one of PATH's initdb.
func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(dir string) int {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("the PostgreSQL server binaries (initdb, postgres) are not in /usr/lib/postgresql/*/bin or PATH: " +
		"install them (Debian: apt-get install postgresql) to run these tests")
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// start runs the postmaster and waits until it accepts connections.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return errors.New("the server is running")
	}
	log, err := os.OpenFile(filepath.Join(s.dir, "log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close() // the child has its own descriptor
	cmd := s.command(filepath.Join(s.bin, "postgres"), "-D", s.data,
		"-c", "listen_addresses=", "-c", "unix_socket_directories="+s.sock,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = log, log
	// The postmaster dies with the test binary, even when it is killed
	// (Linux).
	dieWithParent(cmd)
	if err := spawn(cmd); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	s.proc = p
	if err := s.waitReady(p); err != nil {
		s.stopLocked(syscall.SIGQUIT)
		return err
	}
	return nil
}

// spawner starts the postmasters, from one OS thread that never exits: a
// parent-death signal is sent when the thread that forked the child exits,
// not the process, and the Go runtime may end a thread (one whose
// goroutine exits while locked to it).
var spawner struct {
	once sync.Once
	reqs chan spawnReq
}

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

// spawn starts cmd from the spawner's thread.
func spawn(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for r := range spawner.reqs {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error)
	spawner.reqs <- spawnReq{cmd, done}
	return <-done
}

// waitReady waits until the server of process p accepts connections.
func (s *Server) waitReady(p *process) error {
	deadline := time.Now().Add(readyTimeout)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("postgres exited (%v) before accepting connections:\n%s", p.err, s.logTail())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var c *pgx.Conn
		if c, err = pgx.Connect(ctx, s.DSN("postgres")); err == nil {
			err = c.Ping(ctx)
			c.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("postgres did not accept connections within %v: %v\n%s", readyTimeout, err, s.logTail())
}

// logTail returns the end of the server's log.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// stopLocked stops the server with sig and waits for it: SIGINT is a fast
// shutdown (sessions are ended, a checkpoint written), SIGQUIT an
// immediate one (a crash: recovery at the next start). s.mu is held.
func (s *Server) stopLocked(sig syscall.Signal) error {
	p := s.proc
	if p == nil {
		return nil
	}
	s.proc = nil
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
		return nil
	case <-time.After(20 * time.Second):
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	return fmt.Errorf("postgres ignored %v for 20s and was killed", sig)
}

// shutdown stops the server and removes its directory.
func (s *Server) shutdown() error {
	s.mu.Lock()
	err := s.stopLocked(syscall.SIGQUIT)
	s.mu.Unlock()
	if rerr := os.RemoveAll(s.dir); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// Stop shuts the server down as `pg_ctl stop` (and `pg_ctl restart`) do
// by default, a fast shutdown: it ends every session (their clients see
// SQLSTATE 57P01 admin_shutdown, or a closed connection), refuses new
// ones, writes a checkpoint and exits. Its data stays, for Start;
// connections fail until then.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stopLocked(syscall.SIGINT); err != nil {
		t.Fatalf("pgtest: stop: %v", err)
	}
}

// Crash stops the server at once, as `pg_ctl stop -m immediate` does: the
// next Start runs crash recovery. The server runs with
// synchronous_commit=off, so transactions committed in the last few
// hundred milliseconds may be lost, as they would be in a crash of a
// server so configured.
func (s *Server) Crash(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stopLocked(syscall.SIGQUIT); err != nil {
		t.Fatalf("pgtest: crash: %v", err)
	}
}

// Start starts the stopped server again on the same data and socket, and
// waits until it accepts connections.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatalf("pgtest: start: %v", err)
	}
}

// Restart stops the server (a fast shutdown, as Stop) and starts it
// again, as `pg_ctl restart` does.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop(t)
	s.Start(t)
}

// SocketDir is the directory of the server's Unix socket.
func (s *Server) SocketDir() string { return s.sock }

// DSN returns the connection string of database db on the server, as user
// postgres (a superuser; no password: trust authentication), in URL form.
func (s *Server) DSN(db string) string {
	return "postgres://postgres@/" + db + "?host=" + s.sock + "&sslmode=disable"
}

// NewDatabase creates a database of a unique name, derived from t's, and
// returns its connection string (DSN). t's cleanup drops it (ending its
// sessions), unless the server is stopped then.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := pgx.Identifier{s.dbName(t.Name())}.Sanitize()
	if err := s.admin("CREATE DATABASE " + name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		s.mu.Lock()
		up := s.proc != nil
		s.mu.Unlock()
		if !up {
			return
		}
		if err := s.admin("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s.DSN(strings.Trim(name, `"`))
}

// admin runs sql on the server's postgres database.
func (s *Server) admin(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// dbName is a new database name: a counter and the test's name, within
// PostgreSQL's 63 bytes.
func (s *Server) dbName(test string) string {
	name := fmt.Sprintf("t%d_%s", s.dbs.Add(1), unsafeName.ReplaceAllString(strings.ToLower(test), "_"))
	return name[:min(len(name), 63)]
}
