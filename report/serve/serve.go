package serve

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/singleflight"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/report/html"
	"github.com/sweep-dev/sweep/results"
)

// Source is what a Server reads: in cmd/sweep, a results database. Its
// methods are called concurrently; what they return is only read.
type Source interface {
	// Sweeps returns every sweep's record, as `sweep ls` shows them.
	Sweeps(ctx context.Context) ([]report.SweepRecord, error)
	// Sweep returns sweep name's record and all its trials; an error
	// wrapping results.ErrNoSweep when there is no such sweep.
	Sweep(ctx context.Context, name string) (*results.Sweep, []results.Trial, error)
	// Report completes what Sweep returned into the input of its report
	// (the histories of its learning curves, its best net), keeping sw
	// and trials as they are.
	Report(ctx context.Context, sw *results.Sweep, trials []results.Trial) (*html.Input, error)
	// Trial returns a trial and its history; an error wrapping
	// results.ErrNoSweep or results.ErrNoTrial when there is none.
	Trial(ctx context.Context, name string, number int) (*results.Trial, []results.Epoch, error)
}

// Defaults of Options.
const (
	// DefaultRefresh is how often a page asks whether what it shows
	// changed.
	DefaultRefresh = 2 * time.Second
	// DefaultTTL is how long a read of the database is reused.
	DefaultTTL = time.Second
)

// Limits of what the Server keeps and accepts.
const (
	maxSweeps    = 64        // sweeps (and trials) whose reads are kept
	maxPageBytes = 256 << 20 // rendered pages kept, in bytes
	maxParam     = 1024      // bytes of a query parameter's value
)

// Options configure a Server.
type Options struct {
	// Title names the database on the index page (its path, say).
	Title string
	// Refresh is how often a page polls its status; 0: DefaultRefresh.
	Refresh time.Duration
	// TTL is how long a read of the Source is reused; 0: DefaultTTL.
	TTL time.Duration
	// Loopback refuses (421) requests whose Host is not a loopback name
	// or address: set it when listening on a loopback address.
	Loopback bool
	// Now is the clock of the caches; nil: time.Now.
	Now func() time.Time
}

// Server is the read-only HTTP server of a Source's sweeps. See the
// package documentation for its routes.
type Server struct {
	src  Source
	o    Options
	boot string // this server's instance, in ETags

	index  *memo[*indexSnap]
	snaps  *memo[*snapshot]
	trials *memo[*trialSnap]
	seq    atomic.Uint64 // snapshots, in the order they were read

	renders singleflight.Group
	mu      sync.Mutex
	pages   map[string]*page         // by sweep: the latest rendered
	cost    map[string]time.Duration // by sweep: the time its last render took
	bytes   int                      // of pages
}

// indexSnap is a read of the index.
type indexSnap struct {
	recs    []report.SweepRecord
	version string
}

// snapshot is a read of a sweep.
type snapshot struct {
	seq    uint64
	sw     *results.Sweep
	trials []results.Trial
	status Status
}

// trialSnap is a read of a trial.
type trialSnap struct {
	t    *results.Trial
	hist []results.Epoch
}

// page is a sweep's rendered page.
type page struct {
	seq     uint64 // of the snapshot it shows
	version string
	etag    string
	body    []byte
	used    time.Time
}

// New returns a Server of src's sweeps.
func New(src Source, o Options) *Server {
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var b [6]byte
	rand.Read(b[:]) // never fails (crypto/rand's documentation)
	s := &Server{src: src, o: o, boot: hex.EncodeToString(b[:]), pages: map[string]*page{}, cost: map[string]time.Duration{}}
	ttl := func(string) time.Duration { return o.TTL }
	s.index = newMemo[*indexSnap](o.Now, ttl, 1)
	s.snaps = newMemo[*snapshot](o.Now, s.sweepTTL, maxSweeps)
	s.trials = newMemo[*trialSnap](o.Now, ttl, 4*maxSweeps)
	return s
}

// sweepTTL is how long a read of sweep name is reused: Options.TTL, or the
// time its last page took to render if longer, so that a big sweep's
// watchers make the server render it at most half the time.
func (s *Server) sweepTTL(name string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(s.o.TTL, s.cost[name])
}

// httpError is an answer other than 200.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func errorf(code int, format string, a ...any) error {
	return &httpError{code, fmt.Sprintf(format, a...)}
}

// codeOf is the HTTP status of err.
func codeOf(err error) int {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.code
	case errors.Is(err, results.ErrNoSweep), errors.Is(err, results.ErrNoTrial):
		return http.StatusNotFound
	case errors.Is(err, report.ErrUnknownSortKey), errors.Is(err, report.ErrUnknownStatus):
		return http.StatusBadRequest
	case errors.Is(err, results.ErrLocked):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// route is an endpoint: its handler and its query parameters, the first
// required of them required. Those under /api/ answer in JSON, errors
// included.
type route struct {
	handle   func(s *Server, ctx context.Context, w http.ResponseWriter, r *http.Request, q url.Values) error
	params   []string
	required int
}

var routes = map[string]route{
	"/":           {handle: (*Server).serveIndex},
	"/sweep":      {handle: (*Server).serveSweep, params: []string{"name"}, required: 1},
	"/api/sweeps": {handle: (*Server).serveSweepsJSON},
	"/api/sweep":  {handle: (*Server).serveStatus, params: []string{"name"}, required: 1},
	"/api/trials": {handle: (*Server).serveTrials, params: []string{"name", "sort", "status", "top"}, required: 1},
	"/api/trial":  {handle: (*Server).serveTrial, params: []string{"name", "trial"}, required: 2},
}

// ServeHTTP answers a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Content-Security-Policy", pagePolicy)
	path := r.URL.Path
	rt, ok := routes[path]
	var err error
	switch {
	case s.o.Loopback && !loopbackHost(r.Host):
		err = errorf(http.StatusMisdirectedRequest, "this server answers requests to a loopback address (127.0.0.1, [::1], localhost) only, not to %q", r.Host)
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		h.Set("Allow", "GET, HEAD")
		err = errorf(http.StatusMethodNotAllowed, "method %s not allowed: this server is read-only (GET and HEAD only)", r.Method)
	case strings.HasPrefix(path, "/static/") || strings.HasPrefix(path, "/favicon."):
		err = serveAsset(w, r)
	case !ok:
		err = errorf(http.StatusNotFound, "no page %s here", path)
	default:
		var q url.Values
		if q, err = query(r, rt.params, rt.required); err == nil {
			// Reads and renders may be shared with other requests: a
			// client that goes away must not cancel them.
			err = rt.handle(s, context.WithoutCancel(r.Context()), w, r, q)
		}
	}
	if err != nil {
		s.fail(w, r, err, strings.HasPrefix(path, "/api/"))
	}
}

// loopbackHost reports whether host, a request's Host header, names a
// loopback address: localhost (or a name under it), 127.0.0.0/8 or ::1,
// with or without a port.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// query returns r's query parameters, refusing (400) bad escapes, unknown
// parameters, a parameter given twice (but status), empty or overlong
// values and values that are not UTF-8, and a missing required one (the
// first required of params).
func query(r *http.Request, params []string, required int) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "bad query %q: %v", r.URL.RawQuery, err)
	}
	for k, vs := range q {
		switch {
		case !slices.Contains(params, k):
			valid := "none"
			if len(params) > 0 {
				valid = strings.Join(params, ", ")
			}
			return nil, errorf(http.StatusBadRequest, "unknown query parameter %q (valid here: %s)", k, valid)
		case len(vs) > 1 && k != "status":
			return nil, errorf(http.StatusBadRequest, "query parameter %q is given %d times", k, len(vs))
		}
		for _, v := range vs {
			switch {
			case v == "":
				return nil, errorf(http.StatusBadRequest, "query parameter %q is empty", k)
			case len(v) > maxParam:
				return nil, errorf(http.StatusBadRequest, "query parameter %q is longer than %d bytes", k, maxParam)
			case !utf8.ValidString(v):
				return nil, errorf(http.StatusBadRequest, "query parameter %q is not UTF-8", k)
			}
		}
	}
	for _, k := range params[:required] {
		if !q.Has(k) {
			return nil, errorf(http.StatusBadRequest, "missing query parameter %q", k)
		}
	}
	return q, nil
}

// fail answers err: a JSON error under /api/, else an HTML page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error, asJSON bool) {
	code := codeOf(err)
	msg := err.Error()
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	var b bytes.Buffer
	ctype := "application/json"
	if asJSON {
		report.WriteJSON(&b, map[string]string{"error": msg}) // of a string: cannot fail
	} else {
		ctype = "text/html; charset=utf-8"
		if err := pages.ExecuteTemplate(&b, "error", errorPage{Code: code, Status: http.StatusText(code), Message: msg}); err != nil {
			b.Reset()
			ctype = "text/plain; charset=utf-8"
			b.WriteString(msg + "\n")
		}
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
}

// reply writes a 200 answer of body, or 304 when etag (if any) is one the
// client has.
func reply(w http.ResponseWriter, r *http.Request, ctype, etag string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	if etag == "" {
		h.Set("Cache-Control", "no-store")
	} else {
		h.Set("ETag", etag)
		h.Set("Cache-Control", "no-cache")
		if matches(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// matches reports whether an If-None-Match header lists etag.
func matches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// replyJSON writes v as JSON.
func replyJSON(w http.ResponseWriter, r *http.Request, v any) error {
	var b bytes.Buffer
	if err := report.WriteJSON(&b, v); err != nil {
		return err
	}
	w.Header().Set("Content-Security-Policy", dataPolicy)
	reply(w, r, "application/json", "", b.Bytes())
	return nil
}

// sweepsRead returns the index's records, read at most once per TTL.
func (s *Server) sweepsRead(ctx context.Context) (*indexSnap, error) {
	return s.index.get("", func() (*indexSnap, error) {
		recs, err := s.src.Sweeps(ctx)
		if err != nil {
			return nil, err
		}
		return &indexSnap{recs: recs, version: indexVersion(recs)}, nil
	})
}

// sweepRead returns sweep name and its trials, read at most once per
// sweepTTL.
func (s *Server) sweepRead(ctx context.Context, name string) (*snapshot, error) {
	return s.snaps.get(name, func() (*snapshot, error) {
		seq := s.seq.Add(1)
		sw, trials, err := s.src.Sweep(ctx, name)
		if errors.Is(err, results.ErrNoSweep) {
			return nil, errorf(http.StatusNotFound, "no sweep named %q in this database", name)
		}
		if err != nil {
			return nil, err
		}
		return &snapshot{seq: seq, sw: sw, trials: trials, status: sweepStatus(sw, trials)}, nil
	})
}

func (s *Server) serveIndex(ctx context.Context, w http.ResponseWriter, r *http.Request, _ url.Values) error {
	idx, err := s.sweepsRead(ctx)
	if err != nil {
		return err
	}
	p := indexPage{Title: s.o.Title, Columns: report.SweepColumns, Live: s.live("/api/sweeps", idx.version)}
	for i := range idx.recs {
		cells := report.SweepRow(&idx.recs[i])
		p.Rows = append(p.Rows, indexRow{Name: cells[0], Counts: cells[1 : len(cells)-1], State: cells[len(cells)-1]})
	}
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, "index", p); err != nil {
		return err
	}
	reply(w, r, "text/html; charset=utf-8", `"i-`+idx.version+"-"+s.boot+`"`, b.Bytes())
	return nil
}

func (s *Server) serveSweep(ctx context.Context, w http.ResponseWriter, r *http.Request, q url.Values) error {
	p, err := s.page(ctx, q.Get("name"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Security-Policy", reportPolicy())
	reply(w, r, "text/html; charset=utf-8", p.etag, p.body)
	return nil
}

// page returns sweep name's page at the version read now: the one kept if
// it is, else rendered once for all the requests that want it.
func (s *Server) page(ctx context.Context, name string) (*page, error) {
	snap, err := s.sweepRead(ctx, name)
	if err != nil {
		return nil, err
	}
	if p := s.keptPage(name, snap.status.Version); p != nil {
		return p, nil
	}
	v, err, _ := s.renders.Do(name+"\x00"+snap.status.Version, func() (any, error) {
		if p := s.keptPage(name, snap.status.Version); p != nil {
			return p, nil
		}
		start := time.Now()
		in, err := s.src.Report(ctx, snap.sw, snap.trials)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := html.Write(&b, in); err != nil {
			return nil, err
		}
		body, err := s.decorate(b.Bytes(), s.live("/api/sweep?name="+url.QueryEscape(name), snap.status.Version))
		if err != nil {
			return nil, err
		}
		p := &page{seq: snap.seq, version: snap.status.Version, etag: `"s-` + snap.status.Version + "-" + s.boot + `"`, body: body}
		s.keepPage(name, p, time.Since(start))
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*page), nil
}

// keptPage returns the page kept for sweep name if it is at version.
func (s *Server) keptPage(name, version string) *page {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pages[name]
	if p == nil || p.version != version {
		return nil
	}
	p.used = s.o.Now()
	return p
}

// keepPage keeps p as sweep name's page, unless a page of a later read is
// kept already, and records what it cost; the least recently used pages
// go when the pages take more than maxPageBytes.
func (s *Server) keepPage(name string, p *page, cost time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cost[name] = cost
	if old := s.pages[name]; old != nil {
		if old.seq > p.seq {
			return
		}
		s.bytes -= len(old.body)
	}
	p.used = s.o.Now()
	s.pages[name] = p
	s.bytes += len(p.body)
	for s.bytes > maxPageBytes && len(s.pages) > 1 {
		var lru string
		for k, q := range s.pages {
			if k != name && (lru == "" || q.used.Before(s.pages[lru].used)) {
				lru = k
			}
		}
		s.bytes -= len(s.pages[lru].body)
		delete(s.pages, lru)
		delete(s.cost, lru)
	}
}

func (s *Server) serveSweepsJSON(ctx context.Context, w http.ResponseWriter, r *http.Request, _ url.Values) error {
	idx, err := s.sweepsRead(ctx)
	if err != nil {
		return err
	}
	recs := slices.Clone(idx.recs)
	for i := range recs {
		recs[i].Created = recs[i].Created.UTC()
	}
	return replyJSON(w, r, struct {
		Version string               `json:"version"`
		Sweeps  []report.SweepRecord `json:"sweeps"`
	}{idx.version, recs})
}

func (s *Server) serveStatus(ctx context.Context, w http.ResponseWriter, r *http.Request, q url.Values) error {
	snap, err := s.sweepRead(ctx, q.Get("name"))
	if err != nil {
		return err
	}
	return replyJSON(w, r, snap.status)
}

func (s *Server) serveTrials(ctx context.Context, w http.ResponseWriter, r *http.Request, q url.Values) error {
	var o report.Options
	o.Sort = q.Get("sort")
	for _, v := range q["status"] {
		sts, err := report.ParseStatuses(v)
		if err != nil {
			return errorf(http.StatusBadRequest, "status: %v", err)
		}
		o.Status = append(o.Status, sts...)
	}
	if v := q.Get("top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errorf(http.StatusBadRequest, "top %q: want 0 (all) or a positive integer", v)
		}
		o.Top = n
	}
	snap, err := s.sweepRead(ctx, q.Get("name"))
	if err != nil {
		return err
	}
	b, err := report.NewBoard(snap.sw, slices.Clone(snap.trials), o)
	if err != nil {
		return errorf(codeOf(err), "sort: %v", err)
	}
	recs := make([]report.TrialRecord, len(b.Shown))
	for i := range b.Shown {
		recs[i] = report.NewTrialRecord(&b.Shown[i], i+1)
	}
	return replyJSON(w, r, recs)
}

func (s *Server) serveTrial(ctx context.Context, w http.ResponseWriter, r *http.Request, q url.Values) error {
	name, v := q.Get("name"), q.Get("trial")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return errorf(http.StatusBadRequest, "trial %q: want a trial number, 1 or more", v)
	}
	ts, err := s.trials.get(name+"\x00"+strconv.Itoa(n), func() (*trialSnap, error) {
		t, hist, err := s.src.Trial(ctx, name, n)
		switch {
		case errors.Is(err, results.ErrNoSweep):
			return nil, errorf(http.StatusNotFound, "no sweep named %q in this database", name)
		case errors.Is(err, results.ErrNoTrial):
			return nil, errorf(http.StatusNotFound, "sweep %q has no trial %d", name, n)
		case err != nil:
			return nil, err
		}
		return &trialSnap{t, hist}, nil
	})
	if err != nil {
		return err
	}
	rec := report.ShowRecord{TrialRecord: report.NewTrialRecord(ts.t, 0), Stack: ts.t.Stack, History: make([]report.EpochRecord, len(ts.hist))}
	for i, e := range ts.hist {
		rec.History[i] = report.NewEpochRecord(e)
	}
	return replyJSON(w, r, rec)
}
