"""Stat-arb speed: pair scan vs statsmodels, hold logic + two-leg P&L per bar, and a 10x10 sweep.

* scan: 100 names x 750 days (4,950 pairs) batched Engle-Granger vs
  ``statsmodels.tsa.stattools.coint(..., maxlag=1, autolag=None)`` in a loop; statsmodels
  is timed on a 250-pair subset and scaled to 4,950 (stated in the case name); p-values
  are checked to agree to 1e-3 on the subset;
* hold logic + P&L: ns per bar on 100,000 bars against a plain-Python loop of the
  same rules (the notebook's style);
* sweep: a 10 x 10 entry/exit grid on 100,000 bars, wall time.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import compare, emit
from astra.data.providers.synthetic import factor_panel
from astra.statarb._fast import fused_pnl
from astra.statarb.backtest import backtest
from astra.statarb.scan import scan
from astra.statarb.signals import SignalRules, hold_positions, session_positions
from astra.statarb.sweep import sweep

SUBSET = 250


def scan_case() -> dict:
    data = factor_panel([f"S{i:03d}" for i in range(100)], "2020-01-01", "2022-12-30", n_factors=8, seed=3)
    prices = data.prices.iloc[:750]
    from statsmodels.tsa.stattools import coint

    logs = np.log(prices)
    pairs = list(itertools.combinations(prices.columns, 2))
    subset = pairs[:SUBSET]
    ours = scan(prices, fdr=0.05).table.set_index(["y", "x"])
    worst = max(
        abs(coint(logs[a], logs[b], maxlag=1, autolag=None)[1] - ours.loc[(a, b), "p_value"]) for a, b in subset[:50]
    )
    assert worst < 1e-3, worst

    def baseline():
        for a, b in subset:
            coint(logs[a], logs[b], maxlag=1, autolag=None)

    case = compare(
        f"Engle-Granger scan (statsmodels timed on {SUBSET} pairs, scaled x{len(pairs) / SUBSET:.1f})",
        f"100 names, {len(pairs)} pairs, 750 days",
        lambda: scan(prices),
        baseline,
        "statsmodels coint in a loop",
        target_ratio=100.0,
        repeats=3,
    )
    scale = len(pairs) / SUBSET
    case["baseline_s"] *= scale
    case["ratio"] *= scale
    case["ok"] = case["ratio"] >= case["target_ratio"]
    case["max_pvalue_difference"] = worst
    return case


def python_hold(z, entry, exit_, stop):
    out = np.zeros(len(z), dtype=np.int8)
    pos = 0
    for t, zt in enumerate(z):
        if pos != 0 and ((pos == 1 and zt >= -exit_) or (pos == -1 and zt <= exit_) or abs(zt) >= stop):
            pos = 0
        if pos == 0 and abs(zt) < stop:
            pos = -1 if zt > entry else (1 if zt < -entry else 0)
        out[t] = pos
    return out


def python_pnl(py, px, beta, signal):
    pnl = np.zeros(len(py))
    qy = qx = 0.0
    for t in range(1, len(py)):
        pnl[t] = qy * (py[t] - py[t - 1]) + qx * (px[t] - px[t - 1])
        s = signal[t - 1]
        qy, qx = s * 1.0, -s * beta[t - 1]
    return pnl


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def notebook_kalman(frame: pd.DataFrame, delta: float = 1e-4, r: float = 1e-3) -> np.ndarray:
    """The notebook's 2-state filter: a pandas row loop with numpy matrices (its P0 = 0 kept)."""
    state = np.zeros(2)
    cov = np.zeros((2, 2))
    q = delta / (1 - delta) * np.eye(2)
    betas = []
    for _, row in frame.iterrows():
        h = np.array([1.0, row["x"]])
        cov = cov + q
        s = h @ cov @ h + r
        k = cov @ h / s
        state = state + k * (row["y"] - h @ state)
        cov = cov - np.outer(k, h) @ cov
        betas.append(state[1])
    return np.array(betas)


def kalman_cases() -> list[dict]:
    n = 100_000
    rng = np.random.default_rng(1)
    x = 50 + np.cumsum(rng.normal(0, 0.05, n))
    y = 3 + 1.2 * x + rng.normal(0, 0.2, n)
    from astra.statarb import _kernels

    buffers = [np.empty(n) for _ in range(4)]

    def ours():  # steady state, as inside the MLE search: output buffers reused
        _kernels.kalman2_into(y, x, 1e-6, 1e-6, 0.0, 1.0, 10.0, 0.0, 1.0, *buffers)

    subset = 5_000
    frame = pd.DataFrame({"x": x[:subset], "y": y[:subset]})
    case = compare(
        f"2-state Kalman filter, per step (notebook timed on {subset} bars, scaled x{n // subset})",
        f"{n} bars",
        ours,
        lambda: notebook_kalman(frame),
        "notebook: pandas iterrows loop with numpy matrices",
        target_ratio=2000.0,
        repeats=3,
    )
    case["baseline_s"] *= n / subset
    case["ratio"] *= n / subset
    case["ok"] = case["ratio"] >= case["target_ratio"]
    case["ours_ns_per_step"] = case["ours_s"] / n * 1e9
    fresh = sorted(timed(lambda: _kernels.kalman2(y, x, 1e-6, 1e-6, 0.0, 1.0, 10.0, 0.0, 1.0)) for _ in range(7))[3]
    case["ns_per_step_with_fresh_output_arrays"] = fresh / n * 1e9
    cases = [case]

    pairs, bars = 1_000, 10_000
    ys = np.tile(y[:bars, None], (1, pairs)) + rng.normal(0, 0.01, (bars, pairs))
    xs = np.tile(x[:bars, None], (1, pairs))
    from astra.statarb import kalman_batch

    kalman_batch(ys[:200, :64], xs[:200, :64])  # compile
    fresh_runs, reused_runs = [], []
    buffers = {key: np.empty(ys.shape) for key in ("alpha", "beta", "zscore")}
    for _ in range(3):
        fresh_runs.append(timed(lambda: kalman_batch(ys, xs, q_beta=1e-6)))
        reused_runs.append(timed(lambda: kalman_batch(ys, xs, q_beta=1e-6, out=buffers, keep_alpha=False)))
    batch = sorted(reused_runs)[1]
    fresh_batch = sorted(fresh_runs)[1]
    cases.append(
        {
            "name": "2-state filter, batch over pairs (incl. priors; β and z into reused buffers)",
            "size": f"{pairs} pairs x {bars} bars",
            "ours_s": batch,
            "ns_per_pair_step": batch / (pairs * bars) * 1e9,
            "ns_per_pair_step_with_fresh_outputs": fresh_batch / (pairs * bars) * 1e9,
            "target_ns_per_pair_step": 3.0,
            "ok": batch / (pairs * bars) * 1e9 <= 3.0,
        }
    )

    from astra.statarb import fit_kalman

    spread = np.zeros(n)
    for t in range(1, n):
        spread[t] = 0.98 * spread[t - 1] + rng.normal(0, 0.05)
    y3 = 2 + 0.8 * x + spread
    fit_kalman(y3[:2_000], x[:2_000], model="kalman3")  # compile
    start = time.perf_counter()
    fitted = fit_kalman(y3, x, model="kalman3")
    fit_s = time.perf_counter() - start
    cases.append(
        {
            "name": "3-state MLE fit (profile over half-lives + joint polish)",
            "size": f"{n} bars",
            "ours_s": fit_s,
            "target_s": 1.0,
            "ok": fit_s <= 1.0,
            "fitted_phi": fitted.params["phi"],
            "true_phi": 0.98,
        }
    )
    return cases


def main() -> None:
    cases = [scan_case(), *kalman_cases()]
    n = 100_000
    rng = np.random.default_rng(0)
    index = pd.date_range("2026-01-02 09:31", periods=n, freq="min")
    px = 50 + np.cumsum(rng.normal(0, 0.02, n))
    spread = np.zeros(n)
    for t in range(1, n):
        spread[t] = 0.98 * spread[t - 1] + rng.normal(0, 0.05)
    py = 2 * px + 20 + spread
    y, x = pd.Series(py, index=index), pd.Series(px, index=index)
    z = spread / spread.std()
    beta = np.full(n, 2.0)
    rules = SignalRules(entry=2, exit=0.5, stop=4, warmup=0)

    bar_in, left = session_positions(index)

    def ours():
        fused_pnl(z, py, px, beta, bar_in, left, 2.0, 0.5, 4.0, 0, 0, 0, False, 1e6, 1e-4, False)

    def baseline():
        python_pnl(py, px, beta, python_hold(z, 2, 0.5, 4))

    case = compare("hold logic + two-leg P&L", f"{n} bars", ours, baseline, "plain-Python loop", target_ratio=10.0)
    case["ours_ns_per_bar"] = case["ours_s"] / n * 1e9
    cases.append(case)

    entries, exits = np.linspace(1.5, 3.75, 10), np.linspace(0.0, 1.35, 10)
    grid_rules = SignalRules(entry=2, exit=0.5, stop=6, warmup=0)
    sweep(y, x, beta, z, entries, exits, grid_rules)  # compile
    times = []
    for _ in range(3):
        start = time.perf_counter()
        sweep(y, x, beta, z, entries, exits, grid_rules)
        times.append(time.perf_counter() - start)
    wall = sorted(times)[1]
    # the full pandas back-test (trade list, funding, frames) for one cell, for scale
    full = compare("full back-test with reports (one cell)", f"{n} bars", lambda: backtest(y, x, beta,
                   hold_positions(z, rules)), baseline, "plain-Python loop", target_ratio=1.0)  # fmt: skip
    cases.append(full)
    emit("statarb", cases, sweep={"grid": "10 x 10", "bars": n, "wall_s": wall, "target_s": 0.1, "ok": wall < 0.1})


if __name__ == "__main__":
    main()
