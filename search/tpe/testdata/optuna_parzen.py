#!/usr/bin/python3
"""Reference densities for TestParzenOptuna (search/tpe/tpe_internal_test.go).

Run once with Debian's python3-optuna 3.1.0 (apt-get install python3-optuna):

    /usr/bin/python3 search/tpe/testdata/optuna_parzen.py

It builds Optuna's own _ParzenEstimator, with TPESampler's defaults
(consider_prior, prior_weight 1.0, consider_magic_clip, no endpoints,
default_weights, univariate), from the below and above observations of the
test's tiny history, and prints log l(x) and log g(x) at the test points as Go
table rows, which the test pastes. The split itself (which trials are below)
is computed by hand in the test, not here.

Optuna 3.1 to 3.4 leave -log(sigma) out of a continuous kernel's log density
(_truncnorm.logpdf), so their continuous densities are wrong unless all
kernels have one width; Optuna 3.5 fixed it (commit 206e71923, "Fix logpdf for
scaled truncnorm"). This script applies that one-line fix before computing,
as our estimator follows the fixed density. Discrete (int) and categorical
densities do not use logpdf and are Optuna 3.1's as shipped.
"""
import numpy as np
import optuna
from optuna import distributions as d
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import default_weights

assert optuna.__version__ == "3.1.0", optuna.__version__

from optuna.samplers._tpe import _truncnorm
_unscaled_logpdf = _truncnorm.logpdf


def _fixed_logpdf(x, a, b, loc=0, scale=1):  # Optuna 3.5's
    return _unscaled_logpdf(x, a, b, loc, scale) - np.log(scale)


_truncnorm.logpdf = _fixed_logpdf

params = _ParzenEstimatorParameters(True, 1.0, True, False, default_weights, False)

# Trial values in trial-number order; see history() in the test.
lr = {1: 1e-3, 2: 3e-4, 3: 2e-3, 4: 5e-3, 5: 1e-5, 6: 9e-2, 8: 1.5e-3, 9: 1.2e-3, 10: 8e-4,
      11: 2e-5, 12: 4e-3, 13: 6e-4, 14: 2.5e-3, 15: 7e-5, 16: 3e-3}
decay = {1: 0.9, 2: 0.8, 3: 0.95, 4: 0.7, 5: 0.5, 6: 0.99, 8: 0.92, 9: 0.93, 10: 0.85,
         11: 0.55, 12: 0.75, 13: 0.88, 14: 0.9, 15: 0.65, 16: 0.97}
batch = {1: 200, 2: 100, 3: 250, 4: 300, 5: 50, 6: 400, 8: 210, 9: 180, 10: 220,
         11: 60, 12: 350, 13: 150, 14: 260, 15: 90, 16: 230}
hidden = {1: 1, 2: 0, 3: 2, 4: 1, 5: 0, 6: 2, 8: 1, 9: 1, 10: 2,
          11: 0, 12: 2, 13: 0, 14: 1, 15: 2, 16: 0}  # index into [[50], [100], [200]]

below = [1, 9]
above = [2, 3, 4, 5, 6, 8, 10, 11, 12, 13, 14, 15, 16]

spaces = {
    "learning_rate": (d.FloatDistribution(1e-5, 1e-1, log=True), lr, [1e-5, 1e-4, 1.1e-3, 3e-3, 0.1]),
    "lr_decay": (d.FloatDistribution(0.5, 1.0), decay, [0.5, 0.7, 0.91, 1.0]),
    "batch_size": (d.IntDistribution(50, 400), batch, [50, 190, 200, 333, 400]),
    "hidden": (d.CategoricalDistribution([0, 1, 2]), hidden, [0, 1, 2]),
}

for name, (dist, values, xs) in spaces.items():
    rows = []
    for which in (below, above):
        obs = np.array([dist.to_internal_repr(values[t]) if name != "hidden" else values[t] for t in which], dtype=float)
        pe = _ParzenEstimator({name: obs}, {name: dist}, params)
        rows.append(pe.log_pdf({name: np.array(xs, dtype=float if name != "hidden" else int)}))
    for x, lb, la in zip(xs, rows[0], rows[1]):
        print(f'\t\t{{"{name}", {x!r}, {lb!r}, {la!r}}},')
