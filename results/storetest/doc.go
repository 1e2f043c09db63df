// Package storetest is the conformance suite of results.Store: the one set
// of tests that every store (results/boltstore, results/pgstore) runs, so
// that what results.Store documents holds of each, checked alike.
//
// A store's test file calls Run with a Factory that makes its stores:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Factory{New: newConformanceStore})
//	}
//
// and `go test -run Conformance/Leases` runs one group of it. The groups
// are subtests of the caller's test, named by what they check (see Run);
// most have subtests of their own. Every subtest that needs a database
// gets a new, empty one from Factory.New, and checks it (Store.Check) at
// its end.
//
// # What the suite does not assume
//
// The suite holds every store to the results.Store documentation and
// nothing more, so that a store that keeps the contract in its own way
// passes:
//
//   - Times. The now arguments are the caller's clock, which a bbolt file
//     records and PostgreSQL replaces by its own (now()), rebasing the
//     lease times it returns to the caller's clock. So the suite passes
//     time.Now() as now, never asserts that a time it passed was recorded
//     (Started, Finished, Heartbeat, ElapsedAt), only that such times are
//     set, unchanged or ordered; and it makes a lease stale with the stale
//     function given to Claim (func(results.Lease) bool { return true }),
//     never with a fake clock. Lease times read in different calls are
//     compared within leaseSlack, as rebasing moves them by the jitter
//     between the two clocks' readings.
//   - Claim order. The bbolt store takes the lowest-numbered claimable
//     trial; PostgreSQL the lowest-numbered pending or interrupted one
//     (not locked by a concurrent claim), else a stale running one. With
//     one claimer both take pending and interrupted trials lowest number
//     first, which is all the suite asserts; where a stale running trial
//     is numbered below a pending one, it asserts only that each is
//     claimed once.
//   - Bytes of JSON. Config and decision records are compared as JSON
//     values, not byte for byte (a store may keep them in a JSON column);
//     Params are compared exactly, order and value types included, as
//     results.Params documents them. Empty and nil slices are alike.
//   - Error text. Errors are inspected with errors.Is, and their messages
//     only for the identifiers the documentation says they give: the sweep
//     (every error of a store names it), a trial's number, the trials a
//     Heartbeat lost or a Model error lists as kept.
//
// # Known issues
//
// A store that fails a check for a reported bug marks it in
// Factory.KnownIssues, with the issue: the check still runs on every test
// run, logging what it finds, and fails once it finds nothing, so that the
// mark is removed with the bug. Only the Consistency checks, which collect
// their findings, can be marked.
//
// # Ownership and concurrency
//
// Run calls Factory.New, and the function it returns, from the
// goroutine of the subtest; the stores are then used from several
// goroutines at once by the concurrency tests. The stores belong to the
// factory: the suite never closes them, so the factory closes them (and
// drops a database it created) in a t.Cleanup it registers.
//
// Subtests do not call t.Parallel: a store on a shared machine is timed by
// its disk or its server, not its CPU, and the suite takes a few seconds
// on a bbolt file.
package storetest
