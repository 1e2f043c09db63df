package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/report/html"
	"github.com/sweep-dev/sweep/results"
)

// t0 is the fixtures' time.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Hostile names: a sweep, a parameter and a parameter value that would run
// script or reach files if they were not escaped and looked up by name.
const (
	scriptName = `<script>alert(1)</script>`
	pathName   = `../../etc/passwd`
	quoteName  = `q"uo'te & <b>`
	evilParam  = `<img src=x onerror=alert(2)>`
	evilValue  = `"><script>alert(3)</script>`
)

// fakeSweep is a sweep of fakeSource.
type fakeSweep struct {
	sw     *results.Sweep
	trials []results.Trial
	hist   map[int][]results.Epoch
}

// fakeSource is a Source of fixed sweeps that counts its reads. When
// gate is set, Report waits for it to be closed.
type fakeSource struct {
	mu     sync.Mutex
	sweeps map[string]*fakeSweep

	sweepReads, reports, trialReads, indexReads atomic.Int64

	// When gate is set, Report closes entered (once) and waits for gate
	// to be closed; then it fails if its ctx is done.
	gate, entered chan struct{}
	enter         sync.Once
}

func (f *fakeSource) Sweeps(ctx context.Context) ([]report.SweepRecord, error) {
	f.indexReads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for n := range f.sweeps {
		names = append(names, n)
	}
	slices.Sort(names)
	var recs []report.SweepRecord
	for _, n := range names {
		fs := f.sweeps[n]
		sum := results.Summary{Name: n, Total: len(fs.trials), Created: fs.sw.Created}
		for _, t := range fs.trials {
			switch t.Status {
			case results.Done:
				sum.Done++
			case results.Running:
				sum.Running++
			case results.Pending:
				sum.Pending++
			case results.Diverged:
				sum.Diverged++
			}
		}
		recs = append(recs, report.SweepRecord{Summary: sum, Processes: []string{}})
	}
	return recs, nil
}

func (f *fakeSource) Sweep(ctx context.Context, name string) (*results.Sweep, []results.Trial, error) {
	f.sweepReads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	fs, ok := f.sweeps[name]
	if !ok {
		return nil, nil, fmt.Errorf("read sweep %q: %w", name, results.ErrNoSweep)
	}
	return fs.sw, slices.Clone(fs.trials), nil
}

func (f *fakeSource) Report(ctx context.Context, sw *results.Sweep, trials []results.Trial) (*html.Input, error) {
	f.reports.Add(1)
	if f.gate != nil {
		f.enter.Do(func() { close(f.entered) })
		<-f.gate
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return &html.Input{Sweep: sw, Trials: trials, Histories: f.sweeps[sw.Name].hist, Generated: t0}, nil
}

func (f *fakeSource) Trial(ctx context.Context, name string, n int) (*results.Trial, []results.Epoch, error) {
	f.trialReads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	fs, ok := f.sweeps[name]
	switch {
	case !ok:
		return nil, nil, fmt.Errorf("read trial %d of sweep %q: %w", n, name, results.ErrNoSweep)
	case n > len(fs.trials):
		return nil, nil, fmt.Errorf("read trial %d of sweep %q: %w", n, name, results.ErrNoTrial)
	}
	t := fs.trials[n-1]
	return &t, fs.hist[n], nil
}

// finish makes trial n of sweep name done with val_acc acc.
func (f *fakeSource) finish(name string, n int, acc float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &f.sweeps[name].trials[n-1]
	t.Status, t.ValAcc, t.ValLoss, t.TrainAcc, t.Epochs, t.Iterations = results.Done, acc, 1-acc, acc, 2, 20
	if t.Started.IsZero() {
		t.Started = t0.Add(30 * time.Minute)
	}
	t.Finished = t0.Add(time.Hour)
}

// newFake returns a source of sweep "grid" and of sweeps with the hostile
// names, each of 6 trials: 3 done, 1 diverged, 1 running, 1 pending, with
// two parameters, learning_rate and (for the hostile ones) evilParam
// whose values include evilValue.
func newFake() *fakeSource {
	f := &fakeSource{sweeps: map[string]*fakeSweep{}}
	for _, name := range []string{"grid", scriptName, pathName, quoteName} {
		second := "reg"
		if name != "grid" {
			second = evilParam
		}
		fs := &fakeSweep{sw: &results.Sweep{Name: name, Metric: "val_acc", Created: t0}, hist: map[int][]results.Epoch{}}
		for i := range 6 {
			var v any = []float64{0.1, 0.2}[i%2]
			if name != "grid" {
				v = []string{"plain", evilValue}[i%2]
			}
			t := results.Trial{Number: i + 1, Key: fmt.Sprint(i), Status: results.Pending, Created: t0,
				Params: results.Params{{Name: "learning_rate", Value: []float64{1e-3, 1e-2, 1e-1}[i/2]}, {Name: second, Value: v}}}
			switch {
			case i < 3:
				acc := 0.3 + 0.1*float64(i)
				t.Status, t.ValAcc, t.ValLoss, t.TrainAcc, t.Epochs, t.Iterations = results.Done, acc, 1-acc, acc+0.05, 2, 20
				t.Started, t.Finished, t.Duration = t0.Add(time.Duration(i)*time.Minute), t0.Add(time.Duration(i+1)*time.Minute), 60
				fs.hist[i+1] = []results.Epoch{{Epoch: 1, Iteration: 10, Loss: 2, TrainAcc: acc / 2, ValAcc: acc / 2, ValLoss: 1.5, LearningRate: 1e-3},
					{Epoch: 2, Iteration: 20, Loss: 1, TrainAcc: acc, ValAcc: acc, ValLoss: 1 - acc, LearningRate: 9e-4}}
			case i == 3:
				t.Status, t.ValAcc, t.ValLoss, t.DivergedAt, t.Epochs = results.Diverged, 0.1, 9, 7, 0.5
				t.Started, t.Finished = t0.Add(3*time.Minute), t0.Add(4*time.Minute)
			case i == 4:
				t.Status, t.Epoch, t.Iteration, t.Started = results.Running, 1, 10, t0.Add(4*time.Minute)
				t.Lease = &results.Lease{Owner: results.Owner{Host: "node1", PID: 42}, Claimed: t0.Add(4 * time.Minute), Heartbeat: t0.Add(5 * time.Minute)}
			}
			fs.trials = append(fs.trials, t)
		}
		f.sweeps[name] = fs
	}
	return f
}

// fakeClock is a settable clock.
type fakeClock struct{ ns atomic.Int64 }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t0.UnixNano())
	return c
}

func (c *fakeClock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) add(d time.Duration) { c.ns.Add(int64(d)) }
func newTestServer(f *fakeSource) *Server {
	return New(f, Options{Title: "test.db", Now: newClock().now})
}
func sweepURL(name string) string           { return "/sweep?name=" + url.QueryEscape(name) }
func apiURL(path, name, rest string) string { return path + "?name=" + url.QueryEscape(name) + rest }
func get(h http.Handler, target string) *httptest.ResponseRecorder {
	return do(h, http.MethodGet, target, nil)
}

func do(h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://127.0.0.1:8080"+target, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestRoutes: every route's answer to good and bad requests, its status
// and content type, and what its body holds.
func TestRoutes(t *testing.T) {
	s := newTestServer(newFake())
	long := strings.Repeat("x", maxParam+1)
	tests := []struct {
		method, target string
		code           int
		ctype          string // prefix
		body           []string
	}{
		{"GET", "/", 200, "text/html", []string{`<a href="/sweep?name=grid">grid</a>`, "test.db", `data-status="/api/sweeps"`, "best_val_acc"}},
		{"HEAD", "/", 200, "text/html", nil},
		{"GET", "/sweep?name=grid", 200, "text/html", []string{`<section id="history"`, `<section id="leaderboard"`, `data-status="/api/sweep?name=grid"`, `<a href="/">`, `/static/live.js`}},
		{"GET", "/api/sweeps", 200, "application/json", []string{`"version": "`, `"name": "grid"`, `"total": 6`}},
		{"GET", "/api/sweep?name=grid", 200, "application/json", []string{`"version": "`, `"done": 3`, `"running": 1`, `"best_val_acc": 0.5`, `"finished": false`, `"epochs": 7.5`}},
		{"GET", "/api/trials?name=grid", 200, "application/json", []string{`"rank": 6`}},
		{"GET", "/api/trials?name=grid&sort=-learning_rate&status=done,diverged&status=running&top=2", 200, "application/json", []string{`"rank": 1,
    "trial": 5`, `"rank": 2,
    "trial": 3`}},
		{"GET", "/api/trial?name=grid&trial=2", 200, "application/json", []string{`"trial": 2`, `"history": [`, `"val_acc": 0.4`}},
		{"GET", "/api/trial?name=grid&trial=6", 200, "application/json", []string{`"trial": 6`, `"history": []`}},
		{"GET", "/static/live.js", 200, "text/javascript", []string{"location.reload()"}},
		{"GET", "/static/serve.css", 200, "text/css", []string{"body{"}},
		{"GET", "/favicon.ico", 200, "image/svg+xml", []string{"<svg"}},

		{"GET", "/sweep?name=nope", 404, "text/html", []string{"404 Not Found", "no sweep named &#34;nope&#34;"}},
		{"GET", "/api/sweep?name=nope", 404, "application/json", []string{`"error": "no sweep named \"nope\" in this database"`}},
		{"GET", "/api/trials?name=nope", 404, "application/json", nil},
		{"GET", "/api/trial?name=nope&trial=1", 404, "application/json", nil},
		{"GET", "/api/trial?name=grid&trial=7", 404, "application/json", []string{`sweep \"grid\" has no trial 7`}},
		{"GET", "/nope", 404, "text/html", []string{"no page /nope here"}},
		{"GET", "/sweeps/grid", 404, "text/html", nil},
		{"GET", "/static/../serve.go", 404, "text/html", nil},
		{"GET", "/static/pages.tmpl", 404, "text/html", nil},
		{"GET", "/../../etc/passwd", 404, "text/html", nil},
		{"GET", "/api/", 404, "application/json", nil},

		{"GET", "/sweep", 400, "text/html", []string{"missing query parameter &#34;name&#34;"}},
		{"GET", "/sweep?name=", 400, "text/html", []string{"is empty"}},
		{"GET", "/sweep?name=grid&name=grid", 400, "text/html", []string{"given 2 times"}},
		{"GET", "/sweep?name=grid&top=3", 400, "text/html", []string{"unknown query parameter &#34;top&#34;"}},
		{"GET", "/sweep?name=%ff", 400, "text/html", []string{"not UTF-8"}},
		{"GET", "/sweep?name=%zz", 400, "text/html", []string{"bad query"}},
		{"GET", "/sweep?name=grid;x=1", 400, "text/html", []string{"bad query"}},
		{"GET", "/sweep?name=" + long, 400, "text/html", []string{"longer than"}},
		{"GET", "/?debug=1", 400, "text/html", []string{"valid here: none"}},
		{"GET", "/static/live.js?v=1", 400, "text/html", nil},
		{"GET", "/api/sweep", 400, "application/json", []string{`"error": "missing query parameter \"name\""`}},
		{"GET", "/api/trials?name=grid&sort=nope", 400, "application/json", []string{"unknown sort key"}},
		{"GET", "/api/trials?name=grid&status=bogus", 400, "application/json", []string{"unknown status"}},
		{"GET", "/api/trials?name=grid&top=-1", 400, "application/json", nil},
		{"GET", "/api/trials?name=grid&top=two", 400, "application/json", nil},
		{"GET", "/api/trial?name=grid", 400, "application/json", []string{`missing query parameter \"trial\"`}},
		{"GET", "/api/trial?name=grid&trial=0", 400, "application/json", nil},
		{"GET", "/api/trial?name=grid&trial=-3", 400, "application/json", nil},
		{"GET", "/api/trial?name=grid&trial=1.5", 400, "application/json", nil},
		{"GET", "/api/trial?name=grid&trial=99999999999999999999", 400, "application/json", nil},

		{"POST", "/", 405, "text/html", []string{"read-only"}},
		{"PUT", "/sweep?name=grid", 405, "text/html", nil},
		{"DELETE", "/api/sweep?name=grid", 405, "application/json", nil},
		{"PATCH", "/api/trial?name=grid&trial=1", 405, "application/json", nil},
		{"OPTIONS", "/", 405, "text/html", nil},
		{"POST", "/nope", 405, "text/html", nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			w := do(s, tt.method, tt.target, nil)
			body := w.Body.String()
			if w.Code != tt.code {
				t.Fatalf("status %d, want %d:\n%.2000s", w.Code, tt.code, body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("Content-Type %q, want %s", ct, tt.ctype)
			}
			if tt.code == 405 && w.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow: %q", w.Header().Get("Allow"))
			}
			if tt.method == "HEAD" && body != "" {
				t.Errorf("HEAD has a body of %d bytes", len(body))
			}
			if strings.HasPrefix(tt.ctype, "application/json") && tt.method != "HEAD" && !json.Valid(w.Body.Bytes()) {
				t.Errorf("invalid JSON: %s", body)
			}
			for _, want := range tt.body {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q:\n%.3000s", want, body)
				}
			}
		})
	}
}

// TestHostileNames: sweeps, a parameter and its values named to inject
// script or to reach files are listed, linked, looked up and shown as
// text, and run nothing.
func TestHostileNames(t *testing.T) {
	s := newTestServer(newFake())
	index := get(s, "/").Body.String()
	for _, name := range []string{scriptName, pathName, quoteName} {
		t.Run(name, func(t *testing.T) {
			href := regexp.QuoteMeta(`href="/sweep?name=`) + `([^"]*)"`
			found := false
			for _, m := range regexp.MustCompile(href).FindAllStringSubmatch(index, -1) {
				u, err := url.Parse("/sweep?name=" + strings.ReplaceAll(m[1], "&amp;", "&"))
				if err == nil && u.Query().Get("name") == name {
					found = true
				}
			}
			if !found {
				t.Errorf("the index has no link to sweep %q:\n%s", name, index)
			}
			w := get(s, sweepURL(name))
			page := w.Body.String()
			if w.Code != 200 {
				t.Fatalf("its page: status %d:\n%.2000s", w.Code, page)
			}
			checkInert(t, page)
			for _, api := range []string{apiURL("/api/sweep", name, ""), apiURL("/api/trials", name, "&sort="+url.QueryEscape(evilParam)), apiURL("/api/trial", name, "&trial=2")} {
				w := get(s, api)
				var v any
				if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &v) != nil {
					t.Errorf("%s: status %d: %s", api, w.Code, w.Body.String())
				}
				if strings.ContainsAny(w.Body.String(), "<>") {
					t.Errorf("%s: raw < or > in JSON (they are escaped as \\u003c): %s", api, w.Body.String())
				}
			}
		})
	}
	checkInert(t, index)
	// Not found: the name is shown as text.
	w := get(s, sweepURL(scriptName+"x"))
	if w.Code != 404 {
		t.Errorf("a missing hostile name: status %d", w.Code)
	}
	checkInert(t, w.Body.String())
}

// checkInert checks that page has no element or attribute that the
// hostile names would have made (inertProblems).
func checkInert(t *testing.T, page string) {
	t.Helper()
	for _, p := range inertProblems(page) {
		t.Error(p)
	}
}

// inertProblems returns what the hostile names would have made in page if
// they were not escaped: an event handler in a start tag (outside its
// quoted attribute values), an img from x, a script but the report's
// inline one and live.js, a b element.
func inertProblems(page string) []string {
	var out []string
	quoted := regexp.MustCompile(`"[^"]*"|'[^']*'`)
	handler := regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	for _, tag := range regexp.MustCompile(`<[a-zA-Z][^>]*>`).FindAllString(page, -1) {
		bare := quoted.ReplaceAllString(tag, `""`)
		lower := strings.ToLower(tag)
		switch {
		case handler.MatchString(bare):
			out = append(out, "an event handler: "+tag)
		case strings.HasPrefix(lower, "<img") && strings.Contains(bare, "src=x"):
			out = append(out, "an image from x: "+tag)
		case strings.HasPrefix(lower, "<script") && tag != "<script>" && !strings.HasPrefix(tag, `<script src="/static/live.js" `):
			out = append(out, "an unexpected script element: "+tag)
		case lower == "<b>":
			out = append(out, "a b element")
		}
	}
	if strings.Contains(page, "<script>alert") {
		out = append(out, "a script from a name")
	}
	return out
}

// TestInertProblems: the check of TestHostileNames sees what it looks for.
func TestInertProblems(t *testing.T) {
	for _, page := range []string{scriptName, evilParam, `<b>x</b>`, `<figure id="x"` + evilValue, `<svg><title>` + evilParam + `</title></svg>`} {
		if len(inertProblems(page)) == 0 {
			t.Errorf("no problem seen in %s", page)
		}
	}
	for _, page := range []string{`<figure id="&lt;img src=x onerror=alert(2)&gt;">`, `<p>onerror=1</p>`, `<script>`} {
		if p := inertProblems(page); len(p) > 0 {
			t.Errorf("problems seen in %s: %q", page, p)
		}
	}
}

// TestSecurityHeaders: every answer says nosniff and has a policy; a
// report page's policy lets its own inline script and style run by their
// hashes, and nothing else inline.
func TestSecurityHeaders(t *testing.T) {
	s := newTestServer(newFake())
	for _, target := range []string{"/", sweepURL("grid"), sweepURL(scriptName), "/api/sweeps", "/api/sweep?name=grid", "/static/live.js", "/favicon.svg", "/nope", "/sweep?name=nope", "/?x=1"} {
		for _, method := range []string{"GET", "POST"} {
			w := do(s, method, target, nil)
			h := w.Header()
			csp := h.Get("Content-Security-Policy")
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" || !strings.HasPrefix(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%s %s: headers %v", method, target, h)
			}
			if strings.Contains(csp, "'unsafe-eval'") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") || strings.Contains(csp, "*") {
				t.Errorf("%s %s: policy too wide: %s", method, target, csp)
			}
		}
	}
	w := get(s, sweepURL("grid"))
	csp := w.Header().Get("Content-Security-Policy")
	scripts, styles := inlineHashes(w.Body.String())
	if scripts == "" || styles == "" {
		t.Fatal("the report page has no inline script or style: check inlineHashes against report/html")
	}
	for _, h := range strings.Fields(scripts) {
		if !strings.Contains(csp, "script-src 'self' "+h) && !strings.Contains(csp, " "+h+";") {
			t.Errorf("the policy does not allow the page's inline script %s: %s", h, csp)
		}
	}
	for _, h := range strings.Fields(styles) {
		if !strings.Contains(csp, "style-src-elem 'self' "+h) {
			t.Errorf("the policy does not allow the page's inline style %s: %s", h, csp)
		}
	}
	// Nothing on the page leaves the server: no absolute URL but SVG's
	// namespace.
	page := regexp.MustCompile(`xmlns(:\w+)?="http://www.w3.org/[^"]*"`).ReplaceAllString(w.Body.String(), "")
	if m := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9]`).FindString(page); m != "" {
		t.Errorf("the page refers to another origin: %q", m)
	}
	if regexp.MustCompile(`\son[a-z]+=`).MatchString(page) {
		t.Error("the page has an inline event handler, which its policy blocks")
	}
}

// TestLoopbackOnly: with Options.Loopback, a request for another host name
// (DNS rebinding) is refused.
func TestLoopbackOnly(t *testing.T) {
	s := New(newFake(), Options{Loopback: true})
	for host, ok := range map[string]bool{
		"127.0.0.1:8080": true, "127.0.0.1": true, "127.1.2.3:80": true, "[::1]:8080": true, "localhost:8080": true, "LOCALHOST": true, "app.localhost:1": true,
		"evil.example:8080": false, "evil.example": false, "10.0.0.1:8080": false, "127.0.0.1.evil.example": false, "": false, "[::2]:80": false, "localhost.evil.example": false,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if got := w.Code == 200; got != ok {
			t.Errorf("Host %q: status %d", host, w.Code)
		}
		if !ok && w.Code != http.StatusMisdirectedRequest {
			t.Errorf("Host %q: status %d, want 421", host, w.Code)
		}
	}
	// Without Options.Loopback, any host.
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = "dashboard.example:80"
	w := httptest.NewRecorder()
	New(newFake(), Options{}).ServeHTTP(w, r)
	if w.Code != 200 {
		t.Errorf("without Loopback, Host dashboard.example: status %d", w.Code)
	}
}

// TestOneRenderPerVersion: many requests for a sweep's page at once, all
// in flight while its report is built, share one read of the sweep and
// one render; after the sweep changes (and the TTL passes), one more.
// The status endpoint's version is the page's; an unchanged page answers
// its ETag with 304.
func TestOneRenderPerVersion(t *testing.T) {
	const n = 16
	f := newFake()
	clock := newClock()
	s := New(f, Options{Now: clock.now, TTL: time.Minute})
	f.gate, f.entered = make(chan struct{}), make(chan struct{})
	var inflight atomic.Int32
	all := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if inflight.Add(1) == n {
			close(all)
		}
		s.ServeHTTP(w, r)
	})
	var wg sync.WaitGroup
	etags := make([]string, n)
	for i := range n {
		wg.Go(func() {
			w := get(h, sweepURL("grid"))
			if w.Code != 200 {
				t.Errorf("request %d: status %d", i, w.Code)
			}
			etags[i] = w.Header().Get("ETag")
		})
	}
	<-all // every request is in the handler, the render held
	close(f.gate)
	wg.Wait()
	if r, sr := f.reports.Load(), f.sweepReads.Load(); r != 1 || sr != 1 {
		t.Errorf("%d concurrent requests: %d renders, %d reads of the sweep; want 1 and 1", n, r, sr)
	}
	if etags[0] == "" || slices.ContainsFunc(etags, func(e string) bool { return e != etags[0] }) {
		t.Errorf("ETags %q", etags)
	}
	f.gate = nil
	status := func() Status {
		var st Status
		if err := json.Unmarshal(get(s, "/api/sweep?name=grid").Body.Bytes(), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	v1 := status().Version
	if !strings.Contains(etags[0], v1) {
		t.Errorf("the page's ETag %s is not of the status's version %s", etags[0], v1)
	}
	if w := do(s, "GET", sweepURL("grid"), http.Header{"If-None-Match": {etags[0]}}); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Errorf("If-None-Match of the page's ETag: status %d, %d bytes", w.Code, w.Body.Len())
	}

	// A change is not seen before the TTL passes, then once.
	f.finish("grid", 5, 0.9)
	if v := status().Version; v != v1 {
		t.Error("the version changed before the TTL passed")
	}
	clock.add(time.Minute)
	if v := status().Version; v == v1 {
		t.Error("the version did not change with a trial")
	}
	for range 3 {
		w := do(s, "GET", sweepURL("grid"), http.Header{"If-None-Match": {etags[0]}})
		if w.Code != 200 || w.Header().Get("ETag") == etags[0] {
			t.Errorf("after a change: status %d, ETag %s (was %s)", w.Code, w.Header().Get("ETag"), etags[0])
		}
	}
	if r, sr := f.reports.Load(), f.sweepReads.Load(); r != 2 || sr != 2 {
		t.Errorf("after a change: %d renders, %d reads of the sweep; want 2 and 2", r, sr)
	}
	// The index, its JSON and the trial endpoint are read once per TTL too.
	for range 5 {
		get(s, "/")
		get(s, "/api/sweeps")
		get(s, "/api/trial?name=grid&trial=1")
	}
	if ir, tr := f.indexReads.Load(), f.trialReads.Load(); ir != 1 || tr != 1 {
		t.Errorf("5 requests each: %d reads of the index, %d of the trial; want 1 and 1", ir, tr)
	}
}

// TestVersion: what changes a sweep's version, and what does not.
func TestVersion(t *testing.T) {
	f := newFake()
	sw, trials, _ := f.Sweep(t.Context(), "grid")
	v := sweepVersion(sw, trials)
	change := func(what string, mod func(ts []results.Trial, sw *results.Sweep), want bool) {
		ts := slices.Clone(trials)
		sw2 := *sw
		mod(ts, &sw2)
		if got := sweepVersion(&sw2, ts) != v; got != want {
			t.Errorf("%s: version changed %v, want %v", what, got, want)
		}
	}
	change("nothing", func([]results.Trial, *results.Sweep) {}, false)
	change("a heartbeat", func(ts []results.Trial, _ *results.Sweep) {
		l := *ts[4].Lease
		l.Heartbeat = l.Heartbeat.Add(time.Second)
		ts[4].Lease = &l
	}, false)
	change("wall time", func(_ []results.Trial, sw *results.Sweep) { sw.Elapsed += 5 }, false)
	change("an epoch", func(ts []results.Trial, _ *results.Sweep) { ts[4].Epoch++ }, true)
	change("a status", func(ts []results.Trial, _ *results.Sweep) { ts[5].Status = results.Running }, true)
	change("a selection", func(_ []results.Trial, sw *results.Sweep) { sw.Best = &results.Best{Trial: 3, TestAcc: 0.5} }, true)
	if sweepVersion(sw, append(slices.Clone(trials), results.Trial{Number: 7, Status: results.Pending})) == v {
		t.Error("a new trial: version unchanged")
	}
}

// TestClientGoneRenderGoesOn: a client that goes away does not cancel the
// render that others wait for.
func TestClientGoneRenderGoesOn(t *testing.T) {
	f := newFake()
	s := newTestServer(f)
	f.gate, f.entered = make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan int)
	go func() {
		r := httptest.NewRequestWithContext(ctx, "GET", "http://127.0.0.1"+sweepURL("grid"), nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		first <- w.Code
	}()
	<-f.entered // the first request's render has started
	cancel()
	second := make(chan *httptest.ResponseRecorder)
	go func() { second <- get(s, sweepURL("grid")) }()
	close(f.gate)
	if code := <-first; code != 200 {
		t.Errorf("the request whose client went: status %d", code)
	}
	if w := <-second; w.Code != 200 {
		t.Errorf("the request that waited for the same render: status %d: %s", w.Code, w.Body.String())
	}
	if r := f.reports.Load(); r != 1 {
		t.Errorf("%d renders, want 1", r)
	}
}

func TestMemoBounded(t *testing.T) {
	clock := newClock()
	m := newMemo[int](clock.now, func(string) time.Duration { return time.Second }, 3)
	loads := 0
	for i := range 10 {
		v, err := m.get(fmt.Sprint(i), func() (int, error) { loads++; return i, nil })
		if err != nil || v != i {
			t.Fatalf("get(%d) = %d, %v", i, v, err)
		}
		clock.add(time.Millisecond)
	}
	if len(m.m) != 3 || loads != 10 {
		t.Errorf("%d entries kept, %d loads; want 3 and 10", len(m.m), loads)
	}
	if _, ok := m.m["9"]; !ok {
		t.Error("the newest entry was dropped")
	}
	if _, err := m.get("e", func() (int, error) { return 0, io.ErrUnexpectedEOF }); err != io.ErrUnexpectedEOF {
		t.Errorf("a failed load: %v", err)
	}
	if _, ok := m.m["e"]; ok {
		t.Error("a failed load was kept")
	}
}

func TestDecorate(t *testing.T) {
	s := newTestServer(newFake())
	l := s.live("/api/sweep?name=a%26b", "v1")
	got, err := s.decorate([]byte(`<html><head><title>x</title></head><body class="r"><h1>x</h1></body></html>`), l)
	if err != nil {
		t.Fatal(err)
	}
	want := `<html><head><title>x</title><link rel="icon" href="/favicon.svg"><link rel="stylesheet" href="/static/serve.css"></head><body class="r">` + "\n" + `<p class="live" id="live">`
	if !strings.HasPrefix(string(got), want) || !strings.HasSuffix(string(got), `<h1>x</h1><script src="/static/live.js" data-status="/api/sweep?name=a%26b" data-version="v1" data-every="2000"></script>`+"\n</body></html>") {
		t.Errorf("decorated:\n%s", got)
	}
	for _, bad := range []string{"<p>no head</p>", "<head></head><p>no body</p>", "<body></body></head>"} {
		if _, err := s.decorate([]byte(bad), l); err == nil {
			t.Errorf("decorate(%q): no error", bad)
		}
	}
}
