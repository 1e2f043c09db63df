// Package tpe is the Tree-structured Parzen Estimator sampler (Bergstra et
// al., NeurIPS 2011) with Optuna 3.1's defaults as the reference
// (optuna.samplers.TPESampler, independent sampling, constant_liar=True):
// it draws new configurations where good trials were.
//
// # Algorithm
//
// While fewer than 10 trials have results (Options.Startup), a new
// configuration is random search's (search.RandomSampler). Then the n
// trials with results are ranked best first: done trials by their final
// value; paused and pruned trials after them, the more epochs (or
// iterations) the better, then by their value at their last evaluation;
// diverged trials, and trials with no evaluation, last; ties by trial
// number. The best gamma(n) = min(ceil(0.1·n), 25) are "below", the rest
// "above". Running, pending and interrupted trials have no result yet:
// the constant liar puts them above, as if they had the worst value
// (without counting them in n), so that workers asking at the same time
// are steered away from the points already in flight rather than onto
// them. Failed trials (an error, not a result) are ignored.
//
// For each searched parameter on its own, Parzen estimators l (of below)
// and g (of above) are mixtures with one kernel per trial plus a prior
// kernel (weight 1; trial weights 1, ramped down linearly for the oldest
// when there are more than 25), as Optuna 3.1 builds them:
//
//   - uniform: truncated normal kernels on [min, max], each with the
//     distance to its farther neighbour as its width, clipped to
//     [(max-min)/min(100, 1+kernels), max-min]; the prior at the middle with
//     width max-min;
//   - log_uniform: the same in log space;
//   - int_uniform, and ranges with steps: the same on the values' indices
//     0 .. Len-1 (widened by 1/2 at both ends), each kernel giving an index
//     the mass of [k-1/2, k+1/2];
//   - lists (categorical): each kernel puts 1 on its trial's value plus
//     1/(kernels) spread evenly, normalised; the prior is uniform.
//
// 24 candidates (Options.Candidates) are drawn from l, and the one with the
// largest l(x)/g(x), the first on ties, is the parameter's value. Floats
// are rounded as random search's are (6 significant digits, inside the
// range), so they print and store exactly.
//
// # Determinism
//
// A configuration is a function of the history, the spec and (sweep seed,
// trial number, attempt): each parameter's draws come from a ChaCha8
// stream seeded with a SHA-256 of them and the parameter's name, with no
// global randomness. Floating-point results are the same on one
// architecture; on another, a fused multiply-add may move a draw by an ulp.
//
// # Concurrency
//
// A Sampler is immutable once made and safe for concurrent use; Sample
// reads the history and never modifies it.
package tpe
