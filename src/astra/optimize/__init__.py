"""Funding-aware long/short portfolio construction under prime-brokerage limits.

* :func:`risk_model` / :func:`expected_returns` / :meth:`RiskModel.from_covariance`: risk models in
  factored form, estimated or the user's own;
* :class:`Problem` with :class:`Limits` and :class:`Costs`: what to optimise, inputs as arrays
  or pandas objects labelled by ticker (:mod:`astra.optimize.labels`);
* :mod:`astra.optimize.limits`: each limit once (its cvxpy form, numpy check, binding test);
* :func:`solve`, :func:`frontier`: solve (checked, infeasibility explained) and sweep γ.
"""

from astra.optimize.estimators import COVARIANCES, NoisyMeanWarning, RiskModel, expected_returns, risk_model
from astra.optimize.problems import (
    DEFAULT_TC_BPS,
    KINDS,
    Compiled,
    Costs,
    Limits,
    Problem,
    carry_expression,
    check_scalars,
    compile_problem,
    default_net_band,
)
from astra.optimize.solve import OptimizeResult, binding, frontier, solve, violations

__all__ = [
    "COVARIANCES",
    "DEFAULT_TC_BPS",
    "KINDS",
    "Compiled",
    "Costs",
    "Limits",
    "NoisyMeanWarning",
    "OptimizeResult",
    "Problem",
    "RiskModel",
    "binding",
    "carry_expression",
    "check_scalars",
    "compile_problem",
    "default_net_band",
    "expected_returns",
    "frontier",
    "risk_model",
    "solve",
    "violations",
]
