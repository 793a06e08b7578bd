"""Each portfolio limit defined once: its cvxpy form, its numpy violation and its binding test.

A limit is one object. The optimiser asks it for constraints (:meth:`Limit.constraints`) and,
for box-type limits, for caps on the long and short parts of the weights (variable bounds that
the QP solver handles natively, see :meth:`Limit.caps`); the check after every solve asks the
same object for its :meth:`Limit.violation` in numpy, independently of cvxpy; the result's list
of binding limits asks :meth:`Limit.binding`. :attr:`Limit.name` is what an infeasibility
diagnosis reports ("net band", "gross", "group tech"…).

Weights ``w`` are fractions of equity, split ``w = u − v`` with ``u, v ≥ 0`` (see
:mod:`astra.optimize.problems`). A bound may be a ``cp.Parameter``: the program then re-solves
with a new value without recompiling, and the numpy check reads the parameter's current value.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import cvxpy as cp
import numpy as np

__all__ = [
    "Band",
    "Decision",
    "Gross",
    "Limit",
    "Locates",
    "PositionBounds",
    "ReturnTarget",
    "Turnover",
    "VolatilityTarget",
    "bound_value",
]


def bound_value(bound) -> float:
    """A bound's current value (a number, or a ``cp.Parameter``'s value)."""
    return float(bound.value) if isinstance(bound, cp.Parameter) else float(bound)


@dataclass(frozen=True, eq=False)
class Decision:
    """The program's variables as the limits see them: long part, short part, weights, annual variance."""

    long: cp.Expression
    short: cp.Expression
    weights: cp.Expression
    variance: cp.Expression


class Limit(ABC):
    """One limit on the weights. Subclasses define the three encodings side by side."""

    name: str

    def constraints(self, x: Decision) -> list[cp.Constraint]:
        """The limit as cvxpy constraints (box limits may instead be caps, see :meth:`caps`)."""
        return []

    def caps(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Upper bounds on the long part ``u`` and the short part ``v`` (``inf``: none)."""
        return np.full(n, np.inf), np.full(n, np.inf)

    @abstractmethod
    def violation(self, w: np.ndarray) -> float:
        """How far ``w`` breaks the limit (0 when it holds), in the limit's units."""

    @abstractmethod
    def binding(self, w: np.ndarray, tol: float) -> str | None:
        """The label to report when the limit is active at ``w`` (within ``tol``), else None."""


def _outside(value: float, lo: float, hi: float) -> float:
    return max(0.0, lo - value, value - hi)


@dataclass(frozen=True, eq=False)
class Band(Limit):
    """``lo ≤ aᵀw ≤ hi``: the net band (``a`` = 1), a beta band (``a`` = betas) or a group's net.

    ``coefficients=None`` sums the weights of ``members`` (all names when ``members`` is None).
    """

    name: str
    lo: object
    hi: object
    coefficients: np.ndarray | None = None
    members: np.ndarray | None = None

    def exposure(self, w: np.ndarray) -> float:
        if self.coefficients is not None:
            return float(self.coefficients @ w)
        return float(w.sum() if self.members is None else w[self.members].sum())

    def constraints(self, x: Decision) -> list[cp.Constraint]:
        w = x.weights
        if self.coefficients is not None:
            expr = self.coefficients @ w
        else:
            expr = cp.sum(w if self.members is None else w[self.members])
        return [expr >= self.lo, expr <= self.hi]  # finite bounds (checked when the problem is built)

    def violation(self, w: np.ndarray) -> float:
        return _outside(self.exposure(w), bound_value(self.lo), bound_value(self.hi))

    def binding(self, w: np.ndarray, tol: float) -> str | None:
        exposure = self.exposure(w)
        at_edge = exposure <= bound_value(self.lo) + tol or exposure >= bound_value(self.hi) - tol
        return self.name if at_edge else None


@dataclass(frozen=True, eq=False)
class Gross(Limit):
    """``Σ|w| ≤ limit`` (``Σu + Σv`` in the program)."""

    limit: object
    name: str = "gross"

    def constraints(self, x: Decision) -> list[cp.Constraint]:
        return [cp.sum(x.long) + cp.sum(x.short) <= self.limit]

    def violation(self, w: np.ndarray) -> float:
        return max(0.0, float(np.abs(w).sum()) - bound_value(self.limit))

    def binding(self, w: np.ndarray, tol: float) -> str | None:
        return self.name if np.abs(w).sum() >= bound_value(self.limit) - tol else None


@dataclass(frozen=True, eq=False)
class PositionBounds(Limit):
    """``lower ≤ w ≤ upper`` per name: caps on ``u`` and ``v``, plus rows only for sign-forcing bounds."""

    lower: np.ndarray
    upper: np.ndarray
    name: str = "position bounds"

    def caps(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        return np.maximum(self.upper, 0.0), np.maximum(-self.lower, 0.0)

    def constraints(self, x: Decision) -> list[cp.Constraint]:
        rows = []  # a lower bound above 0 (or an upper bound below 0) forces a side: not a cap
        if (self.lower > 0).any():
            rows.append(x.weights >= self.lower)
        if (self.upper < 0).any():
            rows.append(x.weights <= self.upper)
        return rows

    def violation(self, w: np.ndarray) -> float:
        return float(max(0.0, np.max(self.lower - w), np.max(w - self.upper)))

    def binding(self, w: np.ndarray, tol: float) -> str | None:
        at_bound = (np.abs(w - self.upper) <= tol) | ((np.abs(w - self.lower) <= tol) & (self.lower != 0))
        return f"{self.name} ({int(at_bound.sum())} names)" if at_bound.any() else None

    def clip(self, w: np.ndarray) -> np.ndarray:
        return np.clip(w, self.lower, self.upper)


@dataclass(frozen=True, eq=False)
class Locates(Limit):
    """Each short at most ``max_short`` (located shares × price / equity; ``inf``: no cap)."""

    max_short: np.ndarray
    name: str = "locates"

    def caps(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        return np.full(n, np.inf), self.max_short

    def violation(self, w: np.ndarray) -> float:
        return float(np.max(np.maximum(-w - self.max_short, 0.0), initial=0.0))

    def binding(self, w: np.ndarray, tol: float) -> str | None:
        return self.name if np.any(np.isfinite(self.max_short) & (-w >= self.max_short - tol)) else None


@dataclass(frozen=True, eq=False)
class Turnover(Limit):
    """``Σ|w − w₀| ≤ limit`` from the current book ``w₀``."""

    current: np.ndarray
    limit: float
    name: str = "turnover"

    def constraints(self, x: Decision) -> list[cp.Constraint]:
        return [cp.norm1(x.weights - self.current) <= self.limit]

    def violation(self, w: np.ndarray) -> float:
        return max(0.0, float(np.abs(w - self.current).sum()) - self.limit)

    def binding(self, w: np.ndarray, tol: float) -> str | None:
        return self.name if np.abs(w - self.current).sum() >= self.limit - tol else None


@dataclass(frozen=True, eq=False)
class VolatilityTarget(Limit):
    """Annual volatility at most ``target``: ``σ²(w) ≤ target²`` (a second-order cone)."""

    risk: object  # RiskModel
    target: float
    name: str = "volatility target"

    def constraints(self, x: Decision) -> list[cp.Constraint]:
        return [x.variance <= self.target**2]

    def violation(self, w: np.ndarray) -> float:
        return max(0.0, self.risk.volatility_ann(w) - self.target)

    def binding(self, w: np.ndarray, tol: float) -> str | None:
        return self.name if self.risk.volatility_ann(w) >= self.target - tol else None


@dataclass(frozen=True, eq=False)
class ReturnTarget(Limit):
    """Expected annual return at least ``target``: ``μᵀw ≥ target``."""

    mu: np.ndarray
    target: float
    name: str = "return target"

    def constraints(self, x: Decision) -> list[cp.Constraint]:
        return [self.mu @ x.weights >= self.target]

    def violation(self, w: np.ndarray) -> float:
        return max(0.0, self.target - float(self.mu @ w))

    def binding(self, w: np.ndarray, tol: float) -> str | None:
        return self.name if float(self.mu @ w) <= self.target + tol else None
