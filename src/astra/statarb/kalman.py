"""Kalman-filter hedge ratios: model → filter → maximum-likelihood fit → results.

``kalman2`` is the notebook's random-walk regression ``y_t = α_t + β_t x_t + ε_t``,
done right: the prior comes from OLS on a warm-up window (never ``P₀ = 0``) and
the noise variances are fitted by maximum likelihood rather than hand-set. Its
signal is the standardised innovation ``e_t / √S_t``, which has unit variance
when the model fits.

``kalman3`` adds the spread as its own mean-reverting AR(1) state beside α and
β (α held constant by default, which identifies the spread), and its signal is
the *filtered spread state* divided by its own model standard deviation
``√(Var s − P_ss,t)`` — a level that mean-reverts, not a one-step surprise.

Noise parameters are relative to the observation variance ``r`` and the
likelihood is concentrated over ``r`` (see :mod:`astra.statarb._kernels`); the
first ``warmup`` bars form the prior and are not scored. With the scale given
(``scale=``, :func:`refilter`) the log-likelihood is the full Gaussian one,
``−½(n log 2π + Σ log(σ² S*_t) + Σ e_t²/(σ² S*_t))``, not the concentrated form.
:func:`fit_kalman` reports standard errors of the fitted parameters from the
observed information (:mod:`astra.statarb._inference`).
"""

from __future__ import annotations

import math
import sys
import threading
from dataclasses import dataclass, field, replace
from typing import Any

import numba
import numpy as np
import pandas as pd
from scipy.optimize import minimize

from astra.errors import InputError
from astra.statarb import _kernels
from astra.statarb._inference import LOG, LOGIT, delta_std_errors

__all__ = ["MODELS", "KalmanResult", "fit_kalman", "kalman_batch", "kalman_filter", "refilter"]

MODELS = ("kalman2", "kalman3")
_PRIOR_INFLATION = 10.0  # OLS covariance × 10: informative about scale, loose about values
_LOG10_BOUNDS = (-14.0, 2.0)
_HALF_LIFE_GRID = (3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)  # bars: where kalman3's profile search starts
_PHI_CAP = 0.99999  # kalman3's φ is searched below this (a random-walk spread is not a spread)


def _legs(y, x, ndim: int, shape: str, *, check_finite: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Both legs as contiguous float arrays of one shape, finite; else ``InputError``."""
    ya = np.ascontiguousarray(y, dtype=float)
    xa = np.ascontiguousarray(x, dtype=float)
    if ya.ndim != ndim or ya.shape != xa.shape:
        raise InputError(f"y and x must be {shape}, got {ya.shape} and {xa.shape}")
    # a NaN or inf anywhere makes the sum non-finite (prices are far from overflowing a float64):
    # one pass without a temporary array, where np.isfinite(...).all() needs a boolean copy
    if check_finite:
        _check_finite(ya, xa)
    return ya, xa


def _check_finite(*legs: np.ndarray) -> None:
    for leg in legs:
        if not np.isfinite(leg.sum()) and not np.isfinite(leg).all():  # the exact check only when in doubt
            raise InputError("prices contain NaN or inf; clean or align the legs first")


def _arrays(y, x, warmup: int, *, check: bool = True) -> tuple[np.ndarray, np.ndarray, pd.Index | None]:
    """Both legs as arrays; ``check=False`` leaves finiteness and constant legs to the caller."""
    index = y.index if isinstance(y, pd.Series) else None
    if isinstance(y, pd.Series) and isinstance(x, pd.Series) and not y.index.equals(x.index):
        raise InputError("the legs are not aligned on the same bars")
    ya, xa = _legs(y, x, 1, "1-D and the same length", check_finite=check)
    if not warmup >= 5:
        raise InputError(f"warm-up {warmup!r} bars: need at least 5 to form the prior")
    if len(ya) < warmup + 20:
        raise InputError(f"{len(ya)} bars: need at least warm-up ({warmup}) + 20")
    if check and (np.ptp(xa[:warmup]) == 0 or np.ptp(ya) == 0):
        raise InputError("a leg has constant prices; a hedge ratio is not defined")
    return ya, xa, index


def _ols_prior(y: np.ndarray, x: np.ndarray, warmup: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Coefficients, scale-free covariance ``(XᵀX)⁻¹·c`` and residual variance on the warm-up bars."""
    design = np.column_stack([np.ones(warmup), x[:warmup]])
    coef, *_ = np.linalg.lstsq(design, y[:warmup], rcond=None)
    resid = y[:warmup] - design @ coef
    sigma2 = float(resid @ resid / max(warmup - 2, 1))
    return coef, np.linalg.inv(design.T @ design) * _PRIOR_INFLATION, sigma2


@dataclass(frozen=True)
class KalmanResult:
    """Filtered paths and fitted parameters of one pair."""

    model: str
    params: dict[str, float]
    alpha: np.ndarray
    beta: np.ndarray
    spread: np.ndarray
    zscore: np.ndarray
    innovation: np.ndarray
    innovation_var: np.ndarray
    loglik: float
    half_life_bars: float
    warmup: int
    index: pd.Index | None = field(default=None, compare=False)
    std_errors: dict[str, float] | None = None  # by fit_kalman: observed information (NaN: not defined)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "alpha": self.alpha,
                "beta": self.beta,
                "spread": self.spread,
                "z": self.zscore,
                "innovation": self.innovation,
                "innovation_var": self.innovation_var,
            },
            index=self.index,
        )

    def to_dict(self) -> dict[str, Any]:
        scored = self.zscore[self.warmup :]
        return {
            "model": self.model,
            "params": dict(self.params),
            "bars": len(self.beta),
            "beta_last": float(self.beta[-1]),
            "alpha_last": float(self.alpha[-1]),
            "half_life_bars": self.half_life_bars if math.isfinite(self.half_life_bars) else None,
            "loglik": self.loglik,
            "z_variance": float(np.var(scored)) if scored.size else None,
            "std_errors": None if self.std_errors is None else _json_floats(self.std_errors),
        }


def _json_floats(values: dict[str, float]) -> dict[str, float | None]:
    return {k: (float(v) if math.isfinite(v) else None) for k, v in values.items()}


def gaussian_loglik(bars: int, log_sum: float, q_sum: float, scale: float) -> float:
    """Log-likelihood of ``bars`` Gaussian innovations with variances ``scale · S*_t``.

    ``−½ (n log 2π + n log σ² + Σ log S*_t + Σ e_t² / (σ² S*_t))`` from the sums ``L = Σ log S*_t``
    and ``Q = Σ e_t²/S*_t``; at the concentrated ``σ̂² = Q / n`` the last term is ``n``
    (Harvey 1989, §3.4; Durbin & Koopman 2012, §7.2).
    """
    return -0.5 * (bars * math.log(2.0 * math.pi) + bars * math.log(scale) + log_sum + q_sum / scale)


def _half_life_from_sums(count: int, s1: float, s2: float, s_lag: float, v_last: float) -> float:
    """Half-life (bars) from the AR(1) coefficient of a series given by shifted sums (its first
    value shifted to 0): ``φ = Σ ṽ_t ṽ_{t−1} / Σ ṽ_{t−1}²`` with ``ṽ`` demeaned over all bars."""
    mean = s1 / count
    num = s_lag - mean * (2.0 * s1 - v_last) + (count - 1) * mean * mean
    den = s2 - v_last * v_last - 2.0 * mean * (s1 - v_last) + (count - 1) * mean * mean
    phi = num / den if den > 0 else math.nan
    return -math.log(2.0) / math.log(phi) if 0 < phi < 1 else math.inf


_NO_OUTPUT = np.empty(0)
_NO_STATES = np.empty((0, 3))


def _run2(y, x, warmup, qa_rel, qb_rel, scale=None):
    """kalman2's log-likelihood (no paths kept): ``(loglik, σ̂²)``, ``σ̂²`` concentrated unless ``scale``."""
    coef, p0, _ = _ols_prior(y, x, warmup)
    q_sum, log_sum, *_ = _kernels.kalman2(
        y, x, qa_rel, qb_rel, coef[0], coef[1], p0[0, 0], p0[0, 1], p0[1, 1], warmup, 0.0, False,
        *(_NO_OUTPUT,) * 6,
    )  # fmt: skip
    bars = len(y) - warmup
    r = q_sum / bars if scale is None else scale
    return gaussian_loglik(bars, log_sum, q_sum, r), r


def _prior3(y, x, warmup, phi):
    coef, p_ab, _ = _ols_prior(y, x, warmup)
    stationary = 1.0 / (1.0 - phi * phi)
    m0 = np.array([coef[0], coef[1], 0.0])
    p0 = np.zeros((3, 3))
    # the OLS covariance is in units of the warm-up residual variance ≈ the spread's stationary variance
    p0[:2, :2] = p_ab * stationary
    p0[2, 2] = stationary
    return m0, p0


def _run3(y, x, warmup, qa_rel, qb_rel, r_rel, phi, scale=None, outputs=None):
    """kalman3 with variances relative to the spread innovation variance (``q_s = 1``):
    ``(loglik, q̂_s)``; ``outputs`` = (states, s_var, e, S*) arrays to fill, scale-free."""
    m0, p0 = _prior3(y, x, warmup, phi)
    store = outputs is not None
    states, s_var, e, s_star = outputs if store else (_NO_STATES, _NO_OUTPUT, _NO_OUTPUT, _NO_OUTPUT)
    q_sum, log_sum = _kernels.kalman3(y, x, qa_rel, qb_rel, 1.0, r_rel, phi, m0, p0, warmup, store, states, s_var,
                                      e, s_star)  # fmt: skip
    bars = len(y) - warmup
    qs = q_sum / bars if scale is None else scale
    return gaussian_loglik(bars, log_sum, q_sum, qs), qs


_PATHS = ("alpha", "beta", "spread", "zscore", "innovation", "innovation_var")


class _BlockPool:
    """Blocks of the six result paths, reused once no result views them any more.

    Fresh memory is paid in page faults (on this class of machine, as much as the filter itself
    at 10⁶ bars); a block whose only references are the pool's own is free to hand out again,
    so a loop of ``kalman_filter`` calls that drops each result reuses its memory (two blocks
    alternate when each result lives until the next call returns). A block still viewed by any
    array (a result, a column kept, a frame built without a copy) is never reused. The pool tracks
    at most ``limit_bytes`` (oldest forgotten first: their arrays stay valid), so at most that
    much memory outlives the results.
    """

    def __init__(self, limit_bytes: int = 128 * 2**20):
        self.limit = limit_bytes
        self.blocks: list[np.ndarray] = []
        self.lock = threading.Lock()

    def take(self, n: int) -> np.ndarray:
        with self.lock:
            for i in range(len(self.blocks)):
                # free when the only references are the pool's list and getrefcount's argument
                if self.blocks[i].shape[1] == n and sys.getrefcount(self.blocks[i]) <= 2:
                    return self.blocks[i]
            block = np.empty((len(_PATHS), n))
            if block.nbytes <= self.limit:
                while self.blocks and sum(b.nbytes for b in self.blocks) + block.nbytes > self.limit:
                    self.blocks.pop(0)  # the oldest goes (still valid for whoever views it)
                self.blocks.append(block)
            return block


_POOL = _BlockPool()


def _path_buffers(n: int, out: dict | None) -> list[np.ndarray]:
    if out is None:
        return list(_POOL.take(n))
    missing = [k for k in _PATHS if k not in out]
    if missing:
        raise InputError(f"out needs arrays {', '.join(missing)}")
    arrays = [out[k] for k in _PATHS]
    bad = [k for k, a in zip(_PATHS, arrays, strict=True) if not (isinstance(a, np.ndarray) and a.shape == (n,)
           and a.dtype == np.float64 and a.flags.c_contiguous and a.flags.writeable)]  # fmt: skip
    if bad:
        raise InputError(f"out arrays must be writable contiguous float64 of shape ({n},): {', '.join(bad)}")
    return arrays


def _filter2(ya, xa, warmup, qa, qb, scale, out=None):
    """kalman2 paths in one fused pass plus an in-place rescale: the cost of ``kalman_filter``."""
    if np.ptp(xa[:warmup]) == 0:
        raise InputError("a leg has constant prices; a hedge ratio is not defined")
    coef, p0, _ = _ols_prior(ya, xa, warmup)
    alpha, beta, spread, z, e, s = _path_buffers(len(ya), out)
    q_sum, log_sum, s1, s2, s_lag, v_last, y_min, y_max = _kernels.kalman2(
        ya, xa, qa, qb, coef[0], coef[1], p0[0, 0], p0[0, 1], p0[1, 1], warmup,
        -1.0 if scale is None else scale, True, alpha, beta, spread, z, e, s,
    )  # fmt: skip
    if not math.isfinite(q_sum + log_sum + s2):
        _check_finite(ya, xa)  # names the problem when it is the data
    if y_max == y_min:
        raise InputError("a leg has constant prices; a hedge ratio is not defined")
    bars = len(ya) - warmup
    r = q_sum / bars if scale is None else scale
    if scale is None:  # the kernel wrote z and S scale-free
        _kernels.rescale(z, s, r, warmup)
    else:
        z[:warmup] = np.nan  # the prior's bars carry no signal
    half_life = _half_life_from_sums(bars, s1, s2, s_lag, v_last)
    return alpha, beta, spread, z, e, s, r, gaussian_loglik(bars, log_sum, q_sum, r), half_life


def _check_variance(value, name):
    if value is None:
        return None
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise InputError(f"{name} {value!r} must be a variance ≥ 0")
    return float(value)


def kalman_filter(
    y,
    x,
    *,
    model: str = "kalman2",
    q_alpha: float = 0.0,
    q_beta: float = 1e-6,
    r: float = 0.01,
    phi: float = 0.95,
    warmup: int = 30,
    scale: float | None = None,
    out: dict[str, np.ndarray] | None = None,
) -> KalmanResult:
    """Filter with given noise parameters (relative to the observation variance, which is estimated).

    Parameters
    ----------
    q_alpha, q_beta
        State noise of α and β per bar, relative to the scale (``kalman2``: the observation
        variance; ``kalman3``: the spread's innovation variance).
    r, phi
        ``kalman3``: observation variance relative to the spread's innovation variance, and
        the spread's AR(1) coefficient.
    scale
        The variance scale (``kalman2``: ``r``; ``kalman3``: ``q_s``) when known, e.g. fitted on
        a formation period; by default it is estimated from these bars (concentrated likelihood).
    out
        ``kalman2`` only: arrays to fill instead of allocating the result's six paths, keyed
        ``alpha``, ``beta``, ``spread``, ``zscore``, ``innovation``, ``innovation_var`` (float64,
        one value per bar). For loops over many series of one length (the result then views them,
        so the next call overwrites it): fresh pages cost about as much as the filter itself.

    Returns
    -------
    KalmanResult
        Paths per bar (α, β, the posterior spread ``y − α − βx``, the z-score, the innovation and
        its variance, in price units), fitted parameters, the log-likelihood of the bars after the
        warm-up and the spread's half-life in bars.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = 50 + np.cumsum(rng.normal(0, 0.5, 2000))
    >>> res = kalman_filter(3 + 1.2 * x + rng.normal(0, 0.2, 2000), x, q_beta=0.0)  # y = 3 + 1.2 x + N(0, 0.04)
    >>> round(float(res.beta[-1]), 3), round(res.params["r"], 3)
    (1.199, 0.04)
    """
    if model not in MODELS:
        raise InputError(f"--model {model!r} is not one of {', '.join(MODELS)}")
    qa, qb, r_rel = (_check_variance(v, n) for v, n in ((q_alpha, "q_alpha"), (q_beta, "q_beta"), (r, "r")))
    if scale is not None and not (isinstance(scale, int | float) and math.isfinite(scale) and scale > 0):
        raise InputError(f"scale {scale!r} must be a variance > 0")
    if model == "kalman2":
        # finiteness and constant legs are checked from the filter's own sums (no extra pass)
        ya, xa, index = _arrays(y, x, warmup, check=False)
        alpha, beta, spread, z, e, s, r, loglik, half_life = _filter2(ya, xa, warmup, qa, qb, scale, out)
        params = {"r": r, "q_alpha": qa * r, "q_beta": qb * r}
    else:
        if not 0 < phi < 1:
            raise InputError(f"phi {phi!r} must be in (0, 1) for a mean-reverting spread")
        if out is not None:
            raise InputError("out (buffers to fill) is for kalman2")
        ya, xa, index = _arrays(y, x, warmup)
        n = len(ya)
        states, s_var, e, s = np.empty((n, 3)), np.empty(n), np.empty(n), np.empty(n)
        loglik, scale = _run3(ya, xa, warmup, qa, qb, r_rel, phi, scale, outputs=(states, s_var, e, s))
        s_var *= scale
        s *= scale
        alpha, beta, spread = states[:, 0], states[:, 1], states[:, 2]
        # Var(ŝ_t) = Var(s) − E[Var(s | F_t)]: the filtered state's own spread under the model,
        # so z has unit variance when the model fits (dividing by sd(s) would shrink it).
        stationary = scale / (1 - phi * phi)
        z = spread / np.sqrt(np.maximum(stationary - s_var, 1e-12 * stationary))
        z[:warmup] = np.nan  # the prior's bars carry no signal
        params = {"r": r_rel * scale, "q_alpha": qa * scale, "q_beta": qb * scale, "q_s": scale, "phi": phi}
        half_life = -math.log(2.0) / math.log(phi)
    return KalmanResult(model, params, alpha, beta, spread, z, e, s, float(loglik), half_life, warmup, index)


def fit_kalman(y, x, *, model: str = "kalman2", warmup: int = 30, fit_alpha: bool = False,
               std_errors: bool = True) -> KalmanResult:  # fmt: skip
    """Fit the noise parameters by maximum (concentrated) likelihood, then filter.

    ``kalman2`` fits ``q_β`` (and ``q_α`` with ``fit_alpha``); ``kalman3`` fits ``q_β``,
    ``q_s`` and ``φ`` with α constant (``fit_alpha`` frees it).

    With ``std_errors`` the result carries the parameters' standard errors (same keys and
    units as ``params``) from the observed information: the numerical Hessian of the full
    log-likelihood at the maximum, in log variances and logit φ, mapped by the delta method
    (:mod:`astra.statarb._inference`). NaN for a parameter not estimated (``q_alpha`` without
    ``fit_alpha``) or left at a bound of the search (a variance pinned at ~0).
    """
    if model not in MODELS:
        raise InputError(f"--model {model!r} is not one of {', '.join(MODELS)}")
    ya, xa, _ = _arrays(y, x, warmup)

    def unpack(theta):
        logs = np.clip(theta, *_LOG10_BOUNDS)
        return 10.0**logs

    if model == "kalman2":

        def objective(theta):  # the likelihood alone: no paths written
            qb, qa = unpack(theta[:1])[0], (unpack(theta[1:])[0] if fit_alpha else 0.0)
            return -_run2(ya, xa, warmup, qa, qb)[0]

        start = [-6.0, -6.0] if fit_alpha else [-6.0]
        bounds = [_LOG10_BOUNDS] * len(start)
        best = _best_of(objective, [start, [s - 3 for s in start], [s + 3 for s in start]], bounds)
        qb = 10.0 ** best.x[0]
        qa = 10.0 ** best.x[1] if fit_alpha else 0.0
        fitted = kalman_filter(y, x, model=model, q_alpha=qa, q_beta=qb, warmup=warmup)
        return replace(fitted, std_errors=_std_errors2(ya, xa, warmup, fitted, best.x, fit_alpha)) if std_errors \
            else fitted  # fmt: skip

    def objective3(theta):
        qb, r_rel = 10.0 ** np.clip(theta[0], *_LOG10_BOUNDS), 10.0 ** np.clip(theta[1], *_LOG10_BOUNDS)
        phi = 1.0 / (1.0 + math.exp(-theta[2]))
        qa = 10.0 ** np.clip(theta[3], *_LOG10_BOUNDS) if fit_alpha else 0.0
        return -_run3(ya, xa, warmup, qa, qb, r_rel, min(phi, _PHI_CAP))[0]

    # The likelihood is flat along φ with local optima near φ → 1 (a random-walk spread
    # competing with α): profile over a grid of half-lives first, then polish jointly.
    bounds = [_LOG10_BOUNDS, _LOG10_BOUNDS, (-10.0, 12.0)] + ([_LOG10_BOUNDS] if fit_alpha else [])
    profiles = []
    for half_life in _HALF_LIFE_GRID:
        logit = math.log(1.0 / (1.0 - 0.5 ** (1.0 / half_life)) - 1.0)
        extra = [-6.0] if fit_alpha else []

        def given_phi(theta, logit=logit, extra=extra):
            return objective3(np.r_[theta[:2], logit, theta[2:]])

        # coarse: the profile only picks the starting point of the joint polish below
        trial = _best_of(given_phi, [[-5.0, -3.0, *extra]], [bounds[0], bounds[1], *bounds[3:]], ftol=1e-6)
        profiles.append((trial.fun, np.r_[trial.x[:2], logit, trial.x[2:]]))
    start = min(profiles, key=lambda item: item[0])[1]
    best = _best_of(objective3, [start], bounds)
    phi = min(1.0 / (1.0 + math.exp(-best.x[2])), _PHI_CAP)
    fitted = kalman_filter(
        y, x, model=model, q_beta=10.0 ** best.x[0], r=10.0 ** best.x[1], phi=phi,
        q_alpha=10.0 ** best.x[3] if fit_alpha else 0.0, warmup=warmup,
    )  # fmt: skip
    return replace(fitted, std_errors=_std_errors3(ya, xa, warmup, fitted, best.x, fit_alpha)) if std_errors else fitted


def _interior(log10_value: float) -> bool:
    return _LOG10_BOUNDS[0] + 1e-3 < log10_value < _LOG10_BOUNDS[1] - 1e-3


def _std_errors2(ya, xa, warmup, fitted: KalmanResult, best_x, fit_alpha: bool) -> dict[str, float]:
    """kalman2: coordinates (log r, log q_β[, log q_α]) of the full likelihood (scale not concentrated)."""
    p = fitted.params
    names = ["r", "q_beta", *(["q_alpha"] if fit_alpha else [])]
    free = [True, _interior(best_x[0]), *([_interior(best_x[1])] if fit_alpha else [])]

    def loglik(theta):
        r = math.exp(theta[0])
        qa = math.exp(theta[2]) if fit_alpha else 0.0
        return _run2(ya, xa, warmup, qa / r, math.exp(theta[1]) / r, scale=r)[0]

    se = delta_std_errors(loglik, [p[k] for k in names], [LOG] * len(names), free)
    return {"r": se[0], "q_alpha": se[2] if fit_alpha else math.nan, "q_beta": se[1]}


def _std_errors3(ya, xa, warmup, fitted: KalmanResult, best_x, fit_alpha: bool) -> dict[str, float]:
    """kalman3: coordinates (log q_s, log q_β, log r, logit φ[, log q_α])."""
    p = fitted.params
    names = ["q_s", "q_beta", "r", "phi", *(["q_alpha"] if fit_alpha else [])]
    kinds = [LOG, LOG, LOG, LOGIT, *([LOG] if fit_alpha else [])]
    free = [True, _interior(best_x[0]), _interior(best_x[1]), p["phi"] < _PHI_CAP,
            *([_interior(best_x[3])] if fit_alpha else [])]  # fmt: skip

    def loglik(theta):
        qs = math.exp(theta[0])
        phi = 1.0 / (1.0 + math.exp(-theta[3]))
        qa = math.exp(theta[4]) if fit_alpha else 0.0
        return _run3(ya, xa, warmup, qa / qs, math.exp(theta[1]) / qs, math.exp(theta[2]) / qs, phi, scale=qs)[0]

    se = dict(zip(names, delta_std_errors(loglik, [p[k] for k in names], kinds, free), strict=True))
    return {"r": se["r"], "q_alpha": se.get("q_alpha", math.nan), "q_beta": se["q_beta"], "q_s": se["q_s"],
            "phi": se["phi"]}  # fmt: skip


def refilter(fitted: KalmanResult, y, x) -> KalmanResult:
    """Filter new bars with the parameters (and variance scale) of ``fitted``: no re-estimation.

    For walk-forward use: fit on a formation period, then ``refilter`` the whole series so the
    trading period's signal uses only parameters known before it started. The log-likelihood is
    that of the new bars at those parameters; ``std_errors`` are the fit's.
    """
    p = fitted.params
    if fitted.model == "kalman2":
        r = p["r"]
        result = kalman_filter(y, x, model="kalman2", q_alpha=p["q_alpha"] / r, q_beta=p["q_beta"] / r,
                               warmup=fitted.warmup, scale=r)  # fmt: skip
    else:
        qs = p["q_s"]
        result = kalman_filter(y, x, model="kalman3", q_alpha=p["q_alpha"] / qs, q_beta=p["q_beta"] / qs,
                               r=p["r"] / qs, phi=p["phi"], warmup=fitted.warmup, scale=qs)  # fmt: skip
    return replace(result, std_errors=fitted.std_errors)  # the parameters' own, from their fit


def _best_of(objective, starts, bounds, *, ftol: float = 2.2e-9):
    results = [
        minimize(objective, np.array(s, dtype=float), method="L-BFGS-B", bounds=bounds, options={"ftol": ftol})
        for s in starts
    ]
    finite = [r for r in results if np.isfinite(r.fun)]
    if not finite:
        raise InputError("the Kalman likelihood could not be evaluated; check the legs' prices")
    return min(finite, key=lambda r: r.fun)


def kalman_batch(
    y,
    x,
    *,
    q_alpha: float = 0.0,
    q_beta: float = 1e-6,
    warmup: int = 30,
    out: dict | None = None,
    keep_alpha: bool = True,
) -> dict[str, np.ndarray]:
    """``kalman2`` for many pairs at once: ``y``, ``x`` of shape (T, P), a column per pair
    (the layout of a prices DataFrame), with shared relative noise.

    Returns ``alpha``, ``beta``, ``zscore`` (T, P) and ``r`` (P,); each column equals
    :func:`kalman_filter` on that pair (to rounding). ``out`` may hold (T, P) arrays
    ``alpha``, ``beta``, ``zscore`` to fill, so a loop over blocks of pairs reuses memory.
    ``keep_alpha=False`` skips the α paths (a third of the memory written) when only β and
    the z-score are wanted, as in a scan; ``alpha`` is then not returned.
    """
    # finiteness is checked after the run: a NaN or inf anywhere reaches r̂ (a pass over the data saved)
    ya, xa = _legs(y, x, 2, "(bars, pairs) arrays of one shape", check_finite=False)
    n, pairs = ya.shape
    if n < warmup + 20:
        raise InputError(f"{n} bars: need at least warm-up ({warmup}) + 20")
    # The OLS prior of every pair at once, from centred warm-up sums (numerically stable):
    # b = Sxy/Sxx, a = ȳ − b x̄, (XᵀX)⁻¹ = [[1/W + x̄²/Sxx, −x̄/Sxx], [−x̄/Sxx, 1/Sxx]].
    xw, yw = xa[:warmup], ya[:warmup]
    xm, ym = xw.mean(axis=0), yw.mean(axis=0)
    sxx = ((xw - xm) ** 2).sum(axis=0)
    if np.any(sxx <= 0):
        raise InputError("a pair's x leg is constant over the warm-up; a hedge ratio is not defined")
    b0 = ((xw - xm) * (yw - ym)).sum(axis=0) / sxx
    a0 = ym - b0 * xm
    p00 = _PRIOR_INFLATION * (1.0 / warmup + xm * xm / sxx)
    p01 = _PRIOR_INFLATION * (-xm / sxx)
    p11 = _PRIOR_INFLATION / sxx
    qa = np.full(pairs, float(q_alpha))
    qb = np.full(pairs, float(q_beta))
    if out is None:
        beta, z = np.empty((n, pairs)), np.empty((n, pairs))
        alpha = np.empty((n, pairs)) if keep_alpha else np.empty((1, 1))
    else:
        alpha = out["alpha"] if keep_alpha else np.empty((1, 1))
        beta, z = out["beta"], out["zscore"]
        if any(
            arr.shape != (n, pairs) or arr.dtype != np.float64 for arr in ((alpha,) if keep_alpha else ()) + (beta, z)
        ):
            raise InputError(f"out arrays must be float64 of shape {(n, pairs)}")
    # one block per thread, vectorised inside; at least 64 pairs a block to keep the CPU's lanes busy
    block = int(min(512, max(64, -(-pairs // numba.get_num_threads()))))
    r = _kernels.kalman2_batch(ya, xa, qa, qb, a0, b0, p00, p01, p11, warmup, alpha, beta, z, block, keep_alpha)
    if not np.isfinite(r).all():
        _check_finite(ya, xa)
    z /= np.sqrt(r)  # in place: the arrays are large
    z[:warmup] = np.nan
    result = {"beta": beta, "zscore": z, "r": r}
    if keep_alpha:
        result["alpha"] = alpha
    return result
