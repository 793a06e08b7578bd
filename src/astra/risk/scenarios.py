"""Scenario generation for the risk engine: factors, generators, chunked P&L.

Everything here works on arrays: ``exposures`` is the signed USD market value
per name (shares × price, shape ``(N,)``) and ``R`` a ``(T, N)`` matrix of
simple daily returns.  A :class:`ScenarioModel` describes *how* daily returns
are drawn; :func:`sample_returns` turns it into ``(S, N)`` horizon returns and
:func:`iter_pnl_chunks` / :func:`simulate_pnl` into portfolio P&L, chunk by
chunk, so memory stays bounded (10⁶ scenarios × 500 names never materialise).

Horizon returns are buy-and-hold: an ``h``-day scenario is a path of ``h``
daily draws compounded per name, ``Π_t (1 + r_t) − 1``.

Covariance: the sample covariance by default (an exact SVD factor of the data,
any N vs T), or any estimator of :func:`astra.optimize.risk_model` — Ledoit–Wolf,
EWMA, or a statistical factor model ``Σ = F Fᵀ + diag(s²)`` whose draws cost
``k + N`` normals and ``N·k`` multiply-adds per day instead of ``N²`` (the model the
optimiser uses, so both see the same risk).

Reproducibility: chunk ``j`` draws from its own stream, an SFC64 generator on the
``j``-th child of ``SeedSequence(seed)``; chunk sizes are a deterministic
function of the model, ``N`` and the horizon, so the same inputs and seed give the
same numbers however many threads evaluate the chunks.

Antithetic variates (``antithetic=True``, normal and t models): each chunk's second
half is the first half's draws negated, so every scenario still has the model's
distribution but only half the random numbers are drawn; standard errors are then
computed over the independent pairs (see :func:`astra.risk.tail_statistics`).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from astra.errors import InputError

__all__ = [
    "COVARIANCE_MODELS",
    "ScenarioModel",
    "bootstrap_model",
    "covariance_factor",
    "covariance_model",
    "default_workers",
    "fhs_model",
    "fit_t_dof",
    "iter_pnl_chunks",
    "normal_model",
    "returns_factor",
    "sample_returns",
    "simulate_pnl",
    "t_model",
]

_CHUNK_BUDGET_BYTES = 16 * 2**20
COVARIANCE_MODELS = ("sample", "lw", "ewma", "factor")
_MAX_DOF = 200.0


# --------------------------------------------------------------------------- validation (shared by risk modules)
def _as_exposures(exposures) -> np.ndarray:
    e = np.asarray(exposures, dtype=float)
    if e.ndim != 1 or e.size == 0:
        raise InputError(f"exposures must be a non-empty 1-D array of USD market values, got shape {e.shape}")
    if not np.all(np.isfinite(e)):
        raise InputError(f"exposures contain non-finite values at positions {np.flatnonzero(~np.isfinite(e))[:5]}")
    return e


def _as_returns(returns, n_names: int | None = None) -> tuple[np.ndarray, object, object]:
    """Convert returns once at the edge: ``(R, index or None, columns or None)``."""
    index = getattr(returns, "index", None)
    columns = getattr(returns, "columns", None)
    r = np.asarray(returns, dtype=float)
    if r.ndim == 1:
        r = r[:, None]
    if r.ndim != 2 or r.shape[0] < 2:
        raise InputError(f"returns must be a (T, N) matrix with T >= 2 rows, got shape {r.shape}")
    if n_names is not None and r.shape[1] != n_names:
        raise InputError(f"returns have {r.shape[1]} columns but exposures have {n_names} names (shape mismatch)")
    bad = ~np.isfinite(r)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(
            f"returns contain {int(bad.sum())} NaN/inf values (first at row {row}, column {col}); "
            "clean or drop them before computing risk"
        )
    if (r <= -1.0).any():
        raise InputError(f"returns must be simple returns > -1, got a minimum of {r.min()!r}")
    return r, index, columns


def _check_level(level: float) -> float:
    if not 0.5 < float(level) < 1.0:
        raise InputError(f"level {level!r} must lie in (0.5, 1), e.g. 0.99")
    return float(level)


MAX_HORIZON = 252  # one trading year: beyond it daily-data VaR says little and paths get huge


def _check_horizon(horizon: int) -> int:
    if int(horizon) != horizon or horizon < 1:
        raise InputError(f"horizon {horizon!r} must be an integer number of days >= 1")
    if horizon > MAX_HORIZON:
        raise InputError(f"horizon {horizon} days is beyond one trading year ({MAX_HORIZON}); "
                         "VaR that far out is not meaningful from daily returns")  # fmt: skip
    return int(horizon)


def _horizon_returns_history(r: np.ndarray, horizon: int) -> np.ndarray:
    """Overlapping compounded ``horizon``-day returns of a ``(T, N)`` history, shape ``(T - h + 1, N)``."""
    if horizon == 1:
        return r
    if horizon > r.shape[0]:
        raise InputError(f"horizon {horizon} days exceeds the {r.shape[0]} rows of return history")
    cum = np.vstack([np.zeros((1, r.shape[1])), np.cumsum(np.log1p(r), axis=0)])
    return np.expm1(cum[horizon:] - cum[:-horizon])


# --------------------------------------------------------------------------- covariance factor
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
    """
    r, _, _ = _as_returns(returns)
    mean = r.mean(axis=0)
    x = r - mean if demean else r
    _, sing, vt = np.linalg.svd(x, full_matrices=False)
    keep = sing > 1e-12 * max(sing.max(), 1e-300)
    return (vt[keep].T * sing[keep]) / np.sqrt(r.shape[0] - 1), mean


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
    if method == "moments":
        kurt = stats.kurtosis(x, fisher=True, bias=False)
        return float(min(_MAX_DOF, 4.0 + 6.0 / kurt)) if kurt > 6.0 / (_MAX_DOF - 4.0) else _MAX_DOF
    if method != "mle":
        raise InputError(f"unknown dof method {method!r}; use 'mle' or 'moments'")

    def nll(nu: float) -> float:
        return -stats.t.logpdf(x, nu, loc=mu, scale=sd * np.sqrt((nu - 2.0) / nu)).sum()

    res = optimize.minimize_scalar(nll, bounds=(2.05, _MAX_DOF), method="bounded")
    return float(res.x)


_LOCAL = threading.local()
_BLOCK_BYTES = 512 * 2**10  # per work array in the fused antithetic kernel (L2-sized)


def _scratch(name: str, rows: int, cols: int) -> np.ndarray:
    """A ``(rows, cols)`` work array owned by the calling thread, reused from chunk to chunk."""
    buffers = getattr(_LOCAL, "buffers", None)
    if buffers is None:
        buffers = _LOCAL.buffers = {}
    have = buffers.get(name)
    if have is None or have.shape[0] < rows or have.shape[1] != cols:
        have = buffers[name] = np.empty((rows, cols))
    return have[:rows]


# --------------------------------------------------------------------------- models
@dataclass(frozen=True, eq=False)
class ScenarioModel:
    """How daily return scenarios are drawn.  Build with the ``*_model`` functions.

    ``kind`` is ``"normal"``/``"t"`` (``mean`` + ``factor``, ``dof``),
    ``"bootstrap"`` (``history`` rows, ``block_length``) or ``"fhs"``
    (``history`` holds devolatilised residuals; ``next_var`` today's one-day
    variance forecast; ``long_run_var``/``persistence`` give the multi-day path).
    ``log_returns`` marks a model of log returns: a draw ``x`` is the simple return
    ``expm1(x)`` (see :func:`lognormal_horizon_model`). ``specific`` (normal/t) is
    the sd of each name's own independent part: ``Σ = F Fᵀ + diag(specific²)``.
    """

    kind: str
    n_names: int
    mean: np.ndarray | None = None
    factor: np.ndarray | None = None
    dof: float | None = None
    history: np.ndarray | None = None
    block_length: float = 1.0
    next_var: np.ndarray | None = None
    long_run_var: np.ndarray | None = None
    persistence: np.ndarray | None = None
    log_returns: bool = False
    specific: np.ndarray | None = None

    # latent draws: factor models -> (c, h, k [+ N]) floats; row models -> (c, h) row indices
    def _latent_width(self) -> int:
        if self.kind not in ("normal", "t"):
            return 1
        return self.factor.shape[1] + (self.n_names if self.specific is not None else 0)

    def _chunk_size(self, horizon: int) -> int:
        per_scenario = 8 * (horizon * self._latent_width() + 2 * self.n_names + 2)
        return int(np.clip(_CHUNK_BUDGET_BYTES // per_scenario, 1_000, 1_000_000))

    def _draw(self, rng: np.random.Generator, size: int, horizon: int, antithetic: bool = False) -> np.ndarray:
        if self.kind in ("normal", "t"):
            # drawn day-major so each day's (size, width) block is contiguous for the matmul
            if antithetic and size % 2:
                raise InputError(f"antithetic chunks need an even size, got {size}")
            half = size // 2 if antithetic else size
            z = np.empty((horizon, size, self._latent_width()))
            for day in range(horizon) if antithetic else [slice(None)]:
                rng.standard_normal(out=z[day, :half])  # a contiguous block per call
            if self.kind == "t":  # variance-matched multivariate t: Cov = Σ
                w = rng.chisquare(self.dof, size=(horizon, half, 1))
                z[:, :half] *= np.sqrt((self.dof - 2.0) / w)
            if antithetic:  # the twin of scenario j is j + size/2: the same draw negated
                np.negative(z[:, :half], out=z[:, half:])
            return z.transpose(1, 0, 2)
        if antithetic:
            raise InputError("antithetic variates need a normal or t model, not resampled history")
        n_rows = self.history.shape[0]
        idx = np.empty((size, horizon), dtype=np.int64)
        idx[:, 0] = rng.integers(0, n_rows, size)
        for j in range(1, horizon):  # stationary bootstrap: new block with prob 1/b, else next row (circular)
            jump = rng.random(size) < 1.0 / self.block_length
            idx[:, j] = np.where(jump, rng.integers(0, n_rows, size), (idx[:, j - 1] + 1) % n_rows)
        return idx

    def _daily_vol(self, horizon: int) -> np.ndarray:
        """FHS volatility path ``(h, N)``: σ²_{T+j} = σ̄² + φ^{j−1}(σ²_{T+1} − σ̄²)."""
        decay = self.persistence[None, :] ** np.arange(horizon)[:, None]
        return np.sqrt(self.long_run_var + decay * (self.next_var - self.long_run_var))

    def _day_returns(self, latent: np.ndarray, day: int, vol: np.ndarray | None) -> np.ndarray:
        if self.kind in ("normal", "t"):
            z, k = latent[:, day, :], self.factor.shape[1]
            x = z[:, :k] @ self.factor.T
            if self.specific is not None:
                x += z[:, k:] * self.specific
            x += self.mean
            return x
        rows = self.history[latent[:, day]]
        return rows if self.kind == "bootstrap" else rows * vol[day]

    def horizon_returns(self, latent: np.ndarray) -> np.ndarray:
        """Compounded horizon returns ``(c, N)`` of latent draws from :meth:`_draw`."""
        horizon = latent.shape[1]
        vol = self._daily_vol(horizon) if self.kind == "fhs" else None
        if self.log_returns:  # log returns add up; one exp at the end
            total = self._day_returns(latent, 0, vol)
            for day in range(1, horizon):
                total += self._day_returns(latent, day, vol)
            return np.expm1(total, out=total)
        growth = 1.0 + self._day_returns(latent, 0, vol)
        for day in range(1, horizon):
            growth *= 1.0 + self._day_returns(latent, day, vol)
        return growth - 1.0

    def _antithetic_lognormal_pnl(self, z: np.ndarray, terms: dict, rng: np.random.Generator) -> np.ndarray:
        """P&L of the draws ``z`` (first halves, ``(half, width)``) and of their twins ``−z``.

        ``z`` is a buffer filled from ``rng`` block by block just before each block is used
        (the same numbers as filling it at once: a generator's stream does not depend on how
        its draws are split between calls).

        Twins are ``x = μ ± u``: ``Σ e_i(exp(μ_i ± u_i) − 1) = (e·exp(μ))·exp(±u) − Σe``, so one
        ``exp`` and one reciprocal serve both, in per-thread scratch buffers (``terms`` from
        :meth:`_pnl_terms`)."""
        weighted, total = terms["weighted"], terms["total"]
        half, k = z.shape[0], self.factor.shape[1]
        rows = max(16, _BLOCK_BYTES // (8 * self.n_names))  # blocks that stay in cache across the passes
        u_all, tmp_all = _scratch("u", min(rows, half), self.n_names), _scratch("tmp", min(rows, half), self.n_names)
        out = np.empty(2 * half)
        for lo in range(0, half, rows):
            hi = min(lo + rows, half)
            u, block = u_all[: hi - lo], z[lo:hi]
            rng.standard_normal(out=block)
            np.matmul(block[:, :k], self.factor.T, out=u)
            if self.specific is not None:
                u += np.multiply(block[:, k:], self.specific, out=tmp_all[: hi - lo])
            np.exp(u, out=u)
            np.matmul(u, weighted, out=out[lo:hi])
            np.matmul(np.reciprocal(u, out=u), weighted, out=out[half + lo : half + hi])
        out -= total
        return out

    def _one_lognormal_draw(self, horizon: int) -> bool:
        return self.log_returns and horizon == 1 and self.kind == "normal"

    def _pnl_terms(self, exposures: np.ndarray, horizon: int, fused: bool) -> dict:
        """What every chunk's P&L needs from the exposures, computed once before threads share it.

        ``fused``: the antithetic lognormal kernel's ``e·exp(μ)`` and ``Σe``. One linear day
        (no compounding): the exposures projected on the latent draws, ``Lᵀe`` and ``μ·e``
        (factor models) or each historical row's P&L (bootstrap, FHS) — the same numbers as
        going through per-name returns, at ``O(k)`` per scenario.
        """
        if fused:
            return {"weighted": exposures * np.exp(self.mean), "total": float(exposures.sum())}
        if horizon > 1 or self.log_returns:  # compounding is non-linear: go through per-name returns
            return {"exposures": exposures}
        if self.kind in ("normal", "t"):
            proj = self.factor.T @ exposures
            if self.specific is not None:
                proj = np.concatenate([proj, self.specific * exposures])
            return {"beta": proj, "mu": float(self.mean @ exposures)}
        scale = self._daily_vol(1)[0] if self.kind == "fhs" else 1.0
        return {"row_pnl": self.history @ (exposures * scale)}

    def _pnl(self, latent: np.ndarray, terms: dict) -> np.ndarray:
        if "exposures" in terms:
            return self.horizon_returns(latent) @ terms["exposures"]
        if "beta" in terms:
            return terms["mu"] + latent[:, 0, :] @ terms["beta"]
        return terms["row_pnl"][latent[:, 0]]


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

    r, _, _ = _as_returns(returns)
    model = risk_model(r, covariance, factors=factors, half_life=half_life)
    specific = np.sqrt(model.idiosyncratic) if np.any(model.idiosyncratic > 0) else None
    return model.factors, specific, r.mean(axis=0)


def normal_model(
    returns, *, include_mean: bool = False, covariance: str = "sample", factors: int = 8, half_life: float = 63.0
) -> ScenarioModel:
    """Multivariate normal with a covariance estimated from ``returns`` (:func:`covariance_model`).

    ``include_mean=False`` (default) draws zero-mean returns, the usual choice
    for short horizons where the sample mean is noise.
    """
    factor, specific, mean = covariance_model(returns, covariance, factors=factors, half_life=half_life)
    mean = mean if include_mean else np.zeros_like(mean)
    return ScenarioModel("normal", factor.shape[0], mean, factor, specific=specific)


def lognormal_horizon_model(returns, horizon: int, *, include_mean: bool = False, **covariance) -> ScenarioModel:
    """Buy-and-hold over ``horizon`` days with i.i.d. multivariate normal daily **log** returns.

    The h-day log return is the sum of the daily ones, ``N(h·μ, h·Σ)`` exactly, so one draw per
    scenario gives the compounded path's end point (geometric Brownian motion): h times fewer
    random numbers than compounding h simple-return draws, and never a price below zero. The
    model of daily returns differs from :func:`normal_model`'s (log instead of simple returns),
    which is the choice the caller makes by asking for it.

    Examples
    --------
    >>> r = np.random.default_rng(0).normal(0, 0.01, (500, 2))
    >>> m = lognormal_horizon_model(r, 10)
    >>> bool(np.allclose(m.factor @ m.factor.T, 10 * np.cov(np.log1p(r), rowvar=False)))
    True
    """
    logs = np.log1p(np.asarray(returns, dtype=float))
    base = normal_model(logs, include_mean=include_mean, **covariance)
    h = _check_horizon(horizon)
    root = np.sqrt(h)
    specific = None if base.specific is None else base.specific * root
    return ScenarioModel("normal", base.n_names, base.mean * h, base.factor * root, log_returns=True,
                         specific=specific)  # fmt: skip


def t_model(
    returns,
    *,
    dof: float | None = None,
    exposures=None,
    dof_method: str = "mle",
    include_mean: bool = False,
    **covariance,
) -> ScenarioModel:
    """Variance-matched multivariate Student-t: ``r = μ + √((ν−2)/W)·L z``, ``W ~ χ²_ν``.

    ``Cov(r) = Σ`` (the sample covariance).  ν is ``dof`` if given (> 2), else
    fitted by :func:`fit_t_dof` (``dof_method`` ``"mle"``/``"moments"``) on the
    historical portfolio P&L ``R @ exposures`` (or on the equal-weight average
    when ``exposures`` is None).
    """
    r, _, _ = _as_returns(returns)
    if dof is None:
        weights = np.full(r.shape[1], 1.0 / r.shape[1]) if exposures is None else _as_exposures(exposures)
        dof = fit_t_dof(r @ weights, method=dof_method)
    if not dof > 2.0:
        raise InputError(f"Student-t dof {dof!r} must exceed 2 for a finite covariance")
    base = normal_model(r, include_mean=include_mean, **covariance)
    return ScenarioModel("t", base.n_names, base.mean, base.factor, dof=float(dof), specific=base.specific)


def bootstrap_model(returns, *, block_length: float = 1.0) -> ScenarioModel:
    """Resample historical rows (all names together, keeping cross-correlation).

    ``block_length = 1`` is the iid bootstrap; ``b > 1`` the stationary bootstrap
    of Politis–Romano (blocks of geometric length, mean ``b`` days), which only
    matters for multi-day paths.
    """
    r, _, _ = _as_returns(returns)
    if not block_length >= 1.0:
        raise InputError(f"block_length {block_length!r} must be >= 1 day")
    return ScenarioModel("bootstrap", r.shape[1], history=r, block_length=float(block_length))


def _ewma_filter(r: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """EWMA variances σ²_t (known at t−1) for every row, and the forecast σ²_{T+1}."""
    var = np.empty_like(r)
    var[0] = np.mean(r[: min(30, r.shape[0])] ** 2, axis=0)
    for t in range(1, r.shape[0]):
        var[t] = lam * var[t - 1] + (1.0 - lam) * r[t - 1] ** 2
    return var, lam * var[-1] + (1.0 - lam) * r[-1] ** 2


def _garch_filter(x: np.ndarray) -> tuple[np.ndarray, float, float, float] | None:
    """Zero-mean GARCH(1,1) of one series via ``arch``: (σ²_t, σ²_{T+1}, σ̄², α+β), None if not converged."""
    from arch import arch_model
    from arch.utility.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # checked via convergence_flag below
        res = arch_model(100.0 * x, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
    omega, alpha, beta = (float(res.params[k]) for k in ("omega", "alpha[1]", "beta[1]"))
    if res.convergence_flag != 0 or alpha + beta >= 1.0:
        return None
    cond_var = (res.conditional_volatility / 100.0) ** 2
    next_var = (omega + alpha * (100.0 * x[-1]) ** 2 + beta * 1e4 * cond_var[-1]) / 1e4  # arch works in %²
    return cond_var, next_var, omega / (1.0 - alpha - beta) / 1e4, alpha + beta


def fhs_model(returns, *, vol_model: str = "ewma", lam: float = 0.94) -> ScenarioModel:
    """Filtered historical simulation: devolatilised residuals rescaled by today's volatility.

    Each name is filtered on its own (zero mean): ``z_t = r_t / σ_t`` with
    ``σ_t`` the one-day-ahead EWMA (``λ = lam``, RiskMetrics 0.94) or
    GARCH(1,1) (fitted with ``arch``; a name whose fit does not converge or is
    non-stationary falls back to EWMA) volatility.  Scenarios draw whole rows of
    ``z`` and multiply by the forecast ``σ_{T+j}`` — flat for EWMA, mean
    reverting ``σ̄² + (α+β)^{j−1}(σ²_{T+1} − σ̄²)`` for GARCH.
    """
    r, _, _ = _as_returns(returns)
    if vol_model not in ("ewma", "garch"):
        raise InputError(f"unknown vol_model {vol_model!r}; use 'ewma' or 'garch'")
    if not 0.0 < lam < 1.0:
        raise InputError(f"EWMA decay lam {lam!r} must lie in (0, 1)")
    cond_var, next_var = _ewma_filter(r, lam)
    long_run, persistence = next_var.copy(), np.ones(r.shape[1])
    if vol_model == "garch":
        for i in range(r.shape[1]):
            fit = _garch_filter(r[:, i])
            if fit is not None:
                cond_var[:, i], next_var[i], long_run[i], persistence[i] = fit
    resid = r / np.sqrt(np.maximum(cond_var, 1e-20))
    return ScenarioModel(
        "fhs", r.shape[1], history=resid, next_var=next_var, long_run_var=long_run, persistence=persistence
    )


# --------------------------------------------------------------------------- drivers
def default_workers() -> int:
    """Threads for scenario chunks: the CPUs this process may use (``ASTRA_THREADS`` overrides)."""
    env = os.environ.get("ASTRA_THREADS")
    if env:
        if not env.isdigit() or int(env) < 1:
            raise InputError(f"ASTRA_THREADS={env!r} must be a positive integer")
        return int(env)
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _streams(seed, count: int) -> list[np.random.Generator]:
    """``count`` independent generators: SFC64 (≈ 20 % faster normals than PCG64) on spawned seeds."""
    if isinstance(seed, np.random.Generator):
        root = seed.bit_generator.seed_seq
    elif isinstance(seed, np.random.SeedSequence):
        root = seed
    else:
        root = np.random.SeedSequence(seed)
    return [np.random.Generator(np.random.SFC64(child)) for child in root.spawn(count)]


def _plan(model: ScenarioModel, scenarios: int, horizon: int, seed, chunk_size: int | None, antithetic: bool):
    """``[(size, generator)]`` per chunk: chunk ``j`` draws from the ``j``-th spawned stream."""
    if int(scenarios) != scenarios or scenarios < 1:
        raise InputError(f"scenarios {scenarios!r} must be a positive integer")
    if antithetic and scenarios % 2:
        raise InputError(f"antithetic variates come in pairs: use an even number of scenarios, not {scenarios}")
    horizon = _check_horizon(horizon)
    size = int(chunk_size or model._chunk_size(horizon))
    if antithetic:
        size += size % 2
    count = -(-int(scenarios) // size)
    sizes = [size] * (count - 1) + [int(scenarios) - size * (count - 1)]
    return list(zip(sizes, _streams(seed, count), strict=True)), horizon


def _run_chunks(fn: Callable, plan: list, workers: int | None) -> Iterator:
    """``fn(size, rng)`` over the plan, in order; up to ``workers`` chunks computed at once.

    NumPy releases the GIL while it draws, multiplies and exponentiates, so threads scale;
    BLAS is held to one thread meanwhile so the two levels do not oversubscribe the CPUs.
    At most ``workers + 1`` chunks are in flight, which bounds memory.
    """
    workers = default_workers() if workers is None else int(workers)
    if workers <= 1 or len(plan) == 1:
        try:
            for size, rng in plan:
                yield fn(size, rng)
        finally:
            vars(_LOCAL).pop("buffers", None)  # this thread outlives the run: free its scratch
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for size, rng in plan:
            pending.append(pool.submit(fn, size, rng))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class _Twins:
    """Latent draws of an antithetic chunk kept as first halves: row ``j ≥ n`` is ``−`` row ``j − n``.

    Indexing with an array of rows returns those rows (a copy), which is all the tail buffer
    asks of a chunk's draws.
    """

    def __init__(self, first: np.ndarray):
        self.first = first
        self.shape = (2 * first.shape[0], *first.shape[1:])
        self.dtype = first.dtype

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return np.concatenate([self.first, -self.first]).astype(dtype or self.dtype, copy=False)

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.asarray(rows)
        n = self.first.shape[0]
        out = self.first[rows % n]
        out[rows >= n] *= -1.0
        return out


def sample_returns(
    model: ScenarioModel,
    scenarios: int,
    *,
    horizon: int = 1,
    seed=None,
    chunk_size: int | None = None,
    antithetic: bool = False,
) -> np.ndarray:
    """Draw ``(S, N)`` scenario returns (compounded over ``horizon`` days).

    This materialises the full matrix; for large ``S × N`` use
    :func:`iter_pnl_chunks`.

    Examples
    --------
    >>> m = normal_model(np.random.default_rng(0).normal(0, 0.01, (250, 3)))
    >>> sample_returns(m, 5, seed=1).shape
    (5, 3)
    """
    plan, horizon = _plan(model, scenarios, horizon, seed, chunk_size, antithetic)
    return np.vstack([model.horizon_returns(model._draw(rng, size, horizon, antithetic)) for size, rng in plan])


def iter_pnl_chunks(
    model: ScenarioModel,
    exposures,
    scenarios: int,
    *,
    horizon: int = 1,
    seed=None,
    chunk_size: int | None = None,
    with_draws: bool = False,
    antithetic: bool = False,
    workers: int | None = None,
) -> Iterator[np.ndarray] | Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield portfolio P&L (USD) chunk by chunk; memory ~``chunk × (N + h·k)`` floats per thread.

    For one day the P&L is linear in the draws and is computed as
    ``μ·e + Z (Lᵀ e)`` (factor models) or a look-up of the historical row P&L
    (bootstrap, FHS) — the same numbers as ``sample_returns(...) @ exposures``
    at a fraction of the cost.  ``with_draws=True`` yields ``(draws, pnl)``
    pairs, the latent draws that :meth:`ScenarioModel.horizon_returns` maps
    back to per-name returns (used for tail attribution).  ``workers`` threads
    (default :func:`default_workers`) evaluate chunks; the numbers do not depend on it.
    With ``antithetic`` each chunk's second half mirrors its first (pair ``j``,
    ``j + size/2``).
    """
    e = _as_exposures(exposures)
    if e.size != model.n_names:
        raise InputError(f"exposures have {e.size} names but the scenario model has {model.n_names}")
    plan, horizon = _plan(model, scenarios, horizon, seed, chunk_size, antithetic)
    # antithetic one-draw lognormal chunks draw only the first halves (the twins are implied), block
    # by block inside the fused kernel; into this thread's scratch when nobody keeps the draws
    halves = antithetic and model._one_lognormal_draw(horizon)
    terms = model._pnl_terms(e, horizon, halves)

    def chunk(size: int, rng: np.random.Generator):
        if halves:
            shape = (size // 2, model._latent_width())
            z = np.empty(shape) if with_draws else _scratch("draws", *shape)
            return _Twins(z[:, None, :]), model._antithetic_lognormal_pnl(z, terms, rng)
        latent = model._draw(rng, size, horizon, antithetic)
        return latent, model._pnl(latent, terms)

    for latent, pnl in _run_chunks(chunk, plan, workers):
        yield (latent, pnl) if with_draws else pnl


def simulate_pnl(model: ScenarioModel, exposures, scenarios: int, **options) -> np.ndarray:
    """All ``S`` portfolio P&L values (USD, shape ``(S,)``), generated chunk by chunk.

    ``options`` are those of :func:`iter_pnl_chunks` (``horizon``, ``seed``, ``chunk_size``,
    ``antithetic``, ``workers``).
    """
    if options.get("with_draws"):
        raise InputError("simulate_pnl returns P&L only; use iter_pnl_chunks(with_draws=True) for the draws")
    return np.concatenate(list(iter_pnl_chunks(model, exposures, scenarios, **options)))
