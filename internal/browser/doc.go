// Package browser is a test harness over a real browser: the system's
// Chromium, headless, driven through the DevTools protocol by chromedp.
// Tests use it to open a page (a report file, a served page), and check
// what a person would see: no console errors or uncaught exceptions, no
// request leaving the page's own origin, the elements drawn, what a click
// does; and to write a screenshot for people to look at.
//
// # Finding the browser
//
// Start runs $SWEEP_CHROMIUM when it is set, else the first of chromium,
// chromium-browser, google-chrome-stable and google-chrome found on PATH
// (Debian's package chromium installs /usr/bin/chromium; .ci/run installs
// it). Without one, the test FAILS with a message saying what to install:
// the project runs no skipped tests in CI. A developer without a browser
// sets SWEEP_NO_BROWSER=1, and the browser tests skip; CI never sets it.
//
// The browser runs headless, without sandbox (tests run as root in CI's
// containers), GPU, QUIC, first-run dialogs, background networking,
// component updates or sync: on a machine without a network, Chromium's own
// background connections are refused and would otherwise be noise. Each
// Start has its own new, empty user-data directory (made by chromedp,
// removed when the browser has exited, with any process it left behind
// killed first). Launch starts the same browser outside a test: the
// command internal/browser/screenshot (make screenshot) uses it.
//
// # What a Tab records
//
// From the moment the tab exists, a Tab records every console call, every
// uncaught exception and every entry of the browser's log (Messages,
// Problems), and the URL of every request the page makes (Requests,
// RequestsOutside). Events are recorded on chromedp's reading goroutine, in
// the order the browser sent them; the accessors first make a round trip to
// the page, so they include everything the page did before they were
// called.
//
// # Ownership and concurrency
//
// A Tab belongs to the test that started it, and is closed at the test's
// cleanup (the browser is asked to close, then waited for). Its methods fail
// the test (t.Fatalf) on any error of the browser or the protocol, and each
// gives up after a timeout (Timeout) rather than hang the test binary. A Tab
// is not safe for concurrent use: one goroutine drives it, as a person
// drives one tab. Tests that want parallel tabs Start one each.
package browser
