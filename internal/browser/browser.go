package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The environment variables the harness reads.
const (
	// NoBrowserEnv set to 1 skips the tests that need a browser (for a
	// developer without one; CI never sets it).
	NoBrowserEnv = "SWEEP_NO_BROWSER"
	// PathEnv names the browser to run instead of the one found on PATH.
	PathEnv = "SWEEP_CHROMIUM"
)

// Timeout bounds every step of a Tab: starting the browser, a navigation,
// an evaluation, a click, a screenshot.
const Timeout = time.Minute

// Viewport is the browser window's size in CSS pixels (at a device pixel
// ratio of 1): a laptop's screen.
const (
	ViewportW = 1280
	ViewportH = 900
)

// names are the browser's executables looked up on PATH, in order.
var names = []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"}

// Path returns the browser Start runs: $SWEEP_CHROMIUM, else the first of
// names found on PATH.
func Path() (string, error) {
	if p := os.Getenv(PathEnv); p != "" {
		full, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("$%s=%s: %w", PathEnv, p, err)
		}
		return full, nil
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no browser: none of %s is on PATH", strings.Join(names, ", "))
}

// Message is a console call, an uncaught exception or an entry of the
// browser's log.
type Message struct {
	Source string // "console", "exception" or "log" (then the log's source after a colon: "log:network")
	Level  string // console: the call (log, info, warning, error, assert, ...); log: verbose, info, warning, error; exception: error
	Text   string
	URL    string // where, when the browser says
	Line   int64  // 0-based, as the protocol reports it
}

func (m Message) String() string {
	s := m.Source + " " + m.Level + ": " + m.Text
	if m.URL != "" {
		s += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
	}
	return s
}

// Problem reports whether m is an error or a warning: an exception, a
// console.error, .warn or .assert, or a log entry of level warning or error.
func (m Message) Problem() bool {
	switch m.Level {
	case "error", "warning", "assert":
		return true
	}
	return false
}

// Tab is a tab of a headless browser started for one test. See the package
// documentation for what it records and who may call it.
type Tab struct {
	t testing.TB
	// ctx is chromedp's handle of the tab (chromedp keeps its browser
	// state in a context); it is cancelled at the test's cleanup.
	ctx context.Context

	mu       sync.Mutex
	messages []Message
	requests []string
}

// Start starts a headless browser with one tab for the test, closed at the
// test's cleanup. Without a browser it fails the test, or skips it when
// SWEEP_NO_BROWSER=1.
func Start(t testing.TB) *Tab {
	t.Helper()
	if os.Getenv(NoBrowserEnv) == "1" {
		t.Skipf("%s=1: not running the browser tests", NoBrowserEnv)
	}
	path, err := Path()
	if err != nil {
		t.Fatalf("%v.\nThe browser tests need Chromium: on Debian, apt-get install chromium (.ci/run does);"+
			" or point $%s at a Chrome or Chromium binary; or set %s=1 to skip them (never in CI).", err, PathEnv, NoBrowserEnv)
	}
	tab := &Tab{t: t}
	var out syncBuffer // the browser's output, for a failure to start
	ctx, stop, err := Launch(path, ViewportW, ViewportH, &out, tab.record)
	if err != nil {
		t.Fatalf("%v\nits output:\n%s", err, out.String())
	}
	t.Cleanup(stop)
	tab.ctx = ctx
	return tab
}

// Launch starts the browser at path, headless with the flags the package
// documentation lists, a window of w×h CSS pixels, and opens a tab. Its
// output goes to out (nil: nowhere), and listeners see every event of the
// tab (see chromedp.WithListener for what they may do). The context drives
// the tab with chromedp.Run; stop closes the browser and waits until it has
// exited and its user-data directory is removed.
func Launch(path string, w, h int, out io.Writer, listeners ...func(ev any)) (ctx context.Context, stop func(), err error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("force-device-scale-factor", "1"),
		chromedp.WindowSize(w, h),
	)
	if out != nil {
		opts = append(opts, chromedp.CombinedOutput(out))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	var copts []chromedp.ContextOption
	for _, l := range listeners {
		copts = append(copts, chromedp.WithListener(l))
	}
	ctx, cancel := chromedp.NewContext(actx, copts...)
	stop = func() {
		// Close the browser gracefully, then make sure it is gone.
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		_ = chromedp.Cancel(cctx) // a browser that will not close is killed below
		cancel()
		cancelAlloc() // waits for the process to exit
	}
	// The first Run starts the browser and opens the tab. Its context must
	// not have a deadline (it would end the browser), so it is bounded here.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err = <-started:
	case <-time.After(Timeout):
		err = fmt.Errorf("no answer after %v", Timeout)
	}
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("start the browser %s: %w", path, err)
	}
	return ctx, stop, nil
}

// record is the tab's listener: it runs on chromedp's reading goroutine,
// so it only appends.
func (tab *Tab) record(ev any) {
	var m Message
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Request != nil {
			tab.mu.Lock()
			tab.requests = append(tab.requests, ev.Request.URL)
			tab.mu.Unlock()
		}
		return
	case *runtime.EventConsoleAPICalled:
		m = Message{Source: "console", Level: string(ev.Type), Text: argsText(ev.Args)}
		if st := ev.StackTrace; st != nil && len(st.CallFrames) > 0 {
			m.URL, m.Line = st.CallFrames[0].URL, st.CallFrames[0].LineNumber
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		if d == nil {
			return
		}
		m = Message{Source: "exception", Level: "error", Text: d.Text, URL: d.URL, Line: d.LineNumber}
		if d.Exception != nil && d.Exception.Description != "" {
			m.Text += " " + d.Exception.Description
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		if e == nil {
			return
		}
		m = Message{Source: "log:" + string(e.Source), Level: string(e.Level), Text: e.Text, URL: e.URL, Line: e.LineNumber}
	default:
		return
	}
	tab.mu.Lock()
	tab.messages = append(tab.messages, m)
	tab.mu.Unlock()
}

// argsText is a console call's arguments as text: strings as they are,
// other values by their description or JSON.
func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		var s string
		switch {
		case a == nil:
			s = "null"
		case a.Type == runtime.RemoteObjectTypeString && json.Unmarshal([]byte(a.Value), &s) == nil:
		case a.UnserializableValue != "":
			s = string(a.UnserializableValue)
		case a.Description != "":
			s = a.Description
		case len(a.Value) > 0:
			s = string(a.Value)
		default:
			s = string(a.Type)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// run runs a on the tab within Timeout, failing the test with what on an
// error.
func run[T any](tab *Tab, what string, a chromedp.Action[T]) T {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (after %v)", err, Timeout)
		}
		tab.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// Navigate opens url (file://, http://127.0.0.1:port/...) in the tab and
// waits for the page's load event.
func (tab *Tab) Navigate(url string) {
	tab.t.Helper()
	run(tab, "navigate to "+url, chromedp.Navigate(url))
}

// Eval evaluates the JavaScript expression js in the tab's page and returns
// its value (a promise's, once it settles), decoded from JSON into T
// (chromedp.Void to ignore it).
func Eval[T any](tab *Tab, js string) T {
	tab.t.Helper()
	return run(tab, "evaluate "+js, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

// Count is the number of elements matching the CSS selector sel.
func (tab *Tab) Count(sel string) int {
	tab.t.Helper()
	return Eval[int](tab, "document.querySelectorAll("+jsString(sel)+").length")
}

// Click clicks the first element matching the CSS selector sel, as a
// person does: scrolled into view, a press and a release of the mouse at
// its centre.
func (tab *Tab) Click(sel string) {
	tab.t.Helper()
	run(tab, "click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// Screenshot writes a PNG of the whole page (beyond the viewport, at its
// width) to path.
func (tab *Tab) Screenshot(path string) {
	tab.t.Helper()
	png := run(tab, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tab.t.Fatal(err)
	}
}

// sync makes a round trip to the page: every event the browser sent
// before has been recorded when it returns.
func (tab *Tab) sync() {
	tab.t.Helper()
	Eval[chromedp.Void](tab, "0")
}

// Messages are the console calls, exceptions and log entries so far.
func (tab *Tab) Messages() []Message {
	tab.t.Helper()
	tab.sync()
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]Message(nil), tab.messages...)
}

// Problems are the Messages that are errors or warnings.
func (tab *Tab) Problems() []Message {
	tab.t.Helper()
	var out []Message
	for _, m := range tab.Messages() {
		if m.Problem() {
			out = append(out, m)
		}
	}
	return out
}

// Requests are the URLs of every request the tab's pages made so far
// (documents, images, scripts, fetches, data: URIs included), in order.
func (tab *Tab) Requests() []string {
	tab.t.Helper()
	tab.sync()
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.requests...)
}

// RequestsOutside are the Requests whose URL starts with none of the
// prefixes (a file's URL, a server's origin followed by "/") and is not a
// data: URI, which requests nothing.
func (tab *Tab) RequestsOutside(prefixes ...string) []string {
	tab.t.Helper()
	var out []string
	for _, u := range tab.Requests() {
		if strings.HasPrefix(u, "data:") || hasAnyPrefix(u, prefixes) {
			continue
		}
		out = append(out, u)
	}
	return out
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a string always marshals
	}
	return string(b)
}

// syncBuffer is a strings.Builder safe for the browser's output goroutine
// and the test's.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
