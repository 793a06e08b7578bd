"""Standard errors of fitted Kalman noise parameters, from the observed information.

The negative Hessian of the full (not concentrated) log-likelihood at the maximum, by
central differences in the optimiser's own coordinates (log variances, logit φ); its
inverse estimates the covariance of those coordinates (the observed information,
Harvey 1989 §3.4; Durbin & Koopman 2012 §7.3), and the delta method maps it to the
reported parameters: ``se(q) = q · se(log q)``, ``se(φ) = φ (1 − φ) · se(logit φ)``.

A parameter the search left at a bound (a variance pinned at ~0, φ at its cap) is not
an interior maximum: its standard error is not defined and is reported as NaN, the
others conditional on it. So are all of them when the Hessian is not negative definite.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["LOG", "LOGIT", "delta_std_errors", "numerical_hessian"]

LOG = "log"  # coordinate log p: dp/dθ = p
LOGIT = "logit"  # coordinate log(p / (1 − p)): dp/dθ = p (1 − p)
_STEP = 1e-3  # in log / logit units: truncation error ~1e-6 relative, rounding ~1e-16·|ℓ|/step²


def numerical_hessian(func: Callable[[np.ndarray], float], theta, step: float = _STEP) -> np.ndarray:
    """Hessian of ``func`` at ``theta`` by central differences (``2k + 4·k(k−1)/2 + 1`` evaluations)."""
    theta = np.asarray(theta, dtype=float)
    k = theta.size
    centre = func(theta)
    hess = np.empty((k, k))
    unit = np.eye(k) * step
    for i in range(k):
        hess[i, i] = (func(theta + unit[i]) - 2.0 * centre + func(theta - unit[i])) / step**2
        for j in range(i):
            corners = (
                func(theta + unit[i] + unit[j]) - func(theta + unit[i] - unit[j])
                - func(theta - unit[i] + unit[j]) + func(theta - unit[i] - unit[j])
            )  # fmt: skip
            hess[i, j] = hess[j, i] = corners / (4.0 * step**2)
    return hess


def delta_std_errors(
    loglik: Callable[[np.ndarray], float],
    values: Sequence[float],
    kinds: Sequence[str],
    free: Sequence[bool],
) -> np.ndarray:
    """Standard errors of ``values`` (the MLE, natural units) from the observed information.

    ``loglik`` takes the coordinates (``log``/``logit`` of each value, per ``kinds``) of *all*
    parameters; only those with ``free`` true are differentiated. NaN where not defined.
    """
    values = np.asarray(values, dtype=float)
    pairs = list(zip(values, kinds, strict=True))
    theta = np.array([math.log(v) if kind == LOG else math.log(v / (1.0 - v)) for v, kind in pairs])
    jacobian = np.array([v if kind == LOG else v * (1.0 - v) for v, kind in pairs])
    free_idx = np.flatnonzero(np.asarray(free, dtype=bool))
    out = np.full(values.size, np.nan)
    if free_idx.size == 0:
        return out

    def sub(local: np.ndarray) -> float:
        full = theta.copy()
        full[free_idx] = local
        return loglik(full)

    information = -numerical_hessian(sub, theta[free_idx])
    try:
        np.linalg.cholesky(information)  # an interior maximum has a positive definite information
    except np.linalg.LinAlgError:
        return out
    cov = np.linalg.inv(information)
    out[free_idx] = jacobian[free_idx] * np.sqrt(np.diag(cov))
    return out
