"""Covariance factors for the risk engine: ``Σ = F Fᵀ + diag(s²)`` from data or any estimator.

The sample covariance is factored straight from the data by a thin SVD (exact, any N
versus T, never a Cholesky that fails when names outnumber days); Ledoit–Wolf, EWMA
and the statistical factor model come from :func:`astra.optimize.risk_model`, the
estimators the optimiser uses, so both see the same risk. A factor model's draws cost
``k + N`` normals and ``N·k`` multiply-adds per day instead of ``N²``.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from astra.errors import InputError
from astra.risk._checks import as_returns

__all__ = ["COVARIANCE_MODELS", "covariance_factor", "covariance_model", "fit_t_dof", "returns_factor"]

COVARIANCE_MODELS = ("sample", "lw", "ewma", "factor")
_MAX_DOF = 200.0


def covariance_factor(cov, *, rtol: float = 1e-12) -> np.ndarray:
    """Factor ``L`` (``N × k``) with ``Σ = L Lᵀ`` from a symmetric eigen decomposition.

    Negative eigenvalues (numerical noise or an indefinite estimate) are clipped
    to zero and null directions dropped, so ``k = rank(Σ)``.  Works for singular
    matrices (more names than observations), where a Cholesky factor fails.

    Parameters
    ----------
    cov : array_like, shape (N, N)
        Covariance of daily returns (return² units).
    rtol : float
        Eigenvalues below ``rtol × λ_max`` are treated as zero.

    Returns
    -------
    numpy.ndarray, shape (N, k)

    Examples
    --------
    >>> L = covariance_factor([[1.0, 1.0], [1.0, 1.0]])   # singular: Cholesky fails
    >>> L.shape, bool(np.allclose(L @ L.T, 1.0))
    ((2, 1), True)
    """
    s = np.asarray(cov, dtype=float)
    if s.ndim != 2 or s.shape[0] != s.shape[1]:
        raise InputError(f"covariance must be square, got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise InputError("covariance contains NaN/inf values")
    vals, vecs = np.linalg.eigh(0.5 * (s + s.T))
    keep = vals > rtol * max(vals.max(), 0.0) if vals.max() > 0 else np.zeros(vals.shape, bool)
    return vecs[:, keep] * np.sqrt(vals[keep])


def returns_factor(returns, *, demean: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Sample covariance factor straight from the data via a thin SVD.

    With ``X`` the (de-meaned) ``T × N`` returns, ``X = U S Vᵀ`` gives
    ``Σ = Xᵀ X / (T − 1) = L Lᵀ`` with ``L = V S / √(T − 1)``; ``k ≤ min(T, N)``
    columns, so ``N > T`` costs nothing extra and never fails.

    Returns
    -------
    factor : numpy.ndarray, shape (N, k)
    mean : numpy.ndarray, shape (N,)
        Sample mean of daily returns.

    Examples
    --------
    >>> r = np.random.default_rng(0).normal(0, 0.01, (30, 50))   # more names than days
    >>> f, _ = returns_factor(r)
    >>> f.shape[1] <= 29, bool(np.allclose(f @ f.T, np.cov(r, rowvar=False)))
    (True, True)
    """
    r, _, _ = as_returns(returns)
    mean = r.mean(axis=0)
    x = r - mean if demean else r
    _, sing, vt = np.linalg.svd(x, full_matrices=False)
    keep = sing > 1e-12 * max(sing.max(), 1e-300)
    return (vt[keep].T * sing[keep]) / np.sqrt(r.shape[0] - 1), mean


def covariance_model(
    returns, covariance: str = "sample", *, factors: int = 8, half_life: float = 63.0
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """``(F, s, μ)`` with ``Σ = F Fᵀ + diag(s²)`` (``s`` None when there is no specific part).

    ``covariance`` is ``"sample"`` (exact SVD factor of the data, :func:`returns_factor`)
    or ``"lw"``/``"ewma"``/``"factor"``, estimated by :func:`astra.optimize.risk_model`
    (``factors`` PCA factors; ``half_life`` days for EWMA), the optimiser's own estimators.

    Examples
    --------
    >>> r = np.random.default_rng(0).normal(0, 0.01, (500, 30))
    >>> f, s, _ = covariance_model(r, "factor", factors=3)
    >>> f.shape, s.shape
    ((30, 3), (30,))
    """
    if covariance == "sample":
        factor, mean = returns_factor(returns)
        return factor, None, mean
    if covariance not in COVARIANCE_MODELS:
        raise InputError(f"unknown covariance model {covariance!r}; use one of {', '.join(COVARIANCE_MODELS)}")
    from astra.optimize.estimators import risk_model  # imports cvxpy (~1 s) via astra.optimize

    r, _, _ = as_returns(returns)
    model = risk_model(r, covariance, factors=factors, half_life=half_life)
    specific = np.sqrt(model.idiosyncratic) if np.any(model.idiosyncratic > 0) else None
    return model.factors, specific, r.mean(axis=0)


def fit_t_dof(x, *, method: str = "mle") -> float:
    """Degrees of freedom ν of a Student-t fitted to a univariate series (e.g. portfolio P&L).

    ``"mle"`` maximises the likelihood of a *variance-matched* Student-t over ν
    alone (location = sample mean, scale = sample sd·√((ν−2)/ν)), a 1-D bounded
    search over ν ∈ (2.05, 200).  ``"moments"`` inverts the excess kurtosis
    κ = 6/(ν − 4), so ν = 4 + 6/κ (ν = 200, i.e. ≈ normal, when κ ≤ 0.03).

    Examples
    --------
    >>> x = stats.t.rvs(5, size=20_000, random_state=1)
    >>> 4.0 < fit_t_dof(x) < 6.5
    True
    """
    x = np.asarray(x, dtype=float).ravel()
    if x.size < 30 or not np.all(np.isfinite(x)):
        raise InputError(f"fitting ν needs at least 30 finite observations, got {x.size}")
    mu, sd = x.mean(), x.std(ddof=1)
    if not sd > 0:
        raise InputError("fitting ν needs a series that varies (the P&L history is constant)")
    if method == "moments":
        kurt = stats.kurtosis(x, fisher=True, bias=False)
        return float(min(_MAX_DOF, 4.0 + 6.0 / kurt)) if kurt > 6.0 / (_MAX_DOF - 4.0) else _MAX_DOF
    if method != "mle":
        raise InputError(f"unknown dof method {method!r}; use 'mle' or 'moments'")

    def nll(nu: float) -> float:
        return -stats.t.logpdf(x, nu, loc=mu, scale=sd * np.sqrt((nu - 2.0) / nu)).sum()

    res = optimize.minimize_scalar(nll, bounds=(2.05, _MAX_DOF), method="bounded")
    return float(res.x)
