"""Portfolio problems under prime-brokerage limits, as compiled cvxpy programs.

Weights ``w`` are position values over account equity (``w = 0.5`` is half the
equity long). Positions are split ``w = u − v`` with ``u, v ≥ 0`` so gross
(``Σ u + v``), financing on longs and rebates/fees on shorts are all linear in
the variables; a wash (long and short one name) always costs money under every
funding convention, so the split is exact at the optimum (checked after solves).

Objectives, all in annual units per unit of equity:

* ``minvar``:  minimise ``½·σ²(w) + trading(w) − carry(w)``
* ``meanvar``: maximise ``μᵀw − (γ/2)·σ²(w) + carry(w) − trading(w)``
* ``maxret``:  maximise ``μᵀw + carry(w) − trading(w)`` subject to ``σ(w) ≤ vol_target``

A ``vol_target`` caps volatility on any problem, a ``return_target`` puts a floor on
``μᵀw``: ``minvar`` with a return target is the minimum risk for a required return
(PyPortfolioOpt's ``efficient_return``) and ``maxret`` the maximum return for a volatility
target (its ``efficient_risk``), long/short or long-only, under the same limits.

where ``σ²(w) = 252·(‖Fᵀw‖² + Σ d w²)`` and ``carry`` is the funding model of
:mod:`astra.funding` (the same legs, see :func:`carry_expression`). Trading cost is
charged once: linear bps on the trade from the current book plus an optional
3/2-power market impact ``c·σ_i·√(E/ADV_i)·|Δw_i|^{3/2}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from astra.config import check_number
from astra.errors import InputError
from astra.funding.terms import MODELS, FundingRates
from astra.optimize.estimators import PERIODS_PER_YEAR, RiskModel
from astra.optimize.labels import by_ticker, listing
from astra.optimize.limits import (
    Band,
    Decision,
    Gross,
    Limit,
    Locates,
    PositionBounds,
    ReturnTarget,
    Turnover,
    VolatilityTarget,
)

__all__ = [
    "DEFAULT_TC_BPS",
    "KINDS",
    "MARKET_NEUTRAL_BAND",
    "Compiled",
    "Costs",
    "Limits",
    "Problem",
    "carry_expression",
    "check_scalars",
    "compile_problem",
    "default_net_band",
]

KINDS = ("minvar", "meanvar", "maxret")
DEFAULT_TC_BPS = 10.0  # linear trading cost on trades from a current book, bp of traded value
MARKET_NEUTRAL_BAND = (-0.05, 0.05)


def default_net_band(kind: str, long_only: bool, gross: float | None) -> tuple[float, float]:
    """The net band when none is given.

    A long-only book is fully invested (net 1), or invested up to a gross limit below 1
    (long-only, gross = net); a long/short minimum-variance book is fully invested (the
    textbook minimum-variance portfolio); other long/short books are market-neutral within ±5 %.
    """
    if long_only:
        invested = 1.0 if gross is None else min(1.0, float(gross))
        return invested, invested
    return (1.0, 1.0) if kind == "minvar" else MARKET_NEUTRAL_BAND


@dataclass(frozen=True)
class Limits:
    """Prime-brokerage limits on the weights (all in units of equity).

    ``net`` is a band ``(lo, hi)`` on ``Σw`` (None: :func:`default_net_band`); ``lower``/``upper``
    bound each weight (a scalar, an array in ticker order or a Series by ticker); ``long_only``
    raises ``lower`` to 0 (a gross limit still applies: gross = net then); ``beta`` is
    ``(betas, lo, hi)``; ``groups`` maps a group name to ``(members, lo, hi)`` on the group's net
    weight (members as indices or tickers); ``max_short`` caps each short weight (locates × price
    / equity; ``inf`` = no cap); ``turnover`` caps ``Σ|w − w₀|``.
    """

    gross: float | None = 2.0
    net: tuple[float, float] | None = None
    lower: Any = -1.0
    upper: Any = 1.0
    long_only: bool = False
    beta: tuple[Any, float, float] | None = None
    groups: dict[str, tuple[Any, float, float]] = field(default_factory=dict)
    max_short: Any = None
    turnover: float | None = None


@dataclass(frozen=True)
class Costs:
    """Funding and trading costs; ``funding=None`` leaves carry out of the objective.

    ``tc_bps`` is the linear cost in bp of traded value. None (the default) charges
    :data:`DEFAULT_TC_BPS` on the trades from a current book and nothing when there is no
    current book; a number is charged as given (with no current book, on the whole book as
    traded from cash). ``impact`` is the per-name coefficient ``c·σ_i·√(E/ADV_i)`` of a
    3/2-power market impact.
    """

    funding: FundingRates | None = None
    model: str = "cash"
    tc_bps: float | None = None
    impact: Any = None


@dataclass(frozen=True, eq=False)
class Problem:
    """A fully specified problem: risk model, expected returns, limits, costs, current book.

    ``mu`` (annual decimals) and ``current`` (weights) are arrays in the model's ticker order
    or Series labelled by ticker. ``vol_target`` caps annual volatility (required by
    ``maxret``: maximum return for a volatility target); ``return_target`` puts a floor on
    ``μᵀw`` (with ``minvar``: minimum risk for a required return). Inputs are validated and
    aligned here, once.
    """

    kind: str
    risk: RiskModel
    mu: Any
    limits: Limits = field(default_factory=Limits)
    costs: Costs = field(default_factory=Costs)
    gamma: float = 5.0
    vol_target: float | None = None
    current: Any = None
    equity: float = 1_000_000.0
    return_target: float | None = None

    def __post_init__(self) -> None:
        tickers = self.risk.tickers
        check_scalars(self.kind, gamma=self.gamma, equity=self.equity, vol_target=self.vol_target,
                      return_target=self.return_target, gross=self.limits.gross, turnover=self.limits.turnover,
                      tc_bps=self.costs.tc_bps)  # fmt: skip
        mu = by_ticker(self.mu, tickers, "mu")
        if not np.all(np.isfinite(mu)):
            bad = listing(_where(~np.isfinite(mu), tickers))
            raise InputError(f"mu: expected returns must be finite (inf for {bad})")
        current = None
        if self.current is not None:
            current = by_ticker(self.current, tickers, "current")
            if not np.all(np.isfinite(current)):
                raise InputError("current: weights must be finite")
        set_ = object.__setattr__  # normalised inputs on a frozen instance, before anyone reads them
        set_(self, "mu", mu)
        set_(self, "current", current)
        set_(self, "costs", _checked_costs(self.costs, tickers, current is not None))
        set_(self, "limits", _checked_limits(self.limits, self.kind))
        set_(self, "_limit_set", self._build_limits())

    @property
    def limit_set(self) -> tuple[Limit, ...]:
        """Every limit of the problem as one object each (see :mod:`astra.optimize.limits`)."""
        return self._limit_set

    @property
    def bounds(self) -> PositionBounds:
        """The per-name bounds after ``long_only`` (always present)."""
        return next(lim for lim in self._limit_set if isinstance(lim, PositionBounds))

    @property
    def trading_cost_basis(self) -> str:
        """What the trading cost is charged on: ``none``, ``trades from current book`` or ``whole book from cash``."""
        if self.costs.tc_bps == 0 and self.costs.impact is None:
            return "none"
        return "trades from current book" if self.current is not None else "whole book from cash"

    def trade(self, w):
        """The trade from the current book (from cash when there is none) to ``w``: numpy or cvxpy."""
        return w if self.current is None else w - self.current

    def trading_cost(self, w):
        """Linear plus 3/2-power impact cost of :meth:`trade` (fraction of equity): numpy or cvxpy.

        ``w`` is an array (a number comes back) or a cvxpy expression (the objective's term; 0.0
        when there is no cost, so no auxiliary variables are added).
        """
        trade = self.trade(w)
        linear, impact = self.costs.tc_bps / 1e4, self.costs.impact
        if isinstance(w, cp.Expression):
            cost = linear * cp.norm1(trade) if linear > 0 else 0.0
            return cost if impact is None else cost + impact @ cp.power(cp.abs(trade), 1.5)
        cost = linear * float(np.abs(trade).sum())
        return cost if impact is None else cost + float(impact @ np.abs(trade) ** 1.5)

    def _build_limits(self) -> tuple[Limit, ...]:
        """The limits as objects, in the order the infeasibility diagnosis tries them."""
        lim, tickers, n = self.limits, self.risk.tickers, self.risk.n
        lower = by_ticker(lim.lower, tickers, "lower", scalar=True)
        upper = by_ticker(lim.upper, tickers, "upper", scalar=True)
        if lim.long_only:
            lower = np.maximum(lower, 0.0)
        if np.any(lower > upper):
            bad = int(np.argmax(lower > upper))
            raise InputError(f"bounds for {tickers[bad]}: lower {lower[bad]:g} above upper {upper[bad]:g}")
        out: list[Limit] = [Band("net band", *lim.net), PositionBounds(lower, upper)]
        if lim.gross is not None:
            out.append(Gross(lim.gross))
        if lim.beta is not None:
            betas, lo, hi = lim.beta
            values = by_ticker(betas, tickers, "betas")
            if not np.all(np.isfinite(values)):
                raise InputError("betas must be finite")
            out.append(Band("beta band", *_band(lo, hi, "beta band"), coefficients=values))
        for name, (members, lo, hi) in lim.groups.items():
            out.append(Band(f"group {name}", *_band(lo, hi, f"group {name}"), members=_members(members, tickers, name)))
        if lim.max_short is not None:
            caps = by_ticker(lim.max_short, tickers, "max_short", scalar=True)
            if np.any(caps < 0):
                bad = listing(_where(caps < 0, tickers))
                raise InputError(f"max_short: short caps must be >= 0 (negative for {bad})")
            if np.isfinite(caps).any():
                out.append(Locates(caps))
        if lim.turnover is not None:
            out.append(Turnover(np.zeros(n) if self.current is None else self.current, float(lim.turnover)))
        if self.vol_target is not None:
            out.append(VolatilityTarget(self.risk, float(self.vol_target)))
        if self.return_target is not None:
            out.append(ReturnTarget(self.mu, float(self.return_target)))
        return tuple(out)


def check_scalars(
    kind: str,
    *,
    gamma: float = 5.0,
    equity: float | None = None,
    vol_target: float | None = None,
    return_target: float | None = None,
    gross: float | None = None,
    turnover: float | None = None,
    tc_bps: float | None = None,
) -> None:
    """A problem's numbers, each with its parameter's name in the error (callers check before loading data)."""
    if kind not in KINDS:
        raise InputError(f"problem {kind!r} is not one of {', '.join(KINDS)}")
    check_number(gamma, "gamma", minimum=0, exclusive_minimum=True, maximum=1e6)
    if equity is not None:
        check_number(equity, "equity", minimum=0, exclusive_minimum=True)
    if kind == "maxret" and vol_target is None:
        raise InputError("maxret needs a volatility target (vol_target, e.g. 0.10 for 10 % a year)")
    if vol_target is not None:
        check_number(vol_target, "vol_target", minimum=0, exclusive_minimum=True, maximum=5)
    if return_target is not None:
        check_number(return_target, "return_target", minimum=-5, maximum=5)
    if gross is not None:
        check_number(gross, "gross", minimum=0, exclusive_minimum=True, maximum=100)
    if turnover is not None:
        check_number(turnover, "turnover", minimum=0, maximum=200)
    if tc_bps is not None:
        check_number(tc_bps, "tc_bps", minimum=0, maximum=1000)


def _where(mask: np.ndarray, tickers) -> list[str]:
    return [tickers[i] for i in np.nonzero(mask)[0]]


def _band(lo, hi, name: str) -> tuple[float, float]:
    lo, hi = check_number(lo, f"{name} lower"), check_number(hi, f"{name} upper")
    if lo > hi:
        raise InputError(f"{name} [{lo:g}, {hi:g}] is empty (lower above upper)")
    return lo, hi


def _members(members, tickers: tuple[str, ...], group: str) -> np.ndarray:
    """Member positions from indices or tickers."""
    items = list(np.atleast_1d(np.asarray(members, dtype=object)))
    if not items:
        raise InputError(f"group {group} has no members")
    if all(isinstance(m, str) for m in items):
        where = {t.upper(): i for i, t in enumerate(tickers)}
        unknown = [m for m in items if m.strip().upper() not in where]
        if unknown:
            raise InputError(f"group {group}: {listing(unknown)} not in the model's tickers")
        return np.array([where[m.strip().upper()] for m in items], dtype=int)
    index = np.asarray(items)
    if index.dtype.kind not in "iu" and not all(isinstance(m, int | np.integer) for m in items):
        raise InputError(f"group {group}: members must be ticker names or positions")
    index = index.astype(int)
    if index.min() < 0 or index.max() >= len(tickers):
        raise InputError(f"group {group}: member positions must be between 0 and {len(tickers) - 1}")
    return index


def _checked_limits(lim: Limits, kind: str) -> Limits:
    lo, hi = default_net_band(kind, lim.long_only, lim.gross) if lim.net is None else lim.net
    lo, hi = _band(lo, hi, "net band")
    if lim.gross is not None and lim.gross < max(lo, -hi, 0.0):
        raise InputError(
            f"gross {lim.gross:g} is below the net exposure the net band requires "
            f"({max(lo, -hi):g}); |net| can never exceed gross"
        )
    return replace(lim, net=(lo, hi))


def _checked_costs(costs: Costs, tickers: tuple[str, ...], has_book: bool) -> Costs:
    if costs.model not in MODELS:
        raise InputError(f"funding model {costs.model!r} is not one of {', '.join(MODELS)}")
    tc_bps = costs.tc_bps
    if tc_bps is None:
        tc_bps = DEFAULT_TC_BPS if has_book else 0.0
    impact = costs.impact
    if impact is not None:
        impact = by_ticker(impact, tickers, "impact")
        if not np.all(np.isfinite(impact)) or np.any(impact < 0):
            raise InputError("impact: coefficients must be finite and >= 0")
    return replace(costs, tc_bps=float(tc_bps), impact=impact)


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
    """A cvxpy problem with parameters for γ, the net band and gross (re-solved without recompiling).

    ``limits`` are the problem's limit objects as compiled (the net band and gross holding the
    parameters), ``groups`` their constraints by name.
    """

    problem: Problem
    program: cp.Problem
    u: cp.Variable
    v: cp.Variable
    gamma: RiskAversion
    net_lo: cp.Parameter
    net_hi: cp.Parameter
    gross: cp.Parameter | None
    limits: tuple[Limit, ...]
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


def _parametrised(limit: Limit, net_lo: cp.Parameter, net_hi: cp.Parameter, gross: cp.Parameter | None) -> Limit:
    """The net band and gross with parameters in place of their numbers (re-solves move them)."""
    if isinstance(limit, Band) and limit.name == "net band":
        return replace(limit, lo=net_lo, hi=net_hi)
    if isinstance(limit, Gross) and gross is not None:
        return replace(limit, limit=gross)
    return limit


def compile_problem(p: Problem, *, drop: tuple[str, ...] = (), feasibility: bool = False) -> Compiled:
    """Build the cvxpy program of ``p`` (``drop`` removes limits by name, for diagnosis)."""
    n = p.risk.n
    tau = cp.Parameter(nonneg=True, value=1.0, name="risk_tolerance")
    gamma = RiskAversion(tau, p.gamma)
    net_lo = cp.Parameter(value=float(p.limits.net[0]), name="net_lo")
    net_hi = cp.Parameter(value=float(p.limits.net[1]), name="net_hi")
    gross = None if p.limits.gross is None else cp.Parameter(nonneg=True, value=float(p.limits.gross), name="gross")
    limits = tuple(_parametrised(lim, net_lo, net_hi, gross) for lim in p.limit_set if lim.name not in drop)
    # z = [u; v], the long and short parts in one variable. Box bounds and locates go in as variable
    # bounds (the QP solver handles them natively, measurably faster than inequality rows); one
    # variable lets the specific risk enter the solver's P matrix directly as a quadratic form in z.
    caps = [lim.caps(n) for lim in limits]
    long_cap = np.min([c[0] for c in caps], axis=0)
    short_cap = np.min([c[1] for c in caps], axis=0)
    z = cp.Variable(2 * n, name="long_short", bounds=[np.zeros(2 * n), np.concatenate([long_cap, short_cap])])
    u, v = z[:n], z[n:]
    w = u - v
    if any(isinstance(lim, VolatilityTarget) for lim in limits):
        # variance in a constraint: second-order-cone form for the conic solver
        specific = cp.sum_squares(cp.multiply(np.sqrt(p.risk.idiosyncratic), w))
    else:
        # specific risk Σ d_i (u_i − v_i)² = zᵀ [[D, −D], [−D, D]] z goes straight into the QP's P
        # matrix, where sum_squares(√d∘w) adds N auxiliary variables and N equality rows
        d = sp.diags(p.risk.idiosyncratic)
        specific = cp.quad_form(z, sp.bmat([[d, -d], [-d, d]], format="csc"), assume_PSD=True)
    variance = PERIODS_PER_YEAR * (cp.sum_squares(p.risk.factors.T @ w) + specific)
    decision = Decision(u, v, w, variance)
    groups = {lim.name: lim.constraints(decision) for lim in limits}
    trading = p.trading_cost(w)
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
    program = cp.Problem(objective, [c for cons in groups.values() for c in cons] + extra)
    return Compiled(p, program, u, v, gamma, net_lo, net_hi, gross, limits, groups, carry, trading, variance)
