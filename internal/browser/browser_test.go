package browser

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// page is a page that does everything a Tab records: console calls, an
// uncaught exception, a data: image, an image from another origin (%s), a
// list to count and a button to click.
const page = `<!DOCTYPE html>
<html><head><title>t</title></head><body>
<ul><li class="x">a</li><li class="x">b</li><li class="x">c</li></ul>
<img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7">
<img src="%s/pixel.gif">
<button id="b" onclick="this.textContent = 'clicked'">press</button>
<script>
console.log("hello", 42);
console.error("bad thing");
setTimeout(function () { throw new Error("boom"); }, 0);
</script>
</body></html>`

// TestTab drives a served page: what it logs and throws, what it
// requests outside its origin, a count, a click, a screenshot.
func TestTab(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/gif")
		w.Write([]byte("GIF89a"))
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, page, other.URL)
	}))
	defer srv.Close()

	tab := Start(t)
	tab.Navigate(srv.URL + "/")
	if n := tab.Count("li.x"); n != 3 {
		t.Errorf("Count(li.x) = %d, want 3", n)
	}
	if n := tab.Count("#nothing"); n != 0 {
		t.Errorf("Count(#nothing) = %d, want 0", n)
	}
	tab.Click("#b")
	if got := Eval[string](tab, `document.getElementById("b").textContent`); got != "clicked" {
		t.Errorf("after the click, the button says %q", got)
	}
	// The exception is thrown after the load event: wait for it.
	Eval[bool](tab, `new Promise(function (ok) { setTimeout(function () { ok(true); }, 50); })`)

	var texts []string
	for _, m := range tab.Messages() {
		texts = append(texts, m.String())
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"console log: hello 42", "console error: bad thing", "exception error: Uncaught Error: boom"} {
		if !strings.Contains(all, want) {
			t.Errorf("messages lack %q:\n%s", want, all)
		}
	}
	var problems []string
	for _, m := range tab.Problems() {
		problems = append(problems, m.Text)
	}
	if len(problems) != 2 || problems[0] != "bad thing" || !strings.Contains(problems[1], "boom") {
		t.Errorf("problems %q, want the console.error and the exception", problems)
	}

	reqs := tab.Requests()
	for _, want := range []string{srv.URL + "/", other.URL + "/pixel.gif"} {
		if !slices.Contains(reqs, want) {
			t.Errorf("requests %q lack %s", reqs, want)
		}
	}
	if out := tab.RequestsOutside(srv.URL + "/"); len(out) != 1 || out[0] != other.URL+"/pixel.gif" {
		t.Errorf("requests outside %s: %q, want the other origin's image alone", srv.URL, out)
	}

	shot := filepath.Join(t.TempDir(), "tab.png")
	tab.Screenshot(shot)
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if cfg.Width != ViewportW {
		t.Errorf("screenshot %d px wide, want the viewport's %d", cfg.Width, ViewportW)
	}
}

// TestFile: a file:// page that requests nothing else.
func TestFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.html")
	if err := os.WriteFile(p, []byte(`<!DOCTYPE html><title>f</title><p class="y">one</p>`), 0o644); err != nil {
		t.Fatal(err)
	}
	tab := Start(t)
	tab.Navigate("file://" + p)
	if n := tab.Count("p.y"); n != 1 {
		t.Errorf("Count(p.y) = %d, want 1", n)
	}
	if out := tab.RequestsOutside("file://" + dir + "/"); len(out) != 0 {
		t.Errorf("requests outside the file's directory: %q", out)
	}
	if ps := tab.Problems(); len(ps) != 0 {
		t.Errorf("problems: %v", ps)
	}
}

// fakeTB records how Start ends a test: Fatalf and Skipf stop it (by a
// panic Start's caller recovers), as the real ones stop the goroutine.
type fakeTB struct {
	testing.TB
	how, msg string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.how, f.msg = "fail", fmt.Sprintf(format, args...)
	panic(f)
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.how, f.msg = "skip", fmt.Sprintf(format, args...)
	panic(f)
}

// startFake runs Start on a fakeTB and returns it.
func startFake(t *testing.T) (f *fakeTB) {
	f = &fakeTB{TB: t}
	defer func() {
		if r := recover(); r != nil && r != f {
			panic(r)
		}
	}()
	Start(f)
	return f
}

// TestStartWithoutBrowser: without a browser the test fails, saying what
// to install, unless SWEEP_NO_BROWSER=1 asks to skip it.
func TestStartWithoutBrowser(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(PathEnv, "")
	t.Setenv(NoBrowserEnv, "")
	f := startFake(t)
	if f.how != "fail" || !strings.Contains(f.msg, "apt-get install chromium") || !strings.Contains(f.msg, NoBrowserEnv+"=1") {
		t.Errorf("Start without a browser: %s %q, want a failure saying what to install and how to skip", f.how, f.msg)
	}
	t.Setenv(NoBrowserEnv, "1")
	if f := startFake(t); f.how != "skip" {
		t.Errorf("Start with %s=1: %s %q, want a skip", NoBrowserEnv, f.how, f.msg)
	}
}

func TestPath(t *testing.T) {
	t.Setenv(PathEnv, filepath.Join(t.TempDir(), "no-such-browser"))
	if _, err := Path(); err == nil || !strings.Contains(err.Error(), PathEnv) {
		t.Errorf("Path with $%s naming nothing: %v, want an error naming the variable", PathEnv, err)
	}
}
