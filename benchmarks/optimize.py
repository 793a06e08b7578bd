"""Long/short optimiser at 1,000 and 5,000 names against the notebook's dense formulation.

Problem (issue 5): seeded synthetic 8-factor panel, N names × ~750 days; maximise
``μᵀw − (γ/2)σ²(w)`` with gross ≤ 2, |net| ≤ 5 %, |w| ≤ 5 %.

* ours: PCA factor model (k = 8) in factored form, compiled once with parameters;
* baseline: the notebook's formulation, a dense ``cp.quad_form`` on the sample
  covariance with cvxpy's default solver, built and solved cold;
* re-solve: our compiled problem after changing γ and the net band, vs our cold solve;
* accuracy: our objective vs a tight Clarabel solve (tolerances 1e-10) of the same problem;
* 5,000 names: cold solve time and the peak resident memory of a fresh process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import cvxpy as cp
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import compare, emit
from astra.data import returns
from astra.data.providers.synthetic import factor_panel
from astra.optimize import Costs, Limits, Problem, compile_problem, risk_model, solve, violations

GAMMA = 5.0


def panel(n: int):
    data = factor_panel([f"S{i:04d}" for i in range(n)], "2020-01-01", "2022-12-30", n_factors=8, seed=1)
    rets = returns(data.prices).dropna()
    mu = np.random.default_rng(2).normal(0.05, 0.10, n)
    return rets, mu


def our_problem(model, mu) -> Problem:
    limits = Limits(gross=2.0, net=(-0.05, 0.05), lower=-0.05, upper=0.05)
    return Problem("meanvar", model, mu, limits, Costs(tc_bps=0.0), gamma=GAMMA)


def seed_solve(sigma: np.ndarray, mu: np.ndarray) -> float:
    n = len(mu)
    w = cp.Variable(n)
    objective = cp.Maximize(mu @ w - GAMMA / 2 * cp.quad_form(w, 252 * sigma))
    constraints = [cp.norm1(w) <= 2, cp.abs(cp.sum(w)) <= 0.05, cp.abs(w) <= 0.05]
    problem = cp.Problem(objective, constraints)
    problem.solve()
    return problem.value


def memory_case(n: int) -> dict:
    """Run the cold solve for ``n`` names in a fresh process; report its time and peak RSS."""
    code = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import optimize as b
from _common import peak_rss_mib
rets, mu = b.panel(int(sys.argv[2]))
model = b.risk_model(rets, "factor", factors=8)
start = time.perf_counter()
result = b.solve(b.our_problem(model, mu))
elapsed = time.perf_counter() - start
print(json.dumps({"solve_s": elapsed, "peak_rss_mib": peak_rss_mib(), "status": result.status,
                  "max_violation": result.max_violation}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), str(n)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    cases = []
    rets, mu = panel(1_000)
    model = risk_model(rets, "factor", factors=8)
    sigma = rets.cov().to_numpy()
    problem = our_problem(model, mu)
    cases.append(
        compare(
            "meanvar cold solve (build + solve)",
            f"1000 names x {len(rets)} days",
            lambda: solve(problem),
            lambda: seed_solve(sigma, mu),
            "notebook: dense cp.quad_form on the sample covariance, default solver",
            target_ratio=40.0,
            repeats=3,
        )
    )

    compiled = compile_problem(problem)
    solve(compiled)
    state = {"flip": False}

    def resolve():
        state["flip"] = not state["flip"]
        compiled.gamma.value = 4.0 if state["flip"] else 6.0
        compiled.net_hi.value = 0.04 if state["flip"] else 0.06
        solve(compiled)

    cases.append(
        compare(
            "meanvar re-solve after changing gamma and the net band",
            "1000 names",
            resolve,
            lambda: solve(problem),
            "our own cold solve",
            target_ratio=3.0,
            repeats=5,
        )
    )

    # Accuracy against a tight reference solve of the same factored problem.
    ours = solve(problem)
    reference = compile_problem(problem)
    reference.program.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10, max_iter=500)
    reference_objective = reference.program.value * reference.scale  # the program solves the objective ÷ γ
    accuracy = {
        "objective": ours.objective,
        "reference_objective": reference_objective,
        "relative_error": abs(ours.objective - reference_objective) / abs(reference_objective),
        "max_violation": max(violations(problem, ours.weights).values()),
        "target_relative_error": 1e-6,
        "target_violation": 1e-7,
    }
    # and of a re-solve (the cached affine path) at γ = 4, net ≤ 4 %, against a fresh tight solve there
    compiled.gamma.value, compiled.net_hi.value = 4.0, 0.04
    again = solve(compiled)
    moved = compile_problem(problem)
    moved.gamma.value, moved.net_hi.value = 4.0, 0.04
    moved.program.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10, max_iter=500)
    moved_objective = moved.program.value * moved.scale
    accuracy["resolve_relative_error"] = abs(again.objective - moved_objective) / abs(moved_objective)
    accuracy["resolve_max_violation"] = again.max_violation
    accuracy["ok"] = (max(accuracy["relative_error"], accuracy["resolve_relative_error"]) <= 1e-6
                      and max(accuracy["max_violation"], again.max_violation) <= 1e-7)  # fmt: skip

    start = time.perf_counter()
    big = memory_case(5_000)
    big["wall_s"] = time.perf_counter() - start
    big["target_peak_rss_mib"] = 2048
    big["ok"] = big["peak_rss_mib"] < 2048 and big["status"] == "optimal"
    emit("optimize", cases, accuracy=accuracy, large=big)


if __name__ == "__main__":
    main()
