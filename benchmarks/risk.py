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
    emit("risk", [case])


if __name__ == "__main__":
    main()
