package serve

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/internal/browser"
)

// TestLiveReloadInBrowser opens a sweep's page in headless Chromium (see
// internal/browser) and changes the sweep: the page reloads by itself and
// shows the change (a point more in the history); with its reload box
// unticked, it says that it is out of date instead, and ticked again, it
// reloads. The hostile sweep's
// page runs nothing of its name. No page logs a problem or requests
// anything from another origin.
func TestLiveReloadInBrowser(t *testing.T) {
	tab := browser.Start(t)
	f := newFake()
	s := New(f, Options{Refresh: 50 * time.Millisecond, TTL: time.Millisecond})
	loads := make(chan struct{}, 16) // a page's live.js was requested: the page is parsed
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/static/live.js" {
			loads <- struct{}{}
		}
		s.ServeHTTP(w, r)
	}))
	defer srv.Close()
	points := func() int { return tab.Count("svg#history circle.trial") }
	loaded := func() {
		t.Helper()
		<-loads
		browser.Eval[bool](tab, `new Promise(function (ok) {
		  if (document.readyState === "complete") { ok(true); } else { addEventListener("load", function () { ok(true); }); }
		})`)
	}

	tab.Navigate(srv.URL + sweepURL(scriptName))
	loaded()
	if got := browser.Eval[string](tab, `document.querySelector("h1").textContent`); got != "sweep "+scriptName {
		t.Errorf("the hostile sweep's title reads %q", got)
	}
	if n := tab.Count("script"); n != 2 {
		t.Errorf("%d script elements on the hostile sweep's page, want 2 (the report's and live.js)", n)
	}

	tab.Navigate(srv.URL + sweepURL("grid"))
	loaded()
	if n := points(); n != 4 {
		t.Fatalf("%d points in the history, want 4 (3 done, 1 diverged)", n)
	}
	f.finish("grid", 5, 0.9)
	loaded() // reloaded by live.js
	if n := points(); n != 5 {
		t.Errorf("after trial 5 is done and the page reloaded: %d points in the history, want 5", n)
	}
	if got := browser.Eval[string](tab, `document.querySelector("#board tr[data-trial='5']").dataset.status`); got != "done" {
		t.Errorf("trial 5's row says %s", got)
	}

	tab.Click("#live-on")
	f.finish("grid", 6, 0.95)
	if got := browser.Eval[string](tab, strings.ReplaceAll(waitState, "WANT", "changed since")); !strings.Contains(got, "reload to see it") {
		t.Errorf("unticked, the banner says %q", got)
	}
	if n := points(); n != 5 || len(loads) > 0 {
		t.Errorf("unticked, the page reloaded: %d points, %d loads", n, len(loads))
	}
	tab.Click("#live-on") // ticked again: the page catches up at once
	loaded()
	if n := points(); n != 6 {
		t.Errorf("ticked again: %d points in the history, want 6", n)
	}
	for _, m := range tab.Messages() {
		if m.Problem() {
			t.Errorf("a page reported a problem: %v", m)
		}
	}
	if out := tab.RequestsOutside(srv.URL + "/"); len(out) > 0 {
		t.Errorf("the pages requested %q: nothing but the server's origin", out)
	}
}

// waitState is a script that waits for the live banner's state to contain
// WANT and returns it.
const waitState = `new Promise(function (ok) {
  var el = document.getElementById("live-state");
  function check() { if (el.textContent.indexOf("WANT") >= 0) { ok(el.textContent); } }
  new MutationObserver(check).observe(el, { childList: true, characterData: true, subtree: true });
  check();
})`
