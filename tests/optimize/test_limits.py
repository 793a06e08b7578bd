"""Each limit is one object: its numpy violation and binding test on hand-worked books, its cvxpy form
agreeing with them, and no module reaching into another's private names."""

import ast
from pathlib import Path

import cvxpy as cp
import numpy as np
import pytest

from astra.optimize import Limits, Problem, RiskModel, violations
from astra.optimize.limits import (
    Band,
    Decision,
    Gross,
    Locates,
    PositionBounds,
    ReturnTarget,
    Turnover,
    VolatilityTarget,
)

SRC = Path(__file__).parents[2] / "src" / "astra"
COV = np.array([[4e-4, 1e-4, 0.0], [1e-4, 2.25e-4, 0.0], [0.0, 0.0, 1e-4]])  # daily
RISK = RiskModel.from_covariance(COV, ["A", "B", "C"])
W = np.array([0.5, -0.3, 0.1])  # Σ|w| = 0.9, Σw = 0.3


def vol(w):
    return np.sqrt(252 * w @ COV @ w)  # √(252·wᵀΣw) on the dense matrix


# (limit, violation at W worked by hand, binding at W)
CASES = [
    (Band("net band", -0.05, 0.05), 0.3 - 0.05, False),
    (Band("net band", 0.3, 0.5), 0.0, True),  # Σw = 0.3 sits on the lower edge
    (Band("beta band", -0.1, 0.1, coefficients=np.array([1.2, 0.8, 1.0])), (0.6 - 0.24 + 0.1) - 0.1, False),
    (Band("group g", -0.1, 0.1, members=np.array([0, 1])), 0.2 - 0.1, False),
    (Gross(0.8), 0.9 - 0.8, False),
    (Gross(0.9), 0.0, True),
    (PositionBounds(np.full(3, -0.25), np.full(3, 0.4)), max(0.5 - 0.4, -0.25 - -0.3), False),
    (PositionBounds(np.array([-0.3, -0.3, 0.2]), np.full(3, 0.5)), 0.2 - 0.1, False),  # C forced long ≥ 0.2
    (Locates(np.array([np.inf, 0.2, np.inf])), 0.3 - 0.2, False),
    (Locates(np.array([np.inf, 0.3, np.inf])), 0.0, True),
    (Turnover(np.array([0.4, -0.1, 0.1]), 0.25), (0.1 + 0.2 + 0.0) - 0.25, False),
    (VolatilityTarget(RISK, 0.05), vol(W) - 0.05, False),
    (VolatilityTarget(RISK, 1.0), 0.0, False),
    (VolatilityTarget(RISK, vol(W)), 0.0, True),
    (PositionBounds(np.array([-0.3, -0.3, 0.0]), np.array([0.6, 0.6, 0.6])), 0.0, True),  # B at its lower bound
    (PositionBounds(np.full(3, -0.4), np.full(3, 0.6)), 0.0, False),
    (Turnover(np.array([0.4, -0.1, 0.1]), 0.3), 0.0, True),
    (ReturnTarget(np.array([0.1, 0.05, 0.2]), 0.1), 0.1 - (0.05 - 0.015 + 0.02), False),
]


@pytest.mark.parametrize(("limit", "expected", "binds"), CASES)
def test_violation_and_binding_by_hand(limit, expected, binds):
    assert limit.violation(W) == pytest.approx(expected, abs=1e-15)
    if expected == 0:  # binding is a question about feasible books: on the edge, or strictly inside
        label = limit.binding(W, 1e-9)
        assert (label is not None) == binds and (label is None or label.startswith(limit.name))


@pytest.mark.parametrize(("limit", "expected", "binds"), CASES)
def test_cvxpy_form_agrees_with_the_numpy_check(limit, expected, binds):
    # The constraints (and caps) evaluated at W by cvxpy: the largest residual is the violation.
    n = 3
    z = cp.Variable(2 * n)
    u, v = z[:n], z[n:]
    w = u - v
    decision = Decision(u, v, w, 252 * cp.quad_form(w, COV))
    z.value = np.concatenate([np.maximum(W, 0), np.maximum(-W, 0)])
    residuals = [float(np.max(c.violation())) for c in limit.constraints(decision)]
    long_cap, short_cap = limit.caps(n)
    residuals += [float(np.max(np.maximum(W, 0) - long_cap)), float(np.max(np.maximum(-W, 0) - short_cap))]
    worst = max(0.0, *residuals)
    if isinstance(limit, VolatilityTarget):  # cvxpy's form is on variance: σ² − V², not σ − V
        assert worst == pytest.approx(max(0.0, vol(W) ** 2 - limit.target**2), abs=1e-15)
    else:
        assert worst == pytest.approx(expected, abs=1e-15)


def test_a_problem_reports_every_limit_by_name():
    betas = np.array([1.0, 1.0, 1.0])
    limits = Limits(gross=1.0, net=(-0.5, 0.5), beta=(betas, -1, 1), groups={"g": (["A"], -1, 1)},
                    max_short=np.array([np.inf, 0.2, np.inf]), turnover=2.0)  # fmt: skip
    problem = Problem("maxret", RISK, np.zeros(3), limits, vol_target=0.5, return_target=-1.0)
    assert list(violations(problem, W)) == [
        "net band", "position bounds", "gross", "beta band", "group g", "locates", "turnover",
        "volatility target", "return target",
    ]  # fmt: skip
    assert violations(problem, W)["locates"] == pytest.approx(0.1, abs=1e-15)


def _private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("astra"):
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    return found


@pytest.mark.parametrize("path", [*sorted((SRC / "optimize").glob("*.py")), SRC / "workflows" / "optimize.py"],
                         ids=lambda p: p.name)  # fmt: skip
def test_no_module_imports_another_modules_private_names(path):
    assert _private_imports(path) == []
