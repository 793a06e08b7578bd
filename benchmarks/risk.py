"""Monte-Carlo VaR at 10^6 scenarios: chunked, factored engine vs a naive full-matrix simulation.

Both draw one-day normal scenarios from the same factor of Σ (100 names, 1,000 days of
history) and take the 99 % quantile of P&L. The naive baseline, the notebook's approach
scaled up, materialises the (10^6 x 100) scenario matrix; ours evaluates P&L chunk by chunk
(and keeps the tail for Euler components). Each case runs in a fresh process so its peak
resident memory is its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import numpy as np
import pandas as pd

from _common import emit

CASE = """
import json, resource, sys, time
import numpy as np
from astra.risk import returns_factor, var
case, scenarios, names = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
history = rng.normal(0, 0.01, (1000, names)) @ (np.eye(names) + 0.02)
exposures = rng.normal(0, 1e5, names)
start = time.perf_counter()
if case == "ours":
    value = var(exposures, history, method="mc", scenarios=scenarios, seed=0).var
else:
    factor, _ = returns_factor(history)
    draws = np.random.default_rng(0).standard_normal((scenarios, factor.shape[1])) @ factor.T
    value = -np.quantile(draws @ exposures, 0.01, method="inverted_cdf")
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"s": elapsed, "peak_rss_mib": peak, "var": float(value)}))
"""


def run(case: str, scenarios: int, names: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CASE, case, str(scenarios), str(names)], capture_output=True,
                         text=True, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def seed_loop(cov: np.ndarray, exposures: np.ndarray, paths: int, horizon: int, rng) -> np.ndarray:
    """The notebook's Monte Carlo: a Python loop over paths and days with a Cholesky factor."""
    chol = np.linalg.cholesky(cov)
    pnl = np.empty(paths)
    for i in range(paths):
        growth = np.ones(len(exposures))
        for _ in range(horizon):
            growth *= 1.0 + chol @ rng.standard_normal(len(exposures))
        pnl[i] = exposures @ (growth - 1.0)
    return pnl


def seed_loop_mvn(mean: np.ndarray, cov: np.ndarray, exposures: np.ndarray, paths: int, horizon: int, rng):
    """The loop as notebooks usually write it: ``multivariate_normal(method="cholesky")`` per path
    (a Cholesky factor of Σ computed every call, which fails when names outnumber observations)."""
    pnl = np.empty(paths)
    for i in range(paths):
        daily = rng.multivariate_normal(mean, cov, size=horizon, method="cholesky")
        pnl[i] = exposures @ (np.prod(1.0 + daily, axis=0) - 1.0)
    return pnl


def mc_speed_case(names: int, target: float) -> dict:
    """Scenarios per second of a 10-day 99 % MC VaR: ours vs the notebook's loop, same Σ, same run."""
    from astra.risk import var

    rng = np.random.default_rng(names)
    history = pd.DataFrame(rng.normal(0, 0.01, (1_500, names)) @ (np.eye(names) + 0.01))
    exposures = rng.normal(0, 1e5, names)
    cov = history.cov().to_numpy()
    ours_n, loop_n = 200_000, 2_000
    ours_s = min(timed(lambda: var(exposures, history, method="mc", horizon=10, scenarios=ours_n, seed=1,
                                   components=False)) for _ in range(3))  # fmt: skip
    loop_s = min(timed(lambda: seed_loop(cov, exposures, loop_n, 10, np.random.default_rng(1))) for _ in range(2))
    lognormal_s = min(timed(lambda: var(exposures, history, method="mc", horizon=10, scenarios=ours_n, seed=1,
                                        components=False, paths="lognormal")) for _ in range(3))  # fmt: skip
    ours_rate, loop_rate = ours_n / ours_s, loop_n / loop_s
    mvn_n = 200 if names <= 100 else 20
    mean = history.mean().to_numpy()
    mvn_s = min(timed(lambda: seed_loop_mvn(mean, cov, exposures, mvn_n, 10, np.random.default_rng(1)))
                for _ in range(2))  # fmt: skip
    return {
        "name": "10-day 99 % MC VaR, scenarios per second", "size": f"{names} names",
        "ours_s": ours_s, "baseline": f"notebook loop ({loop_n} paths, Cholesky, per path and day)",
        "baseline_s": loop_s, "ours_scenarios_per_s": ours_rate, "baseline_scenarios_per_s": loop_rate,
        "ratio": ours_rate / loop_rate, "target_ratio": target, "ok": ours_rate / loop_rate >= target,
        "second_baseline": "loop with rng.multivariate_normal(method=cholesky) per path",
        "second_baseline_scenarios_per_s": mvn_n / mvn_s, "ratio_to_second_baseline": ours_rate / (mvn_n / mvn_s),
        "lognormal_paths_scenarios_per_s": ours_n / lognormal_s,
        "lognormal_ratio": ours_n / lognormal_s / loop_rate,
        "lognormal_ratio_to_second_baseline": ours_n / lognormal_s / (mvn_n / mvn_s),
    }  # fmt: skip


def closed_form_case() -> dict:
    from astra.risk import var

    rng = np.random.default_rng(5)
    history = pd.DataFrame(rng.normal(0, 0.01, (2_000, 500)))
    exposures = rng.normal(0, 1e5, 500)
    hist_s = min(timed(lambda: var(exposures, history, method="hist")) for _ in range(3))
    param_s = min(timed(lambda: var(exposures, history, method="param")) for _ in range(3))
    return {"name": "historical and parametric VaR with components", "size": "2000 days x 500 names",
            "hist_s": hist_s, "param_s": param_s, "target_s": 1.0, "ok": max(hist_s, param_s) < 1.0}  # fmt: skip


def timed(fn) -> float:
    import time

    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    scenarios, names = 1_000_000, 100
    ours = [run("ours", scenarios, names) for _ in range(3)]
    naive = [run("naive", scenarios, names) for _ in range(3)]
    ours_s = sorted(r["s"] for r in ours)[1]
    naive_s = sorted(r["s"] for r in naive)[1]
    case = {
        "name": "Monte-Carlo VaR 99 %, one day, normal, with Euler components (ours)",
        "size": f"{scenarios} scenarios x {names} names",
        "ours_s": ours_s,
        "baseline": "naive numpy: full scenario matrix, then quantile",
        "baseline_s": naive_s,
        "ratio": naive_s / ours_s,
        "target_ratio": 1.0,
        "ok": naive_s / ours_s >= 1.0,
        "ours_peak_rss_mib": max(r["peak_rss_mib"] for r in ours),
        "baseline_peak_rss_mib": max(r["peak_rss_mib"] for r in naive),
        "var_ours": ours[0]["var"],
        "var_baseline": naive[0]["var"],
    }
    big = run("ours", scenarios, 500)
    memory = {"case": "10^6 scenarios x 500 names, one day, with components", "s": big["s"],
              "peak_rss_mib": big["peak_rss_mib"], "target_peak_rss_mib": 2048,
              "ok": big["peak_rss_mib"] < 2048}  # fmt: skip
    emit("risk", [case, mc_speed_case(100, 200.0), mc_speed_case(500, 1000.0)], closed_forms=closed_form_case(),
         memory=memory)  # fmt: skip


if __name__ == "__main__":
    main()
