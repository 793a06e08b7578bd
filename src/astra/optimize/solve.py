"""Solve, check, explain: solver fallback, independent constraint checks, infeasibility diagnosis.

Every returned solution is re-checked in numpy, independently of cvxpy, against
each limit (violation ≤ 1e-7 of equity after clean-up, else the next solver,
else :class:`~astra.errors.SolverError`). An infeasible problem is diagnosed by
dropping constraint groups until it becomes feasible, and the error names the
groups that conflict.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from dataclasses import dataclass, replace
from typing import Any

import cvxpy as cp
import numpy as np

from astra.errors import Infeasible, InputError, SolverError
from astra.funding.model import carry_of_values
from astra.optimize.problems import Compiled, Problem, compile_problem

__all__ = ["SOLVERS", "OptimizeResult", "binding", "frontier", "solve", "violations"]

SOLVERS = ("PIQP", "CLARABEL", "SCS")  # PIQP: fastest on the QP form; Clarabel: cones (maxret, impact)
TOLERANCE = 1e-7
# Tighter than PIQP's defaults (1e-8 / 1e-9): objectives within ~1e-11 of a 1e-10 Clarabel solve and
# weights within ~3e-6 (defaults: ~4e-5), at about one extra iteration. A re-solve keeps the
# preconditioner, valid because only linear terms and bounds change (γ enters as τ = γ₀/γ, see
# problems.RiskAversion).
SOLVER_OPTIONS = {"PIQP": {"eps_abs": 1e-10, "eps_rel": 1e-11, "preconditioner_reuse_on_update": True}}
_INFEASIBLE = (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE)


def violations(p: Problem, w: np.ndarray) -> dict[str, float]:
    """Largest violation of each limit by weights ``w`` (0 when satisfied), in the limit's units."""
    return {limit.name: limit.violation(w) for limit in p.limit_set}


def binding(p: Problem, w: np.ndarray, tol: float = 1e-6) -> tuple[str, ...]:
    """The limits active at ``w`` (within ``tol``), as the result reports them."""
    return tuple(label for limit in p.limit_set if (label := limit.binding(w, tol)) is not None)


@dataclass(frozen=True)
class OptimizeResult:
    """An optimal book: weights (of equity), exposures, risk, return, carry, costs, binding limits."""

    status: str
    solver: str
    solve_ms: float
    tickers: tuple[str, ...]
    weights: np.ndarray
    gross: float
    net: float
    volatility_ann: float
    expected_return_ann: float
    carry_ann: float
    trading_cost: float
    turnover: float
    binding: tuple[str, ...]
    duals: dict[str, float]
    objective: float
    max_violation: float
    equity: float
    gamma: float
    tc_bps: float
    trading_cost_basis: str

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(
            {"weight": self.weights, "value": self.weights * self.equity}, index=pd.Index(self.tickers, name="ticker")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "solver": self.solver,
            "solve_ms": self.solve_ms,
            "weights": dict(zip(self.tickers, map(float, self.weights), strict=True)),
            "gross": self.gross,
            "net": self.net,
            "volatility_ann": self.volatility_ann,
            "expected_return_ann": self.expected_return_ann,
            "carry_ann": self.carry_ann,
            "carry_ann_usd": self.carry_ann * self.equity,
            "trading_cost": self.trading_cost,
            "tc_bps": self.tc_bps,
            "trading_cost_basis": self.trading_cost_basis,
            "turnover": self.turnover,
            "binding": list(self.binding),
            "duals": dict(self.duals),
            "objective": self.objective,
            "max_violation": self.max_violation,
            "equity": self.equity,
            "gamma": self.gamma,
        }


def _duals(compiled: Compiled) -> dict[str, float]:
    out = {}
    for name, constraints in compiled.groups.items():
        for i, con in enumerate(constraints):
            value = con.dual_value
            if value is not None and np.size(value) == 1:
                key = name if len(constraints) == 1 else f"{name} {('lower', 'upper')[i] if i < 2 else i}"
                out[key] = float(np.asarray(value).ravel()[0]) * compiled.scale
    return out


def _explain(p: Problem, groups: list[str]) -> str:
    """Names of the smallest set of constraint groups whose removal makes ``p`` feasible."""
    for size in (1, 2):
        found = []
        for combo in itertools.combinations(groups, size):
            trial = compile_problem(p, drop=combo, feasibility=True)
            try:
                trial.program.solve(solver="CLARABEL")
            except cp.error.SolverError:
                continue
            if trial.program.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
                found.append(combo)
        if found:
            what = " or ".join(" + ".join(f"'{name}'" for name in combo) for combo in found)
            return f"the limits conflict: relaxing {what} makes the problem feasible"
    return "no single constraint group or pair explains it; loosen several limits"


def _clean(compiled: Compiled) -> np.ndarray:
    w = compiled.weights
    w[np.abs(w) < 1e-12] = 0.0
    return compiled.problem.bounds.clip(w)


class _AffineResolver:
    """Re-solve a compiled QP after changing only its parameters, without cvxpy's re-stuffing.

    Under DPP the solver data are affine in the parameters. The map is read off once, through
    cvxpy's public ``get_problem_data``, at the current values and at each parameter moved by
    one; P and A must not move (γ is on the linear terms, see ``RiskAversion``). A re-solve then
    forms q, b, h and the bounds with a few vector operations, updates one cached PIQP solver
    (same structure, same preconditioner) and hands the result back to cvxpy's
    ``unpack_results``. Any surprise — a moving matrix, another solver, a failed solve —
    sends the caller back to the ordinary ``program.solve``.
    """

    KEYS = ("q", "b", "G", "lower_bounds", "upper_bounds")

    def __init__(self, compiled: Compiled, options: dict):
        import piqp

        program, params = compiled.program, compiled.parameters
        self.params = params
        base_values = [float(p.value) for p in params]
        data, self.chain, self.inverse = program.get_problem_data("PIQP")
        self.base = {key: np.asarray(data[key], dtype=float).copy() for key in self.KEYS if data.get(key) is not None}
        self.base_offset = float(self.inverse[-1][cp.settings.OFFSET])
        self.slopes, self.offset_slopes = [], []
        try:
            for param, value in zip(params, base_values, strict=True):
                param.value = value + 1.0
                moved, _, inverse = program.get_problem_data("PIQP")
                for matrix in ("P", "A", "F"):
                    if (moved[matrix] != data[matrix]).nnz:
                        raise ValueError(f"{matrix} depends on {param.name()}")
                self.slopes.append({key: _slope(moved[key], self.base[key]) for key in self.base})
                self.offset_slopes.append(float(inverse[-1][cp.settings.OFFSET]) - self.base_offset)
                param.value = value
        finally:
            for param, value in zip(params, base_values, strict=True):
                param.value = value
        self.base_values = np.array(base_values)
        self.solver = piqp.SparseSolver()
        for name, value in options.items():
            setattr(self.solver.settings, name, value)
        self.solver.setup(P=data["P"], c=self.base["q"], A=data["A"], b=self.base["b"], G=data["F"],
                          h_u=self.base["G"], x_l=self.base.get("lower_bounds"),
                          x_u=self.base.get("upper_bounds"))  # fmt: skip

    def solve(self, program: cp.Problem) -> bool:
        delta = np.array([float(p.value) for p in self.params]) - self.base_values
        now = {key: value + sum(d * slope[key] for d, slope in zip(delta, self.slopes, strict=True))
               for key, value in self.base.items()}  # fmt: skip
        self.solver.update(c=now["q"], b=now["b"], h_u=now["G"], x_l=now.get("lower_bounds"),
                           x_u=now.get("upper_bounds"))  # fmt: skip
        self.solver.solve()
        result = self.solver.result
        if result.info.status.name != "PIQP_SOLVED":
            return False
        self.inverse[-1].inverse_data[cp.settings.OFFSET] = self.base_offset + float(np.dot(delta, self.offset_slopes))
        program.unpack_results(result, self.chain, self.inverse)
        return True


def _slope(moved, base: np.ndarray) -> np.ndarray:
    """Change of a data vector per unit of a parameter; infinite entries (open bounds) stay put."""
    moved = np.asarray(moved, dtype=float)
    both = np.isfinite(moved) & np.isfinite(base)
    if np.any(~both & (moved != base)):
        raise ValueError("a bound moves between finite and infinite")
    return np.where(both, moved - np.where(both, base, 0.0), 0.0)


def _fast_resolve(compiled: Compiled, options: dict) -> bool:
    """True if the cached affine re-solve produced a solution (see :class:`_AffineResolver`)."""
    state = compiled.resolver
    if state.get("disabled"):
        return False
    try:
        if "resolver" not in state:
            state["resolver"] = _AffineResolver(compiled, options)
        return state["resolver"].solve(compiled.program)
    except (ValueError, KeyError, AttributeError, TypeError, cp.error.SolverError, cp.error.DPPError):
        # a structure the affine map cannot follow (or a cvxpy whose data layout moved on):
        # cvxpy's own path from now on
        state["disabled"] = True
        return False


def _run(compiled: Compiled, solvers=SOLVERS, options=SOLVER_OPTIONS) -> tuple[np.ndarray, str, float, str]:
    """Weights, solver, milliseconds and status of the first solve that passes every limit's check.

    A solve the solver itself calls inaccurate is kept only if no later solver does better (and it
    passes the checks); cvxpy's warning about it is replaced by that fallback.
    """
    p = compiled.problem
    errors, inaccurate = [], None
    resolve = bool(compiled.resolver.get("solved")) and solvers[0] == "PIQP"
    for solver in solvers:
        start = time.perf_counter()
        if resolve and solver == "PIQP" and _fast_resolve(compiled, options.get("PIQP", {})):
            w = _clean(compiled)
            if max(violations(p, w).values(), default=0.0) <= TOLERANCE:
                return w, "PIQP", (time.perf_counter() - start) * 1e3, cp.OPTIMAL
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Solution may be inaccurate", UserWarning)
                compiled.program.solve(solver=solver, **options.get(solver, {}))
        except cp.error.SolverError as exc:
            errors.append(f"{solver}: {exc}")
            continue
        elapsed = (time.perf_counter() - start) * 1e3
        status = compiled.program.status
        if status in _INFEASIBLE:
            raise Infeasible(_explain(p, list(compiled.groups)))
        if status == cp.UNBOUNDED:
            raise InputError("the problem is unbounded: add a gross limit or position bounds")
        if status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or compiled.u.value is None:
            errors.append(f"{solver}: status {status}")
            continue
        w = _clean(compiled)
        worst = max(violations(p, w).values(), default=0.0)
        if worst > TOLERANCE:
            errors.append(f"{solver}: solution violates a limit by {worst:.2e}")
            continue
        if status == cp.OPTIMAL_INACCURATE:
            errors.append(f"{solver}: inaccurate")
            inaccurate = inaccurate or (w, solver, elapsed, status)
            continue
        compiled.resolver["solved"] = True  # later solves of this compiled problem are re-solves
        return w, solver, elapsed, status
    if inaccurate is not None:  # solve it again so the program's value and duals are that solution's
        w, solver, _, status = inaccurate
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Solution may be inaccurate", UserWarning)
            compiled.program.solve(solver=solver, **options.get(solver, {}))
        w = _clean(compiled)
        if max(violations(p, w).values(), default=0.0) <= TOLERANCE:
            return w, solver, (time.perf_counter() - start) * 1e3, status
    raise SolverError("no solver returned a solution that passes the checks (" + "; ".join(errors) + ")")


def _result(compiled: Compiled, w: np.ndarray, solver: str, elapsed: float, status: str) -> OptimizeResult:
    p = compiled.problem
    carry = 0.0
    if p.costs.funding is not None:
        # The exact funding model on the solution (not the optimiser's own expression).
        carry = carry_of_values(w * p.equity, p.equity, p.costs.funding, p.costs.model, days=360) / p.equity
    value = compiled.program.value
    return OptimizeResult(
        status=status,
        solver=solver,
        solve_ms=elapsed,
        tickers=p.risk.tickers,
        weights=w,
        gross=float(np.abs(w).sum()),
        net=float(w.sum()),
        volatility_ann=p.risk.volatility_ann(w),
        expected_return_ann=float(p.mu @ w),
        carry_ann=float(carry),
        trading_cost=float(p.trading_cost(w)),
        turnover=float(np.abs(p.trade(w)).sum()),
        binding=binding(p, w),
        duals=_duals(compiled),
        objective=float(value) * compiled.scale if value is not None and math.isfinite(value) else math.nan,
        max_violation=max(violations(p, w).values(), default=0.0),
        equity=p.equity,
        gamma=float(compiled.gamma.value),
        tc_bps=p.costs.tc_bps,
        trading_cost_basis=p.trading_cost_basis,
    )


def solve(problem: Problem | Compiled, *, solvers=SOLVERS) -> OptimizeResult:
    """Solve ``problem`` (or re-solve a :class:`Compiled` one after changing its parameters).

    Examples
    --------
    >>> import pandas as pd
    >>> from astra.optimize import Limits, risk_model
    >>> r = pd.DataFrame(np.random.default_rng(0).normal(0, 0.01, (300, 2)), columns=["A", "B"])
    >>> lim = Limits(net=(1, 1), lower=0, gross=None, long_only=True)
    >>> res = solve(Problem("minvar", risk_model(r, "sample"), np.zeros(2), lim))
    >>> round(res.net, 6), res.status
    (1.0, 'optimal')
    """
    compiled = problem if isinstance(problem, Compiled) else compile_problem(problem)
    if isinstance(problem, Compiled):
        # keep the spec in step with the parameters so checks use the new limits
        p = compiled.problem
        limits = replace(
            p.limits,
            net=(float(compiled.net_lo.value), float(compiled.net_hi.value)),
            gross=None if compiled.gross is None else float(compiled.gross.value),
        )
        compiled = replace(compiled, problem=replace(p, limits=limits, gamma=float(compiled.gamma.value)))
    w, solver, elapsed, status = _run(compiled, solvers)
    return _result(compiled, w, solver, elapsed, status)


def frontier(problem: Problem, gammas) -> list[OptimizeResult]:
    """Mean-variance solutions for each risk aversion in ``gammas``, compiling once."""
    if problem.kind != "meanvar":
        raise InputError("a frontier sweeps γ of a meanvar problem")
    gammas = [float(g) for g in gammas]
    if not gammas or min(gammas) <= 0:
        raise InputError("gammas must be positive")
    compiled = compile_problem(problem)
    results = []
    for g in sorted(gammas, reverse=True):
        compiled.gamma.value = g
        results.append(solve(compiled))
    return results
