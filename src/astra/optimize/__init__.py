"""Funding-aware long/short portfolio construction under prime-brokerage limits.

* :func:`risk_model` / :func:`expected_returns`: estimators in factored form;
* :class:`Problem` with :class:`Limits` and :class:`Costs`: what to optimise;
* :func:`solve`, :func:`frontier`: solve (checked, infeasibility explained) and sweep γ.
"""

from astra.optimize.estimators import COVARIANCES, NoisyMeanWarning, RiskModel, expected_returns, risk_model
from astra.optimize.problems import KINDS, Compiled, Costs, Limits, Problem, carry_expression, compile_problem
from astra.optimize.solve import OptimizeResult, frontier, solve, violations

__all__ = [
    "COVARIANCES",
    "KINDS",
    "Compiled",
    "Costs",
    "Limits",
    "NoisyMeanWarning",
    "OptimizeResult",
    "Problem",
    "RiskModel",
    "carry_expression",
    "compile_problem",
    "expected_returns",
    "frontier",
    "risk_model",
    "solve",
    "violations",
]
