package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/sweep-dev/sweep/report"
	htmlreport "github.com/sweep-dev/sweep/report/html"
	"github.com/sweep-dev/sweep/report/serve"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
)

func init() {
	commands["serve"] = command{summary: "a read-only live dashboard of the sweeps of a database, for a browser", run: runServe}
}

// defaultAddr is where serve listens: loopback, so that only this machine
// can read the database.
const defaultAddr = "127.0.0.1:8080"

// shutdownGrace is how long a stopped serve lets requests in flight finish.
const shutdownGrace = 5 * time.Second

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, db := newFlags("serve", "serve [--addr HOST:PORT] [--db DB]", stderr)
	addr := fs.String("addr", defaultAddr, "listen on `HOST:PORT` (port 0: any free port); an address that is not loopback serves the database to the network, with a warning")
	if _, code, ok := parseArgs(fs, args, 0, 0); !ok {
		return code
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fail(stderr, "serve", usagef("--addr %q: want HOST:PORT, such as %s", *addr, defaultAddr))
	}
	st, err := openExisting(ctx, *db)
	if err != nil {
		return fail(stderr, "serve", err)
	}
	defer st.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail(stderr, "serve", err)
	}
	// Where it listens, as the user named it, with the port it got.
	where := ln.Addr().String()
	loopback := false
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		loopback = a.IP.IsLoopback()
		if host != "" {
			where = net.JoinHostPort(host, strconv.Itoa(a.Port))
		}
	}
	if !loopback {
		fmt.Fprintf(stderr, "sweep serve: warning: listening on %s, which is not a loopback address: anyone who can reach it can read every sweep of %s (read-only); the default, %s, keeps it to this machine\n", where, st.Location(), defaultAddr)
	}
	srv := &http.Server{
		Handler:           serve.New(&storeSource{st: st}, serve.Options{Title: st.Location(), Loopback: loopback}),
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(stderr, "sweep serve: ", 0),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "serving the sweeps of %s at http://%s/ (read-only; Ctrl-C to stop)\n", st.Location(), where)
	select {
	case err := <-served:
		return fail(stderr, "serve", err)
	case <-ctx.Done():
	}
	// Let the requests in flight finish, then stop.
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fail(stderr, "serve", err)
	}
	fmt.Fprintf(stderr, "sweep serve: %s\n", stopReason(ctx))
	return interruptedCode(ctx)
}

// storeSource is what serve shows: a results database, read as the query
// commands read it (each read one short read-only transaction), the best
// net's section of each sweep's report kept while its trial stays the
// best (netView).
type storeSource struct {
	st results.Store

	mu   sync.Mutex
	nets map[string]keptNet // by sweep
}

// keptNet is a sweep's best net's section, for the trial and data of key.
type keptNet struct {
	key string
	nv  *htmlreport.NetView
}

var _ serve.Source = (*storeSource)(nil)

func (s *storeSource) Sweeps(ctx context.Context) ([]report.SweepRecord, error) {
	return sweepRecords(ctx, s.st)
}

func (s *storeSource) Sweep(ctx context.Context, name string) (*results.Sweep, []results.Trial, error) {
	sw, err := s.st.Sweep(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	trials, err := s.st.Trials(ctx, name, results.Filter{})
	if err != nil {
		return nil, nil, err
	}
	return sw, trials, nil
}

func (s *storeSource) Report(ctx context.Context, sw *results.Sweep, trials []results.Trial) (*htmlreport.Input, error) {
	over := true
	for i := range trials {
		over = over && trials[i].Status.Finished()
	}
	net := func(ctx context.Context, st results.Store, sw *results.Sweep, spec *search.Spec, t *results.Trial) (*htmlreport.NetView, error) {
		return s.netView(ctx, sw, spec, t, over)
	}
	return reportOf(ctx, s.st, sw, trials, net)
}

func (s *storeSource) Trial(ctx context.Context, name string, number int) (*results.Trial, []results.Epoch, error) {
	return s.st.Trial(ctx, name, number)
}

// whileRunning is the note of the best net's section while its sweep runs.
const whileRunning = "Its confusion matrix and misclassified images are shown once the sweep has finished: while it runs, sweep serve does not load its data set."

// netView is the best net's section of sweep sw's page, kept per sweep
// while the best trial (its number, its attempt, when it finished) and
// the sweep's data are the same: a done trial's kept weights do not
// change. Until the sweep is over, it is netWeights alone: the confusion
// matrix would load the data set in this process, and compute again with
// each new best, taking CPU from the run.
func (s *storeSource) netView(ctx context.Context, sw *results.Sweep, spec *search.Spec, t *results.Trial, over bool) (*htmlreport.NetView, error) {
	key := fmt.Sprint(t.Number, t.Attempts, t.Finished.UnixNano(), sw.Input != nil, over)
	if sw.Data != nil {
		key += sw.Data.Path + "\x00" + sw.Data.Fingerprint
	}
	s.mu.Lock()
	kept, ok := s.nets[sw.Name]
	s.mu.Unlock()
	if ok && kept.key == key {
		return kept.nv, nil
	}
	var (
		nv  *htmlreport.NetView
		m   *results.Model
		err error
	)
	if over {
		nv, err = netView(ctx, s.st, sw, spec, t)
	} else if nv, m, err = netWeights(ctx, s.st, sw, t); m != nil {
		nv.Note = whileRunning
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.nets == nil {
		s.nets = map[string]keptNet{}
	}
	s.nets[sw.Name] = keptNet{key, nv}
	s.mu.Unlock()
	return nv, nil
}
