"""Scenario models: how return scenarios are drawn, one class per model.

A model turns a random generator into one chunk of scenarios for a book of exposures
(signed USD per name): :meth:`ScenarioModel.simulate` returns a :class:`Draw` holding
the chunk's P&L (USD), its per-name horizon returns on demand, and — for the Gaussian
models — each scenario's coordinate ``u`` along the book's linearised loss direction,
which is what importance sampling, antithetic pairs and the delta control variate use.

* :class:`NormalModel` — daily simple returns ``r = μ + F z + s ⊙ η`` (``z, η`` standard
  normal), compounded per name over the horizon (buy-and-hold paths).
* :class:`StudentTModel` — the same scaled by ``√((ν − 2)/W)``, ``W ~ χ²_ν`` per day
  (variance-matched multivariate t).
* :class:`LognormalModel` — the horizon's log return ``N(hμ, hΣ)`` in one draw.
* :class:`BootstrapModel` — historical rows (iid or stationary blocks).
* :class:`FilteredHistoricalModel` — devolatilised residual rows times today's volatility path.

Linearisation (Gaussian models): the horizon P&L is ``m + Σ_t bᵀ z_t`` to first order, with
``b = [Fᵀe; s ⊙ e]``; ``σ = ‖b‖√h`` and the unit direction ``d = b/σ`` give the
coordinate ``u = Σ_t dᵀ z_t ~ N(0, 1)``, so the linear P&L is ``m + σu``, normal in
closed form. A mean shift ``z = ε − θd`` (``ε`` standard normal) moves scenarios
towards losses; its likelihood ratio is ``exp(θu + θ²/2)``. An antithetic twin
reflects ``ε`` about the proposal's centre: ``z' = −ε − θd``, which costs no second
matrix product (``F z' = −2θ F d − F z``).
"""

from __future__ import annotations

import threading
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from astra.errors import InputError
from astra.risk._checks import as_exposures, as_returns, check_horizon
from astra.risk.covariance import covariance_model, fit_t_dof

__all__ = [
    "BootstrapModel",
    "Draw",
    "FilteredHistoricalModel",
    "LinearTerms",
    "LognormalModel",
    "NormalModel",
    "ScenarioModel",
    "StudentTModel",
    "bootstrap_model",
    "fhs_model",
    "lognormal_horizon_model",
    "normal_model",
    "t_model",
]

CHUNK_BUDGET_BYTES = 4 * 2**20  # working memory of one chunk (cache-friendly, and a fine grain for target_se)
_MIN_CHUNK, _MAX_CHUNK = 1_000, 250_000
_BLOCK_BYTES = 512 * 2**10  # rows per block of the lognormal kernel: work arrays that stay in L2
_NORMAL_COST = 20.0  # one standard normal ≈ 20 multiply-adds (ziggurat vs BLAS), for the pair cost model
_LOCAL = threading.local()


def scratch(name: str, rows: int, cols: int) -> np.ndarray:
    """A ``(rows, cols)`` work array owned by the calling thread, reused from chunk to chunk."""
    buffers = getattr(_LOCAL, "buffers", None)
    if buffers is None:
        buffers = _LOCAL.buffers = {}
    have = buffers.get(name)
    if have is None or have.shape[0] < rows or have.shape[1] != cols:
        have = buffers[name] = np.empty((rows, cols))
    return have[:rows]


def free_scratch() -> None:
    """Drop the calling thread's work arrays (a long-lived thread after a large run)."""
    vars(_LOCAL).pop("buffers", None)


@dataclass(frozen=True, eq=False)
class LinearTerms:
    """First-order P&L of a book: ``m + σ·u`` with ``u = Σ_t dᵀ z_t`` standard normal (USD)."""

    mean: float
    sigma: float
    direction: np.ndarray  # (K,), the same every day; Σ_t ‖d‖² = 1 (zeros when σ = 0)
    exposures: np.ndarray
    horizon: int


class Draw:
    """One chunk of scenarios: P&L (USD), the linear coordinate ``u`` (or None), returns on demand.

    Rows ``[0, n/2)`` and ``[n/2, n)`` of an antithetic chunk are the pairs' two members.
    """

    def __init__(self, pnl: np.ndarray, u: np.ndarray | None, returns, weighted=None):
        self.pnl, self.u = pnl, u
        self._returns, self._weighted = returns, weighted

    def returns(self, rows: np.ndarray) -> np.ndarray:
        """Per-name horizon returns of the scenarios ``rows``, shape ``(len(rows), N)``."""
        return self._returns(np.asarray(rows, dtype=np.int64))

    def weighted_returns(self, coef: np.ndarray) -> np.ndarray:
        """``Σ_i coef_i R_i`` over the chunk's scenarios (only rows with ``coef ≠ 0`` are formed)."""
        if self._weighted is not None:
            return self._weighted(coef)
        rows = np.flatnonzero(coef)
        total = None
        for lo in range(0, rows.size, 4_096):
            part = coef[rows[lo : lo + 4_096]] @ self.returns(rows[lo : lo + 4_096])
            total = part if total is None else total + part
        return total


class ScenarioModel(ABC):
    """Base of the scenario models; see the module notes. ``n_names`` columns per scenario."""

    n_names: int
    label = "model"
    gaussian = False  # latent standard normals: importance sampling and antithetic pairs apply
    control = False  # the linear P&L is normal in closed form: the delta control variate applies
    one_draw = False  # the model draws the whole horizon at once (the engine passes horizon 1)

    def linear_terms(self, exposures: np.ndarray, horizon: int) -> LinearTerms | None:
        return None

    def chunk_size(self, horizon: int, antithetic: bool = False) -> int:
        size = int(np.clip(CHUNK_BUDGET_BYTES // self._bytes_per_scenario(horizon, antithetic), _MIN_CHUNK, _MAX_CHUNK))
        return size + size % 2

    def pair_cost(self, horizon: int) -> float:
        """Cost of a scenario drawn as half an antithetic pair, relative to an independent one."""
        return 1.0

    @abstractmethod
    def _bytes_per_scenario(self, horizon: int, antithetic: bool) -> int:
        """Memory one scenario of a chunk needs (sizes the chunks)."""

    @abstractmethod
    def simulate(self, rng, size: int, horizon: int, terms: LinearTerms | None, theta: float = 0.0,
                 antithetic: bool = False) -> Draw:  # fmt: skip
        """Draw ``size`` scenarios of ``horizon`` days from ``rng`` (shifted by ``theta`` along the loss direction)."""


# --------------------------------------------------------------------------- Gaussian factor models
class _FactorModel(ScenarioModel):
    gaussian = True

    def __init__(self, mean, factor, specific=None):
        self.factor = np.ascontiguousarray(factor, dtype=float)
        self.n_names = self.factor.shape[0]
        self.mean = np.zeros(self.n_names) if mean is None else np.asarray(mean, dtype=float)
        self.specific = None if specific is None else np.asarray(specific, dtype=float)
        self._factor_t = np.ascontiguousarray(self.factor.T)

    @property
    def width(self) -> int:
        """Latent normals per scenario and day: ``k`` factors (+ ``N`` specific)."""
        return self.factor.shape[1] + (self.n_names if self.specific is not None else 0)

    def _latent_to_returns(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``F z (+ s ⊙ η)`` for latent rows ``z`` (``(n, K)`` → ``(n, N)``)."""
        k = self.factor.shape[1]
        x = np.matmul(z[:, :k], self._factor_t, out=out)
        if self.specific is not None:
            x += z[:, k:] * self.specific
        return x

    def _projection(self, exposures: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        e = exposures if weights is None else exposures * weights
        b = self.factor.T @ e
        return np.concatenate([b, self.specific * e]) if self.specific is not None else b

    def linear_terms(self, exposures: np.ndarray, horizon: int) -> LinearTerms:
        b = self._projection(exposures)
        sigma = float(np.sqrt(horizon) * np.linalg.norm(b))
        direction = b / sigma if sigma > 0 else np.zeros_like(b)
        return LinearTerms(float(horizon * (self.mean @ exposures)), sigma, direction, exposures, horizon)

    def pair_cost(self, horizon: int) -> float:
        draw = _NORMAL_COST * self.width + self.width * self.n_names  # normals + the matrix product, per day
        rest = 3.0 * self.n_names  # compounding and the P&L, per scenario and day
        return (0.5 * draw + rest) / (draw + rest)

    def _shift_returns(self, terms: LinearTerms, theta: float) -> np.ndarray:
        """Return shift ``F(−θd)`` of the proposal (``N``), per day, before any t scaling."""
        if not theta:
            return np.zeros(self.n_names)
        return self._latent_to_returns((-theta * terms.direction)[None, :])[0]


class NormalModel(_FactorModel):
    """Multivariate normal daily simple returns ``μ + F z (+ s ⊙ η)``, compounded per name."""

    label = "normal"
    control = True

    def _bytes_per_scenario(self, horizon: int, antithetic: bool) -> int:
        share = 0.5 if antithetic else 1.0
        if horizon == 1:
            return int(8 * (share * self.width + 4))
        return int(8 * (self.n_names + share * (self.width + 3 * self.n_names) + 4))

    def _scale(self, rng, half: int) -> np.ndarray | None:
        return None

    def simulate(self, rng, size, horizon, terms, theta=0.0, antithetic=False) -> Draw:
        if antithetic and size % 2:
            raise InputError(f"antithetic chunks need an even size, got {size}")
        half = size // 2 if antithetic else size
        if horizon == 1:
            return self._one_day(rng, size, half, terms, theta, antithetic)
        n = self.n_names
        growth = scratch("growth", size, n)
        eps, x, tmp = scratch("eps", half, self.width), scratch("x", half, n), scratch("tmp", half, n)
        proj = np.zeros(half)
        shift = self._shift_returns(terms, theta)
        one_mu = 1.0 + self.mean
        for day in range(horizon):
            rng.standard_normal(out=eps)
            proj += eps @ terms.direction
            self._latent_to_returns(eps, out=x)
            scale = self._scale(rng, half)
            if scale is None:
                base = one_mu + shift
            else:  # Student t: the whole latent vector (shift included) is scaled per scenario
                x *= scale[:, None]
                base = np.multiply.outer(scale, shift, out=scratch("base", half, n))
                base += one_mu
            first = growth[:half] if day == 0 else tmp
            np.add(base, x, out=first)
            if day:
                growth[:half] *= tmp
            if antithetic:
                twin = growth[half:] if day == 0 else tmp
                np.subtract(base, x, out=twin)
                if day:
                    growth[half:] *= tmp
        pnl = growth @ terms.exposures - float(terms.exposures.sum())
        u = np.concatenate([proj - theta, -proj - theta]) if antithetic else proj - theta

        def returns(rows):
            return growth[rows] - 1.0

        def weighted(coef):
            return coef @ growth - coef.sum()

        return Draw(pnl, u, returns, weighted)

    def _one_day(self, rng, size, half, terms, theta, antithetic) -> Draw:
        """One day: the P&L is linear, ``m + σ s u`` (``s`` the t scale), so no per-name returns are formed."""
        eps = scratch("eps", half, self.width)
        rng.standard_normal(out=eps)
        scale = self._scale(rng, half)
        proj = eps @ terms.direction
        u = np.concatenate([proj - theta, -proj - theta]) if antithetic else proj - theta
        if scale is None:
            pnl = terms.mean + terms.sigma * u
        else:
            pnl = terms.mean + terms.sigma * u * (np.concatenate([scale, scale]) if antithetic else scale)
        shift = -theta * terms.direction

        def latent(rows):
            first = rows % half
            z = eps[first] * np.where(rows < half, 1.0, -1.0)[:, None] + shift
            return z if scale is None else z * scale[first][:, None]

        def returns(rows):
            return self._latent_to_returns(latent(rows)) + self.mean

        def weighted(coef):  # linear in the latent draws: Σ c_i R_i = μ Σc + F (Σ c_i z_i)
            rows = np.flatnonzero(coef)
            zsum = coef[rows] @ latent(rows) if rows.size else np.zeros(self.width)
            return self._latent_to_returns(zsum[None, :])[0] + self.mean * coef.sum()

        return Draw(pnl, u, returns, weighted)


class StudentTModel(NormalModel):
    """Variance-matched multivariate t: ``r = μ + √((ν−2)/W)(F z + s ⊙ η)``, ``W ~ χ²_ν`` per day."""

    label = "Student t"
    control = False  # the sum of t-scaled days has no closed form

    def __init__(self, mean, factor, specific=None, *, dof: float):
        super().__init__(mean, factor, specific)
        self.dof = float(dof)

    def _bytes_per_scenario(self, horizon: int, antithetic: bool) -> int:
        return super()._bytes_per_scenario(horizon, antithetic) + int(8 * self.n_names * (0.5 if antithetic else 1))

    def _scale(self, rng, half: int) -> np.ndarray:
        return np.sqrt((self.dof - 2.0) / rng.chisquare(self.dof, size=half))


class LognormalModel(_FactorModel):
    """Buy-and-hold over a horizon with normal daily log returns: one draw of ``N(hμ, hΣ)`` per scenario."""

    label = "lognormal"
    control = True
    one_draw = True

    def __init__(self, mean, factor, specific=None, *, horizon: int):
        super().__init__(mean, factor, specific)
        self.horizon = int(horizon)

    def linear_terms(self, exposures: np.ndarray, horizon: int = 1) -> LinearTerms:
        growth = np.exp(self.mean)
        b = self._projection(exposures, growth)
        sigma = float(np.linalg.norm(b))
        direction = b / sigma if sigma > 0 else np.zeros_like(b)
        return LinearTerms(float(exposures @ (growth - 1.0)), sigma, direction, exposures, 1)

    def _bytes_per_scenario(self, horizon: int, antithetic: bool) -> int:
        return int(8 * ((0.5 if antithetic else 1.0) * self.width + 3))

    def pair_cost(self, horizon: int) -> float:
        draw = _NORMAL_COST * self.width + self.width * self.n_names + 10.0 * self.n_names  # normals, product, exp
        rest = 5.0 * self.n_names  # reciprocal and the two weighted sums
        return (0.5 * draw + rest) / (draw + rest)

    def simulate(self, rng, size, horizon, terms, theta=0.0, antithetic=False) -> Draw:
        if horizon != 1:
            raise InputError("a lognormal model draws the whole horizon at once: simulate it with horizon=1")
        if antithetic and size % 2:
            raise InputError(f"antithetic chunks need an even size, got {size}")
        half = size // 2 if antithetic else size
        n = self.n_names
        level = self.mean + self._shift_returns(terms, theta)  # log-return centre of the proposal
        weighted_e = terms.exposures * np.exp(level)
        total = float(terms.exposures.sum())
        eps = scratch("eps", half, self.width)
        rows = max(16, _BLOCK_BYTES // (8 * n))
        work = scratch("u", min(rows, half), n)
        pnl = np.empty(size)
        proj = np.empty(half)
        for lo in range(0, half, rows):  # block by block: the same numbers as one draw of the whole chunk
            hi = min(lo + rows, half)
            block, x = eps[lo:hi], work[: hi - lo]
            rng.standard_normal(out=block)
            np.matmul(block, terms.direction, out=proj[lo:hi])
            np.exp(self._latent_to_returns(block, out=x), out=x)
            np.matmul(x, weighted_e, out=pnl[lo:hi])
            if antithetic:  # exp(c − x) = exp(c)/exp(x): the twin costs a reciprocal
                np.matmul(np.reciprocal(x, out=x), weighted_e, out=pnl[half + lo : half + hi])
        pnl -= total
        u = np.concatenate([proj - theta, -proj - theta]) if antithetic else proj - theta

        def returns(picked):
            sign = np.where(picked < half, 1.0, -1.0)[:, None]
            return np.expm1(level + sign * self._latent_to_returns(eps[picked % half]))

        return Draw(pnl, u, returns)


# --------------------------------------------------------------------------- resampled history
class BootstrapModel(ScenarioModel):
    """Historical rows drawn with replacement (all names together); stationary blocks of mean ``b`` days."""

    label = "bootstrap"

    def __init__(self, history: np.ndarray, block_length: float = 1.0):
        self.history = np.asarray(history, dtype=float)
        self.n_names = self.history.shape[1]
        self.block_length = float(block_length)

    def _bytes_per_scenario(self, horizon: int, antithetic: bool) -> int:
        return 8 * (horizon + (self.n_names if horizon > 1 else 0) + 4)

    def _rows(self, rng, size: int, horizon: int) -> np.ndarray:
        n_rows = self.history.shape[0]
        idx = np.empty((size, horizon), dtype=np.int64)
        idx[:, 0] = rng.integers(0, n_rows, size)
        for j in range(1, horizon):  # stationary bootstrap: new block with prob 1/b, else next row (circular)
            jump = rng.random(size) < 1.0 / self.block_length
            idx[:, j] = np.where(jump, rng.integers(0, n_rows, size), (idx[:, j - 1] + 1) % n_rows)
        return idx

    def _vol(self, horizon: int) -> np.ndarray:
        return np.ones((horizon, self.n_names))

    def simulate(self, rng, size, horizon, terms, theta=0.0, antithetic=False) -> Draw:
        if antithetic or theta:
            raise InputError("antithetic pairs and importance sampling need a normal or t model, not resampled history")
        idx = self._rows(rng, size, horizon)
        vol = self._vol(horizon)
        e = terms.exposures
        if horizon == 1:
            row_pnl = self.history @ (e * vol[0])

            def returns(rows):
                return self.history[idx[rows, 0]] * vol[0]

            return Draw(row_pnl[idx[:, 0]], None, returns)
        growth = scratch("growth", size, self.n_names)
        np.multiply(self.history[idx[:, 0]], vol[0], out=growth)
        growth += 1.0
        for day in range(1, horizon):
            growth *= 1.0 + self.history[idx[:, day]] * vol[day]
        pnl = growth @ e - float(e.sum())
        return Draw(pnl, None, lambda rows: growth[rows] - 1.0, lambda coef: coef @ growth - coef.sum())


class FilteredHistoricalModel(BootstrapModel):
    """Filtered historical simulation: residual rows ``z_t = r_t/σ_t`` times the volatility forecast path."""

    label = "filtered historical"

    def __init__(self, residuals, next_var, long_run_var, persistence):
        super().__init__(residuals, 1.0)
        self.next_var = np.asarray(next_var, dtype=float)
        self.long_run_var = np.asarray(long_run_var, dtype=float)
        self.persistence = np.asarray(persistence, dtype=float)

    def _daily_vol(self, horizon: int) -> np.ndarray:
        """Volatility path ``(h, N)``: σ²_{T+j} = σ̄² + φ^{j−1}(σ²_{T+1} − σ̄²)."""
        decay = self.persistence[None, :] ** np.arange(horizon)[:, None]
        return np.sqrt(self.long_run_var + decay * (self.next_var - self.long_run_var))

    _vol = _daily_vol


# --------------------------------------------------------------------------- factories
def normal_model(
    returns, *, include_mean: bool = False, covariance: str = "sample", factors: int = 8, half_life: float = 63.0
) -> NormalModel:
    """Multivariate normal with a covariance estimated from ``returns`` (:func:`covariance_model`).

    ``include_mean=False`` (default) draws zero-mean returns, the usual choice
    for short horizons where the sample mean is noise.

    Examples
    --------
    >>> m = normal_model(np.random.default_rng(0).normal(0, 0.01, (250, 3)))
    >>> m.n_names, m.factor.shape
    (3, (3, 3))
    """
    factor, specific, mean = covariance_model(returns, covariance, factors=factors, half_life=half_life)
    return NormalModel(mean if include_mean else None, factor, specific)


def lognormal_horizon_model(returns, horizon: int, *, include_mean: bool = False, **covariance) -> LognormalModel:
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
    r, _, _ = as_returns(returns)
    h = check_horizon(horizon)
    base = normal_model(np.log1p(r), include_mean=include_mean, **covariance)
    root = np.sqrt(h)
    specific = None if base.specific is None else base.specific * root
    return LognormalModel(base.mean * h, base.factor * root, specific, horizon=h)


def t_model(
    returns,
    *,
    dof: float | None = None,
    exposures=None,
    dof_method: str = "mle",
    include_mean: bool = False,
    **covariance,
) -> StudentTModel:
    """Variance-matched multivariate Student-t: ``r = μ + √((ν−2)/W)·L z``, ``W ~ χ²_ν``.

    ``Cov(r) = Σ`` (the sample covariance).  ν is ``dof`` if given (> 2), else
    fitted by :func:`fit_t_dof` (``dof_method`` ``"mle"``/``"moments"``) on the
    historical portfolio P&L ``R @ exposures`` (or on the equal-weight average
    when ``exposures`` is None).
    """
    r, _, _ = as_returns(returns)
    if dof is None:
        weights = np.full(r.shape[1], 1.0 / r.shape[1]) if exposures is None else as_exposures(exposures)
        dof = fit_t_dof(r @ weights, method=dof_method)
    if not dof > 2.0:
        raise InputError(f"Student-t dof {dof!r} must exceed 2 for a finite covariance")
    base = normal_model(r, include_mean=include_mean, **covariance)
    return StudentTModel(base.mean, base.factor, base.specific, dof=float(dof))


def bootstrap_model(returns, *, block_length: float = 1.0) -> BootstrapModel:
    """Resample historical rows (all names together, keeping cross-correlation).

    ``block_length = 1`` is the iid bootstrap; ``b > 1`` the stationary bootstrap
    of Politis–Romano (blocks of geometric length, mean ``b`` days), which only
    matters for multi-day paths.
    """
    r, _, _ = as_returns(returns)
    if not block_length >= 1.0:
        raise InputError(f"block_length {block_length!r} must be >= 1 day")
    return BootstrapModel(r, block_length=float(block_length))


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


def fhs_model(returns, *, vol_model: str = "ewma", lam: float = 0.94) -> FilteredHistoricalModel:
    """Filtered historical simulation: devolatilised residuals rescaled by today's volatility.

    Each name is filtered on its own (zero mean): ``z_t = r_t / σ_t`` with
    ``σ_t`` the one-day-ahead EWMA (``λ = lam``, RiskMetrics 0.94) or
    GARCH(1,1) (fitted with ``arch``; a name whose fit does not converge or is
    non-stationary falls back to EWMA) volatility.  Scenarios draw whole rows of
    ``z`` and multiply by the forecast ``σ_{T+j}`` — flat for EWMA, mean
    reverting ``σ̄² + (α+β)^{j−1}(σ²_{T+1} − σ̄²)`` for GARCH.
    """
    r, _, _ = as_returns(returns)
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
    return FilteredHistoricalModel(resid, next_var, long_run, persistence)
