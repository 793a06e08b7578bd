"""Numba Kalman filters for pair hedge ratios: float64 arrays in, arrays out, no pandas.

``kalman2``: state ``[α, β]``, both random walks, observed through
``y_t = α_t + β_t·x_t + ε_t``, ``ε_t ~ N(0, r)``, state noise ``diag(q_α, q_β)``.

``kalman3``: state ``[α, β, s]`` with a mean-reverting spread ``s_t = φ·s_{t−1} + η_t``,
``η_t ~ N(0, q_s)``, observed through ``y_t = α_t + β_t·x_t + s_t + ε_t``.

Timing: the prior ``(m0, P0)`` is the state *after* bar −1, so bar 0 is predicted with the
transition and its noise like every other bar. Each filter returns the Gaussian
log-likelihood of bars ``score_from`` onwards (the bars before it formed the prior and are
not scored). No ``fastmath``: the batch filter must equal a loop of single filters bit for bit.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["kalman2_filter", "kalman2_filter_batch", "kalman3_filter", "warmup_ols"]

_LOG_2PI = math.log(2.0 * math.pi)


@numba.njit(cache=False, nogil=True)
def warmup_ols(y, x, warmup):  # pragma: no cover - compiled
    """OLS of ``y`` on ``[1, x]`` over the first ``warmup`` bars, from centred sums.

    Returns
    -------
    tuple
        ``(a, b, xtx_inv, resid_var, resid_ar1)``: intercept (price units), slope, the
        2×2 ``(XᵀX)⁻¹`` (so the coefficient covariance is ``resid_var · xtx_inv``), the residual
        variance with ``warmup − 2`` degrees of freedom (price²) and the lag-1 autoregression
        coefficient of the residuals. ``xtx_inv`` is NaN when ``x`` is constant.
    """
    xm = 0.0
    ym = 0.0
    for t in range(warmup):
        xm += x[t]
        ym += y[t]
    xm /= warmup
    ym /= warmup
    sxx = 0.0
    sxy = 0.0
    for t in range(warmup):
        sxx += (x[t] - xm) * (x[t] - xm)
        sxy += (x[t] - xm) * (y[t] - ym)
    xtx_inv = np.empty((2, 2))
    if sxx <= 0.0:
        xtx_inv[:] = np.nan
        return ym, 0.0, xtx_inv, np.nan, np.nan
    b = sxy / sxx
    a = ym - b * xm
    xtx_inv[0, 0] = 1.0 / warmup + xm * xm / sxx
    xtx_inv[0, 1] = -xm / sxx
    xtx_inv[1, 0] = -xm / sxx
    xtx_inv[1, 1] = 1.0 / sxx
    ss = 0.0
    lag_cross = 0.0
    lag_sq = 0.0
    previous = 0.0
    for t in range(warmup):
        resid = y[t] - a - b * x[t]
        ss += resid * resid
        if t > 0:
            lag_cross += resid * previous
            lag_sq += previous * previous
        previous = resid
    resid_var = ss / max(warmup - 2, 1)
    ar1 = lag_cross / lag_sq if lag_sq > 0.0 else 0.0
    return a, b, xtx_inv, resid_var, ar1


@numba.njit(cache=False, nogil=True)
def kalman2_filter(y, x, q_alpha, q_beta, r, a0, b0, p0, score_from=0):  # pragma: no cover - compiled
    """Filter the random-walk regression ``y_t = α_t + β_t·x_t + ε_t``.

    Parameters
    ----------
    y, x : ndarray, shape (T,)
        Prices of the two legs (float64).
    q_alpha, q_beta : float
        Per-bar variances of the α (price²) and β (dimensionless²) random walks, ≥ 0.
    r : float
        Observation noise variance (price²), > 0.
    a0, b0 : float
        Prior mean of α and β.
    p0 : ndarray, shape (2, 2)
        Prior covariance of ``[α, β]`` (positive definite; never zero).
    score_from : int
        First bar that counts in the log-likelihood.

    Returns
    -------
    alpha, beta : ndarray, shape (T,)
        Filtered states after the update at bar t.
    innovation, innovation_var : ndarray, shape (T,)
        ``e_t = y_t − α_{t|t−1} − β_{t|t−1}·x_t`` (price) and its variance ``S_t`` (price²).
    loglik : float
        ``−½ Σ_{t ≥ score_from} (log 2π + log S_t + e_t²/S_t)``.
    """
    n = y.shape[0]
    alpha = np.empty(n)
    beta = np.empty(n)
    innov = np.empty(n)
    svar = np.empty(n)
    a = a0
    b = b0
    p00 = p0[0, 0]
    p01 = p0[0, 1]
    p11 = p0[1, 1]
    loglik = 0.0
    for t in range(n):
        p00 += q_alpha  # predict: random walks keep the mean and add their noise
        p11 += q_beta
        xt = x[t]
        h0 = p00 + p01 * xt  # P·h with h = [1, x_t]
        h1 = p01 + p11 * xt
        s = h0 + xt * h1 + r
        e = y[t] - a - b * xt
        k0 = h0 / s
        k1 = h1 / s
        a += k0 * e
        b += k1 * e
        p00 -= k0 * h0  # P − k·kᵀ·S, with k·S = P·h
        p01 -= k0 * h1
        p11 -= k1 * h1
        alpha[t] = a
        beta[t] = b
        innov[t] = e
        svar[t] = s
        if t >= score_from:
            loglik -= 0.5 * (_LOG_2PI + math.log(s) + e * e / s)
    return alpha, beta, innov, svar, loglik


@numba.njit(cache=False, nogil=True, parallel=True)
def kalman2_filter_batch(y, x, q_alpha, q_beta, r, a0, b0, p0, score_from=0):  # pragma: no cover - compiled
    """:func:`kalman2_filter` for many pairs: ``y``, ``x`` of shape (pairs, T), a row per pair.

    ``q_alpha``, ``q_beta``, ``r``, ``a0``, ``b0`` have shape (pairs,) and ``p0`` (pairs, 2, 2).
    Pairs run in parallel (``prange``), each through the very same single-pair filter, so every
    row equals :func:`kalman2_filter` on that pair exactly. Returns ``alpha``, ``beta``,
    ``innovation``, ``innovation_var`` of shape (pairs, T) and ``loglik`` of shape (pairs,).
    """
    pairs, n = y.shape
    alpha = np.empty((pairs, n))
    beta = np.empty((pairs, n))
    innov = np.empty((pairs, n))
    svar = np.empty((pairs, n))
    loglik = np.empty(pairs)
    for i in numba.prange(pairs):
        out = kalman2_filter(y[i], x[i], q_alpha[i], q_beta[i], r[i], a0[i], b0[i], p0[i], score_from)
        alpha[i] = out[0]
        beta[i] = out[1]
        innov[i] = out[2]
        svar[i] = out[3]
        loglik[i] = out[4]
    return alpha, beta, innov, svar, loglik


@numba.njit(cache=False, nogil=True)
def kalman3_filter(y, x, q_alpha, q_beta, q_s, r, phi, m0, p0, score_from=0):  # pragma: no cover - compiled
    """Filter ``y_t = α_t + β_t·x_t + s_t + ε_t`` with an AR(1) spread ``s_t = φ·s_{t−1} + η_t``.

    Parameters
    ----------
    y, x : ndarray, shape (T,)
        Prices of the two legs (float64).
    q_alpha, q_beta, q_s : float
        Per-bar state noise variances of α (price²), β (dimensionless²) and the spread (price²).
    r : float
        Observation noise variance (price²), ≥ 0 (the spread state keeps ``S_t > 0``).
    phi : float
        AR(1) coefficient of the spread per bar, in (0, 1).
    m0 : ndarray, shape (3,)
        Prior mean of ``[α, β, s]``.
    p0 : ndarray, shape (3, 3)
        Prior covariance.
    score_from : int
        First bar that counts in the log-likelihood.

    Returns
    -------
    spread, spread_var : ndarray, shape (T,)
        Filtered ``s_t`` (price) and its filtered variance ``P_ss,t`` (price²).
    alpha, beta : ndarray, shape (T,)
        Filtered α and β.
    innovation, innovation_var : ndarray, shape (T,)
        One-step prediction error of ``y_t`` (price) and its variance (price²).
    loglik : float
        Gaussian log-likelihood of bars ``score_from`` onwards.
    """
    n = y.shape[0]
    spread = np.empty(n)
    spread_var = np.empty(n)
    alpha = np.empty(n)
    beta = np.empty(n)
    innov = np.empty(n)
    svar = np.empty(n)
    m = m0.copy()
    p = p0.copy()
    f = np.array([1.0, 1.0, phi])
    h = np.ones(3)
    ph = np.zeros(3)
    loglik = 0.0
    for t in range(n):
        # predict: m = F·m, P = F·P·Fᵀ + Q with F = diag(1, 1, φ)
        m[2] *= phi
        for i in range(3):
            for j in range(3):
                p[i, j] *= f[i] * f[j]
        p[0, 0] += q_alpha
        p[1, 1] += q_beta
        p[2, 2] += q_s
        h[1] = x[t]
        for i in range(3):
            ph[i] = p[i, 0] + p[i, 1] * h[1] + p[i, 2]
        s = ph[0] + h[1] * ph[1] + ph[2] + r
        e = y[t] - (m[0] + m[1] * h[1] + m[2])
        for i in range(3):
            m[i] += ph[i] / s * e
        for i in range(3):
            for j in range(3):
                p[i, j] -= ph[i] * ph[j] / s
        alpha[t] = m[0]
        beta[t] = m[1]
        spread[t] = m[2]
        spread_var[t] = p[2, 2]
        innov[t] = e
        svar[t] = s
        if t >= score_from:
            loglik -= 0.5 * (_LOG_2PI + math.log(s) + e * e / s)
    return spread, spread_var, alpha, beta, innov, svar, loglik
