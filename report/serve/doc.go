// Package serve is the read-only web server of `sweep serve`: every sweep
// of a database as web pages that follow the sweeps while they run.
//
// # Routes
//
// Only GET and HEAD are answered (any other method: 405); nothing changes
// anything. Every route is an exact path; sweeps are named by a query
// parameter and looked up by that exact name in the Source, never mapped
// to a file.
//
//	/                            the index: every sweep, its counts by status, best val_acc and state (as `sweep ls`)
//	/sweep?name=NAME             the sweep's HTML report (package report/html), as `sweep report` writes it
//	/api/sweeps                  {"version", "sweeps": [...]}: the index as `sweep ls --format json` records
//	/api/sweep?name=NAME         the sweep's Status: its version, counts, epochs trained, best val_acc
//	/api/trials?name=NAME[&sort=[-]KEY][&status=S[,S]][&top=K]
//	                             the leaderboard as `sweep leaderboard --format json` writes it
//	/api/trial?name=NAME&trial=N one trial and its per-epoch history (`sweep show --format json`, without the lease's judgement)
//	/static/live.js, /static/serve.css, /favicon.svg, /favicon.ico
//
// A missing sweep or trial is a 404 (an HTML page, or a JSON error under
// /api/); a query parameter that is unknown, repeated, empty, not valid
// UTF-8, too long or of a bad value (a sort key or status that does not
// exist, a trial number that is not a positive integer) is a 400.
//
// # Live pages
//
// A page carries the version of what it shows: a hash of the sweep's
// record and of every trial's status and progress (status, attempts,
// epoch, iteration, rung, metrics, the owner of a running trial), or of
// the index's records. Its script (live.js) polls the page's JSON status
// every Options.Refresh and reloads the page when the version differs.
// Heartbeats and the sweep's accounted wall time do not change a
// version: they would reload pages for nothing.
//
// # Reads and caching
//
// The Server never holds the database: it reads it through the Source,
// whose reads (in cmd/sweep, a results.Store) are short read-only
// transactions under a shared lock, each waiting at most for the write in
// flight (see package results, "Live access"), as `sweep ls` and `sweep
// leaderboard` do while a sweep runs. What it reads is reused for
// Options.TTL (longer for a sweep whose report takes longer than that to
// build: at least its last build time), and concurrent requests for the
// same thing share one read (singleflight): however many browsers watch,
// the store sees about one read of the index and of each watched sweep per
// TTL. A sweep's page is rendered once per version and kept (the latest
// version of each sweep, up to a total size), so reloads after a change
// cost one render; an unchanged page answers If-None-Match with 304.
// A read or render shared by several requests runs under a context that a
// client going away does not cancel.
//
// # Security
//
// Every name and value from the database or the URL reaches a page through
// html/template (report/html escapes its SVG text as well), or a JSON
// encoder. Every response has X-Content-Type-Options: nosniff, a
// Content-Security-Policy and X-Frame-Options: DENY; the policy allows
// scripts from the server itself and, on a report page, the report's one
// inline script by its hash; styles from the server and the report's
// inline style element by its hash; style attributes (its SVG's colours);
// images from the server and data: URIs (its weight tiles); fetches to
// the server only; no frames, forms, plugins or base URI. With
// Options.Loopback, a request whose Host header is not a loopback name or
// address is refused (421): a page of another site cannot read the
// dashboard by rebinding its DNS name to 127.0.0.1.
//
// # Concurrency
//
// A Server is safe for concurrent use; it calls its Source's methods
// concurrently, and never modifies what they return.
package serve
