// Package asha schedules adaptive sweeps: ASHA, asynchronous successive
// halving with promotions (Li et al., "A System for Massively Parallel
// Hyperparameter Tuning", MLSys 2020), and Hyperband as brackets of it.
//
// # ASHA
//
// A bracket is a ladder of rungs at min·eta^k epochs (or iterations) up to
// the maximum, where trials finish (search.Rungs). A trial starts at the
// first rung; when it reaches a rung below the last, it pauses with its
// checkpoint. A worker asking for work gets, in this order:
//
//  1. a promotion: scanning rungs from the highest down, the best paused
//     trial that is in the top k = floor(n/eta) of the n trials that have
//     reached its rung and was not promoted from it yet. Trials rank by
//     their value at the rung (the latest evaluation at or before the
//     rung's resource), best first, NaN last, ties by trial number;
//  2. else a new configuration, drawn by the sampler (random or TPE), while
//     the sweep has fewer than Config.Trials trials (or always, when
//     Trials is 0: a budget ends the sweep);
//  3. else nothing: Wait while trials are in flight, else Finished.
//
// A promoted trial goes on from its checkpoint; its Config keeps the full
// length, so a trial trained to the maximum through promotions is the
// trial trained straight through.
//
// Draining: the paper's ASHA draws configurations forever. A sweep with a
// trial limit stops drawing, and a rung with fewer than eta trials would
// keep its best paused for good: a sweep of 4 trials with eta = 3 would end
// with no trial trained to the end. So when no trial is in flight, no new
// one may start (the rungs can no longer change) and step 1 finds nothing,
// the rungs are consulted again from the lowest up, each promoting from its
// top max(1, floor(n/eta)): the best trial climbs to the maximum, and a
// rung's best is promoted only once the rungs below have fed it. Reports
// mark a k raised so with Drain.
//
// End of sweep: when Next says Finished, or the budget runs out, End
// returns a Prune for every paused trial, with its rank at its rung.
//
// # Hyperband
//
// NewHyperband runs search.Brackets(min, max, eta) ladders at once; bracket
// b starts trials at min·eta^b (bracket 0 is ASHA's, the most aggressive).
// A new trial's bracket is a pure function of (sweep seed, trial number),
// drawn with Optuna's HyperbandPruner weights, ceil(B·eta^s/(s+1)) for
// bracket b = B-1-s, so a resumed sweep keeps its brackets. Promotions scan
// every bracket's rungs, the highest resource first, then the lower
// bracket.
//
// # Decisions and reproducibility
//
// Every decision (search.Decision) carries a search.Reason: a line for
// people and, per rung consulted, the counts and values it was made from
// (n, k, best, cut-off, the rank of the trial decided on), for the store to
// record with the trial.
//
// A Scheduler keeps no state: Next and End are pure functions of the spec,
// the Config, the sampler and the history. With one worker, the history
// after each decision is a function of the spec alone, so the whole sweep
// is reproducible, after a crash too. With several workers, which trial
// reaches a rung first depends on timing, and so may which trials are
// promoted; each trial's curve is still a function of its config and seed.
//
// # Concurrency
//
// A Scheduler is immutable once made and safe for concurrent use. Next and
// End read the history and never modify it.
package asha
