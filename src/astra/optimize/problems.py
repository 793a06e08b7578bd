"""Portfolio problems under prime-brokerage limits, as compiled cvxpy programs.

Weights ``w`` are position values over account equity (``w = 0.5`` is half the
equity long). Positions are split ``w = u − v`` with ``u, v ≥ 0`` so gross
(``Σ u + v``), financing on longs and rebates/fees on shorts are all linear in
the variables; a wash (long and short one name) always costs money under every
funding convention, so the split is exact at the optimum (checked after solves).

Objectives, all in annual units per unit of equity:

* ``minvar``:  minimise ``½·σ²(w) + trading(w) − carry(w)``
* ``meanvar``: maximise ``μᵀw − (γ/2)·σ²(w) + carry(w) − trading(w)``
* ``maxret``:  maximise ``μᵀw + carry(w) − trading(w)`` subject to ``σ(w) ≤ target``

where ``σ²(w) = 252·(‖Fᵀw‖² + Σ d w²)`` and ``carry`` is the funding model of
:mod:`astra.funding` (the same legs, see :func:`carry_expression`). Trading cost is
charged once: linear bps on the trade from the current book plus an optional
3/2-power market impact ``c·σ_i·√(E/ADV_i)·|Δw_i|^{3/2}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from astra.config import check_number
from astra.errors import InputError
from astra.funding.terms import FundingRates
from astra.optimize.estimators import PERIODS_PER_YEAR, RiskModel

__all__ = ["KINDS", "Compiled", "Costs", "Limits", "Problem", "carry_expression", "compile_problem"]

KINDS = ("minvar", "meanvar", "maxret")


@dataclass(frozen=True)
class Limits:
    """Prime-brokerage limits on the weights (all in units of equity).

    ``net`` is a band ``(lo, hi)`` on ``Σw``; ``lower``/``upper`` bound each weight
    (scalars or per-name arrays); ``beta`` is ``(betas, lo, hi)``; ``groups`` maps a
    group name to ``(member indices, lo, hi)`` on the group's net weight;
    ``max_short`` caps each short weight (locates × price / equity; ``inf`` = no
    cap); ``turnover`` caps ``Σ|w − w₀|``.
    """

    gross: float | None = 2.0
    net: tuple[float, float] = (-0.05, 0.05)
    lower: Any = -1.0
    upper: Any = 1.0
    long_only: bool = False
    beta: tuple[np.ndarray, float, float] | None = None
    groups: dict[str, tuple[np.ndarray, float, float]] = field(default_factory=dict)
    max_short: np.ndarray | None = None
    turnover: float | None = None


@dataclass(frozen=True)
class Costs:
    """Funding and trading costs; ``funding=None`` leaves carry out of the objective."""

    funding: FundingRates | None = None
    model: str = "cash"
    tc_bps: float = 10.0
    impact: np.ndarray | None = None  # per-name coefficient c·σ_i·√(E/ADV_i)


@dataclass(frozen=True, eq=False)
class Problem:
    """A fully specified problem: risk model, returns, limits, costs, current book."""

    kind: str
    risk: RiskModel
    mu: np.ndarray
    limits: Limits = field(default_factory=Limits)
    costs: Costs = field(default_factory=Costs)
    gamma: float = 5.0
    vol_target: float | None = None
    current: np.ndarray | None = None
    equity: float = 1_000_000.0

    def __post_init__(self) -> None:
        n = self.risk.n
        if self.kind not in KINDS:
            raise InputError(f"--problem {self.kind!r} is not one of {', '.join(KINDS)}")
        if np.shape(self.mu) != (n,) or not np.all(np.isfinite(self.mu)):
            raise InputError(f"expected returns must be {n} finite numbers")
        check_number(self.gamma, "--gamma", minimum=0, exclusive_minimum=self.kind == "meanvar", maximum=1e6)
        check_number(self.equity, "equity", minimum=0, exclusive_minimum=True)
        lim = self.limits
        lo, hi = lim.net
        if lo > hi:
            raise InputError(f"net band [{lo:g}, {hi:g}] is empty (lower above upper)")
        if lim.gross is not None:
            check_number(lim.gross, "--gross", minimum=0, exclusive_minimum=True, maximum=100)
            if lim.gross < max(lo, -hi, 0.0):
                raise InputError(
                    f"gross {lim.gross:g} is below the net exposure the band requires "
                    f"({max(lo, -hi):g}); |net| can never exceed gross"
                )
        if self.kind == "maxret":
            if self.vol_target is None:
                raise InputError("maxret needs a volatility target (--vol-target 0.10 for 10 % a year)")
            check_number(self.vol_target, "--vol-target", minimum=0, exclusive_minimum=True, maximum=5)
        if lim.turnover is not None:
            check_number(lim.turnover, "--turnover", minimum=0, maximum=200)
        if self.current is not None and np.shape(self.current) != (n,):
            raise InputError(f"current weights must have {n} entries")


def carry_expression(
    u: cp.Expression, v: cp.Expression, rates: FundingRates, model: str, equity: float
) -> tuple[cp.Expression, list[cp.Constraint]]:
    """Annual carry per unit of equity as a concave cvxpy expression (+ auxiliary constraints).

    The same legs as :func:`astra.funding.funding_legs` with collateral ``1.02·|v|``:
    a debit pays its tier rates (slices ``s_k``, filled cheapest-first when tier rates
    rise), credit and short proceeds earn ``B − s_short``, shorts pay fees.
    """
    long_total = cp.sum(u)
    fee = 1.02 * rates.borrow_rates if model in ("cash", "netted") else rates.borrow_rates
    short_earn = (rates.rebate_rate - fee) if model in ("cash", "swap", "seed") else -fee
    constraints: list[cp.Constraint] = []
    if model in ("swap", "seed"):
        expr = -rates.debit_rates[-1] * long_total + short_earn @ v
        if model == "swap":
            expr = expr + rates.credit_rate
        return expr, constraints
    # cash / netted: x = financed amount (> 0 debit, < 0 credit), per unit of equity.
    x = long_total - 1.0 if model == "cash" else long_total - cp.sum(v) - 1.0
    widths = np.diff(np.concatenate([[0.0], rates.debit_breaks])) / equity
    tier_rates = rates.debit_rates
    if np.any(np.diff(tier_rates) < 0):
        # Falling tier spreads make the cost concave; price the whole debit at the top tier
        # (an upper bound on the cost; the exact carry is reported after the solve).
        widths, tier_rates = np.array([np.inf]), np.array([tier_rates.max()])
    slices = cp.Variable(len(widths), nonneg=True)
    finite = np.isfinite(widths)
    if finite.any():
        constraints.append(slices[np.nonzero(finite)[0]] <= widths[finite])
    constraints.append(cp.sum(slices) >= x)
    expr = -rates.credit_rate * x - (tier_rates - rates.credit_rate) @ slices
    return expr + short_earn @ v, constraints


class RiskAversion:
    """γ as callers set it (``compiled.gamma.value = 4``); the program holds ``τ = γ₀/γ``.

    With γ₀ the γ the problem was compiled with, the mean-variance objective is solved as
    ``max τ·(μᵀw + carry − costs) − (γ₀/2)·wᵀΣw``: the original objective times γ₀/γ, so the
    same maximiser, and exactly the original problem (same scaling) at γ = γ₀. γ then moves
    only linear terms, so a re-solve after changing it keeps the solver's P matrix and its
    preconditioning. Objective and duals are reported in the original scale.
    """

    def __init__(self, tau: cp.Parameter, gamma: float):
        self.tau = tau
        self.base = float(gamma) if gamma > 0 else 1.0  # γ₀
        self._gamma = float(gamma)

    @property
    def value(self) -> float:
        return self._gamma

    @value.setter
    def value(self, gamma: float) -> None:
        check_number(gamma, "gamma", minimum=0, exclusive_minimum=True, maximum=1e6)
        self._gamma = float(gamma)
        self.tau.value = self.base / self._gamma


@dataclass(frozen=True, eq=False)
class Compiled:
    """A cvxpy problem with parameters for γ, the net band and gross (re-solved without recompiling)."""

    problem: Problem
    program: cp.Problem
    u: cp.Variable
    v: cp.Variable
    gamma: RiskAversion
    net_lo: cp.Parameter
    net_hi: cp.Parameter
    gross: cp.Parameter | None
    groups: dict[str, list[cp.Constraint]]
    carry: cp.Expression | None
    trading: cp.Expression | float
    variance: cp.Expression
    resolver: dict = field(default_factory=dict, repr=False)  # the fast re-solve's state (see solve.py)

    @property
    def parameters(self) -> list[cp.Parameter]:
        """The parameters a re-solve may change: τ (γ), the net band and gross."""
        return [self.gamma.tau, self.net_lo, self.net_hi] + ([self.gross] if self.gross is not None else [])

    @property
    def weights(self) -> np.ndarray:
        return np.asarray(self.u.value - self.v.value, dtype=float)

    @property
    def scale(self) -> float:
        """Factor from the program's objective (and duals) to the problem's: γ/γ₀ for meanvar, else 1."""
        return self.gamma.value / self.gamma.base if self.problem.kind == "meanvar" else 1.0


def _bound(value: Any, n: int, name: str) -> np.ndarray:
    array = np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy()
    if not np.all(np.isfinite(array) | np.isinf(array)) or np.isnan(array).any():
        raise InputError(f"{name} bounds contain NaN")
    return array


def _position_caps(p: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weight bounds ``lower``/``upper`` and the caps they put on the long and short parts.

    Computed once per problem (the solver's checks ask several times); treat as read-only.
    """
    cached = p.__dict__.get("_caps")
    if cached is not None:
        return cached
    n, lim = p.risk.n, p.limits
    lower = np.maximum(_bound(lim.lower, n, "lower"), 0.0 if lim.long_only else -np.inf)
    upper = _bound(lim.upper, n, "upper")
    if np.any(lower > upper):
        bad = int(np.argmax(lower > upper))
        raise InputError(f"bounds for {p.risk.tickers[bad]}: lower {lower[bad]:g} above upper {upper[bad]:g}")
    caps = lower, upper, np.maximum(upper, 0.0), np.maximum(-lower, 0.0)
    object.__setattr__(p, "_caps", caps)  # a memo on a frozen instance, not part of its value
    return caps


def _variables(p: Problem, drop: tuple[str, ...]) -> tuple[cp.Variable, cp.Expression, cp.Expression]:
    """``z = [u; v]``, the long and short parts in one variable, and its two halves.

    Box bounds and locates go in as variable bounds (the QP solver handles them natively,
    which is measurably faster than inequality rows); one variable lets the specific risk
    enter the solver's P matrix directly as a quadratic form in ``z`` (see :func:`compile_problem`)."""
    n = p.risk.n
    _, _, long_cap, short_cap = _position_caps(p)
    if "position bounds" in drop:
        long_cap, short_cap = np.full(n, np.inf), np.full(n, np.inf)
    if p.limits.max_short is not None and "locates" not in drop:
        short_cap = np.minimum(short_cap, p.limits.max_short)
    z = cp.Variable(2 * n, name="long_short", bounds=[np.zeros(2 * n), np.concatenate([long_cap, short_cap])])
    return z, z[:n], z[n:]


def _constraint_groups(p: Problem, u, v, w, net_lo, net_hi, gross) -> dict[str, list[cp.Constraint]]:
    """Constraint groups by name (the names the infeasibility diagnosis reports)."""
    lim = p.limits
    lower, upper, _, _ = _position_caps(p)
    groups: dict[str, list[cp.Constraint]] = {"net band": [cp.sum(w) >= net_lo, cp.sum(w) <= net_hi]}
    bounds = []  # the caps on u and v are variable bounds; only sign-forcing bounds remain here
    if (lower > 0).any():
        bounds.append(w >= lower)
    if (upper < 0).any():
        bounds.append(w <= upper)
    groups["position bounds"] = bounds
    if gross is not None:
        groups["gross"] = [cp.sum(u) + cp.sum(v) <= gross]
    if lim.beta is not None:
        betas, lo, hi = lim.beta
        groups["beta band"] = [betas @ w >= lo, betas @ w <= hi]
    for name, (members, lo, hi) in lim.groups.items():
        groups[f"group {name}"] = [cp.sum(w[members]) >= lo, cp.sum(w[members]) <= hi]
    if lim.max_short is not None and np.isfinite(lim.max_short).any():
        groups["locates"] = []  # variable bounds on the short part
    if lim.turnover is not None:
        current = np.zeros(p.risk.n) if p.current is None else p.current
        groups["turnover"] = [cp.norm1(w - current) <= lim.turnover]
    return groups


def compile_problem(p: Problem, *, drop: tuple[str, ...] = (), feasibility: bool = False) -> Compiled:
    """Build the cvxpy program of ``p`` (``drop`` removes constraint groups, for diagnosis)."""
    n = p.risk.n
    z, u, v = _variables(p, drop)
    w = u - v
    tau = cp.Parameter(nonneg=True, value=1.0, name="risk_tolerance")
    gamma = RiskAversion(tau, p.gamma)
    net_lo = cp.Parameter(value=float(p.limits.net[0]), name="net_lo")
    net_hi = cp.Parameter(value=float(p.limits.net[1]), name="net_hi")
    gross = None if p.limits.gross is None else cp.Parameter(nonneg=True, value=float(p.limits.gross), name="gross")
    groups = _constraint_groups(p, u, v, w, net_lo, net_hi, gross)
    if p.kind == "maxret":  # variance in a constraint: second-order-cone form for the conic solver
        specific = cp.sum_squares(cp.multiply(np.sqrt(p.risk.idiosyncratic), w))
    else:
        # specific risk Σ d_i (u_i − v_i)² = zᵀ [[D, −D], [−D, D]] z goes straight into the QP's P
        # matrix, where sum_squares(√d∘w) adds N auxiliary variables and N equality rows
        d = sp.diags(p.risk.idiosyncratic)
        specific = cp.quad_form(z, sp.bmat([[d, -d], [-d, d]], format="csc"), assume_PSD=True)
    variance = PERIODS_PER_YEAR * (cp.sum_squares(p.risk.factors.T @ w) + specific)
    if p.kind == "maxret":
        groups["volatility target"] = [variance <= p.vol_target**2]
    current = np.zeros(n) if p.current is None else p.current
    trade = w - current
    trading: cp.Expression | float = 0.0  # no cost terms (and no auxiliary variables) unless asked for
    if p.costs.tc_bps > 0:
        trading = p.costs.tc_bps / 1e4 * cp.norm1(trade)
    if p.costs.impact is not None:
        trading = trading + p.costs.impact @ cp.power(cp.abs(trade), 1.5)
    extra: list[cp.Constraint] = []
    carry = None
    if p.costs.funding is not None:
        carry, extra = carry_expression(u, v, p.costs.funding, p.costs.model, p.equity)
    net_carry = (carry if carry is not None else 0.0) - trading
    if feasibility:
        objective = cp.Minimize(0)
    elif p.kind == "minvar":
        objective = cp.Minimize(0.5 * variance - net_carry)
    elif p.kind == "meanvar":
        objective = cp.Maximize(tau * (p.mu @ w + net_carry) - gamma.base / 2 * variance)  # see RiskAversion
    else:
        objective = cp.Maximize(p.mu @ w + net_carry)
    kept = {name: cons for name, cons in groups.items() if name not in drop}
    program = cp.Problem(objective, [c for cons in kept.values() for c in cons] + extra)
    return Compiled(p, program, u, v, gamma, net_lo, net_hi, gross, kept, carry, trading, variance)
