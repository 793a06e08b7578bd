"""Risk and return estimators, all in factored form.

Every covariance estimator returns a :class:`RiskModel` with ``Σ = F Fᵀ + diag(d)``
(daily units): ``F`` is N×k, ``d`` ≥ 0. The optimiser uses ``‖Fᵀw‖² + ‖√d·w‖²``, so
a problem on 5,000 names never forms the 5,000 × 5,000 matrix, and the form
exists when names outnumber observations (no Cholesky of a singular matrix).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from astra.config import check_number
from astra.errors import InputError
from astra.optimize.labels import by_ticker, square_by_ticker

__all__ = [
    "COVARIANCES",
    "NoisyMeanWarning",
    "RiskModel",
    "expected_returns",
    "risk_model",
]

COVARIANCES = ("sample", "lw", "ewma", "factor")
PERIODS_PER_YEAR = 252


class NoisyMeanWarning(UserWarning):
    """Historical mean returns are estimation noise more than signal."""


@dataclass(frozen=True, eq=False)
class RiskModel:
    """``Σ = F Fᵀ + diag(d)`` in daily units, for ``tickers``."""

    tickers: tuple[str, ...]
    factors: np.ndarray
    idiosyncratic: np.ndarray
    method: str
    observations: int

    @property
    def n(self) -> int:
        return len(self.tickers)

    def dense(self) -> np.ndarray:
        """The full N×N daily covariance (for small N, checks and baselines)."""
        return self.factors @ self.factors.T + np.diag(self.idiosyncratic)

    def variance(self, weights) -> float:
        """Daily variance of weights ``w``: ``‖Fᵀw‖² + Σ d w²``."""
        w = np.asarray(weights, dtype=float)
        return float(np.sum((self.factors.T @ w) ** 2) + np.sum(self.idiosyncratic * w**2))

    def volatility_ann(self, weights) -> float:
        """√(252 · wᵀΣw)."""
        return float(np.sqrt(PERIODS_PER_YEAR * self.variance(weights)))

    def vols_ann(self) -> np.ndarray:
        """Each name's annualised volatility."""
        return np.sqrt(PERIODS_PER_YEAR * (np.sum(self.factors**2, axis=1) + self.idiosyncratic))

    @classmethod
    def from_covariance(
        cls,
        cov,
        tickers=None,
        *,
        units: str = "daily",
        tolerance: float = 1e-10,
        observations: int = 0,
    ) -> RiskModel:
        """A risk model from a covariance matrix the user already has.

        Parameters
        ----------
        cov
            N×N covariance of simple returns: a DataFrame labelled by ticker on both axes (rows
            and columns are aligned by label), or an array in the order of ``tickers``.
        tickers
            The model's tickers, in order. With a DataFrame, the frame is reordered to them (a
            missing or extra ticker is an error); default: the frame's rows. Required for arrays.
        units
            ``daily`` (variances of daily returns, the unit of every ASTRA risk model) or
            ``annual`` (annualised, e.g. a risk vendor's file; divided by 252 here).
        tolerance
            Symmetry and positive semi-definiteness are checked relative to the largest entry
            (eigenvalue): asymmetry up to ``1e-8`` and negative eigenvalues down to
            ``−tolerance·λ_max`` are rounding; the latter are clipped to 0.
        observations
            Days behind the estimate, if known (0: unknown).

        Examples
        --------
        >>> cov = pd.DataFrame([[1e-4, 4e-4], [2.25e-4, 1e-4]], index=["B", "A"], columns=["A", "B"])
        >>> m = RiskModel.from_covariance(cov, ["A", "B"])
        >>> m.tickers, bool(np.allclose(m.dense(), [[2.25e-4, 1e-4], [1e-4, 4e-4]]))
        (('A', 'B'), True)
        """
        if units not in ("daily", "annual"):
            raise InputError(f"covariance units {units!r}: use daily or annual")
        check_number(tolerance, "tolerance", minimum=0, maximum=1e-2)
        if isinstance(cov, pd.DataFrame):
            matrix, names = square_by_ticker(cov, tickers, "covariance")
        else:
            matrix = np.asarray(cov, dtype=float)
            if tickers is None:
                raise InputError("covariance as an array needs its tickers (or give a DataFrame labelled by ticker)")
            names = tuple(str(t) for t in tickers)
            if matrix.shape != (len(names), len(names)):
                raise InputError(
                    f"covariance must be {len(names)}×{len(names)} for {len(names)} tickers, got {matrix.shape}"
                )
        if len(set(t.upper() for t in names)) != len(names):
            raise InputError("covariance tickers must be distinct")
        if matrix.size == 0 or not np.all(np.isfinite(matrix)):
            raise InputError("covariance must be a non-empty matrix of finite numbers")
        scale = float(np.abs(matrix).max())
        asymmetry = np.abs(matrix - matrix.T)
        if asymmetry.max() > 1e-8 * scale:
            i, j = np.unravel_index(int(np.argmax(asymmetry)), matrix.shape)
            raise InputError(
                f"covariance is not symmetric: [{names[i]}, {names[j]}] = {matrix[i, j]:.6g} but "
                f"[{names[j]}, {names[i]}] = {matrix[j, i]:.6g}"
            )
        values = np.linalg.eigvalsh((matrix + matrix.T) / 2)
        if values[0] < -tolerance * max(values[-1], 0.0) or values[-1] <= 0:
            raise InputError(
                f"covariance is not positive semi-definite: smallest eigenvalue {values[0]:.3g} "
                f"(largest {values[-1]:.3g}); repair it (e.g. clip negative eigenvalues) before use"
            )
        daily = matrix / PERIODS_PER_YEAR if units == "annual" else matrix
        return cls(names, _psd_factor(daily), np.zeros(len(names)), "user", int(observations))


def _matrix(returns) -> tuple[np.ndarray, tuple[str, ...]]:
    if isinstance(returns, pd.DataFrame):
        tickers = tuple(str(c) for c in returns.columns)
        values = returns.to_numpy(dtype=float)
    else:
        values = np.asarray(returns, dtype=float)
        tickers = tuple(f"A{i}" for i in range(values.shape[1]))
    if values.ndim != 2 or values.shape[0] < 2 or values.shape[1] < 1:
        raise InputError(f"returns must be a T×N table with T ≥ 2, got shape {values.shape}")
    bad = ~np.isfinite(values)
    if bad.any():
        cols = sorted({tickers[j] for j in np.nonzero(bad)[1]})
        raise InputError(
            f"returns contain {int(bad.sum())} NaN/inf values (in {', '.join(cols[:8])}); "
            "clean or drop those names, or shorten the window"
        )
    return values, tickers


def _psd_factor(cov: np.ndarray) -> np.ndarray:
    """``F`` with ``F Fᵀ = cov`` from an eigen decomposition, negative eigenvalues clipped."""
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    keep = vals > 1e-14 * max(vals.max(), 1e-300)
    return vecs[:, keep] * np.sqrt(vals[keep])


def _centred_factor(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Factor of the weighted covariance ``Σ_t w_t (x_t − μ)(x_t − μ)ᵀ`` (weights sum to 1, unbiased)."""
    mean = weights @ x
    correction = 1.0 - np.sum(weights**2)  # unbiased for weighted samples; (T−1)/T for equal weights
    centred = (x - mean) * np.sqrt(weights / correction)[:, None]
    if x.shape[0] >= x.shape[1]:
        return _psd_factor(centred.T @ centred)
    return centred.T  # N×T: Σ = Xcᵀ Xc exactly, no N×N matrix


def _top_factors(centred: np.ndarray, k: int) -> np.ndarray:
    """``V_k S_k`` of the thin SVD ``centred = U S Vᵀ``: the top ``k`` principal components.

    Only the ``k`` largest eigenpairs of the smaller Gram matrix are computed (LAPACK ``syevr``
    with an index range), several times faster than a full SVD at 500+ names.
    """
    from scipy.linalg import eigh

    t, n = centred.shape
    gram = centred.T @ centred if n <= t else centred @ centred.T
    size = gram.shape[0]
    vals, vecs = eigh(gram, subset_by_index=[size - k, size - 1])
    vals, vecs = np.maximum(vals[::-1], 0.0), vecs[:, ::-1]
    if n <= t:
        return vecs * np.sqrt(vals)  # eigenvectors of XᵀX are V; eigenvalues S²
    return centred.T @ vecs  # XᵀU = V S


def risk_model(returns, method: str = "lw", *, half_life: float = 63.0, factors: int = 8) -> RiskModel:
    """Estimate ``Σ`` from daily simple returns (T×N DataFrame) in factored form.

    Parameters
    ----------
    method
        ``sample`` (unbiased sample covariance), ``lw`` (Ledoit–Wolf shrinkage to a
        scaled identity), ``ewma`` (exponential weights, ``half_life`` in days) or
        ``factor`` (PCA: ``factors`` statistical factors + diagonal residual).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> r = pd.DataFrame(rng.normal(0, 0.01, (500, 3)), columns=["A", "B", "C"])
    >>> m = risk_model(r, "sample")
    >>> bool(np.allclose(m.dense(), r.cov().to_numpy()))
    True
    """
    x, tickers = _matrix(returns)
    t, n = x.shape
    if method == "sample":
        f, d = _centred_factor(x, np.full(t, 1.0 / t)), np.zeros(n)
    elif method == "lw":
        from sklearn.covariance import ledoit_wolf_shrinkage

        centred = x - x.mean(axis=0)
        shrinkage = float(ledoit_wolf_shrinkage(centred, assume_centered=True))
        sample = _centred_factor(x, np.full(t, 1.0 / t)) * np.sqrt((t - 1) / t)  # LW uses the 1/T covariance
        mu = float(np.sum(sample**2)) / n  # trace(S)/N
        f, d = np.sqrt(1.0 - shrinkage) * sample, np.full(n, shrinkage * mu)
    elif method == "ewma":
        if not 1 <= half_life <= 10 * t:
            raise InputError(f"half_life {half_life!r} days must be between 1 and {10 * t}")
        decay = 0.5 ** (1.0 / half_life)
        weights = decay ** np.arange(t - 1, -1, -1, dtype=float)
        f, d = _centred_factor(x, weights / weights.sum()), np.zeros(n)
    elif method == "factor":
        k = int(factors)
        if not 1 <= k < min(t, n + 1):
            raise InputError(f"factors {factors!r} must be between 1 and {min(t - 1, n)}")
        centred = (x - x.mean(axis=0)) / np.sqrt(t - 1)
        f = _top_factors(centred, k)
        total = np.sum(centred**2, axis=0)
        d = np.maximum(total - np.sum(f**2, axis=1), 1e-12 * total.max())
    else:
        raise InputError(f"covariance {method!r} is not one of {', '.join(COVARIANCES)}")
    return RiskModel(tickers, np.ascontiguousarray(f), d, method, t)


def expected_returns(returns, source: str = "zero", *, alphas=None) -> np.ndarray:
    """Annualised expected returns: ``zero``, ``hist`` (sample mean × 252, warns) or ``alphas``.

    ``alphas`` (annual decimals, e.g. from a CSV) is a Series or mapping by ticker covering
    exactly the names of ``returns``, or an array in their order.
    """
    x, tickers = _matrix(returns)
    if source == "zero":
        return np.zeros(len(tickers))
    if source == "hist":
        warnings.warn(
            "historical mean returns are mostly noise (the standard error of a 1-year mean is about the "
            "volatility itself); treat mean-variance weights built on them with suspicion",
            NoisyMeanWarning,
            stacklevel=2,
        )
        return x.mean(axis=0) * PERIODS_PER_YEAR
    if source == "alphas":
        if alphas is None:
            raise InputError("expected returns 'alphas' need an alpha per ticker")
        values = by_ticker(alphas, tickers, "alphas")
        if not np.all(np.isfinite(values)) or np.abs(values).max() > 5:
            raise InputError("alphas must be finite annual decimals (0.05 for 5 %), none beyond ±500 %")
        return values
    raise InputError(f"expected returns {source!r} is not one of zero, hist, alphas")
