"""Reference values for hebb's statistics across seeds (tests/statistics.rs),
computed once with SciPy and stored in stats_scipy.json:

    python3 tests/data/stats_scipy.py > tests/data/stats_scipy.json

(SciPy 1.17.1, NumPy 2.x.) Each case holds two paired samples a and b (as
a metric of two variants over the same seeds) and what SciPy says about
them: the mean, sd and t-based 95 % CI of a; and of the differences
a - b the mean, sd, 95 % CI, d_z and the exact two-sided paired
permutation (sign-flip) p-value of their mean.
"""
import json

import numpy as np
from scipy import stats

rng = np.random.default_rng(20261202)
cases = []
for n, effect in [(3, 0.0), (5, 1.0), (6, 0.3), (8, 0.8), (10, 0.0), (10, 1.5), (12, -0.6)]:
    b = rng.normal(3.0, 0.5, n)
    a = b + effect * 0.4 + rng.normal(0.0, 0.4, n)
    d = a - b
    sem = stats.sem(a)
    lo, hi = stats.t.interval(0.95, n - 1, loc=a.mean(), scale=sem)
    dlo, dhi = stats.t.interval(0.95, n - 1, loc=d.mean(), scale=stats.sem(d))
    perm = stats.permutation_test(
        (a, b), lambda x, y: np.mean(x - y), permutation_type="samples",
        alternative="two-sided", n_resamples=np.inf)
    cases.append({
        "a": a.tolist(), "b": b.tolist(),
        "t975": float(stats.t.ppf(0.975, n - 1)),
        "mean": float(a.mean()), "sd": float(a.std(ddof=1)), "ci": [float(lo), float(hi)],
        "diff_mean": float(d.mean()), "diff_sd": float(d.std(ddof=1)), "diff_ci": [float(dlo), float(dhi)],
        "d_z": float(d.mean() / d.std(ddof=1)),
        "p": float(perm.pvalue),
    })
print(json.dumps({"scipy": __import__("scipy").__version__, "cases": cases}, indent=1))
