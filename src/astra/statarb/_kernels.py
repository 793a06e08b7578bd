"""Numba Kalman filters for pair hedge ratios (arrays in, arrays out; no pandas).

``kalman2``: state ``[α, β]`` random walks, ``y_t = α_t + β_t x_t + ε_t``.
``kalman3``: state ``[α, β, s]`` with ``s_t = φ s_{t−1} + η_t`` mean reverting,
``y_t = α_t + β_t x_t + s_t + ε_t``.

Variances are given *relative to* a common scale σ² (``kalman2``: the observation
variance, ``r = 1``; ``kalman3``: the spread's innovation variance, ``q_s = 1``, so
that a pair with no observation noise, ``r → 0``, stays inside the parameter space),
and the prior covariance likewise, so the filter yields scale-free innovation
variances ``S*_t`` and the likelihood is concentrated: ``σ̂² = mean(e_t² / S*_t)``.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["kalman2", "kalman2_batch", "kalman3"]


@numba.njit(cache=True, nogil=True)
def kalman2(y, x, qa, qb, a0, b0, p00, p01, p11):  # pragma: no cover
    """Filtered α, β (after the update at t), innovation e_t and its variance S_t (all with r = 1)."""
    n = y.shape[0]
    alpha = np.empty(n)
    beta = np.empty(n)
    innov = np.empty(n)
    svar = np.empty(n)
    a, b = a0, b0
    for t in range(n):
        p00 += qa
        p11 += qb
        xt = x[t]
        h0 = p00 + p01 * xt
        h1 = p01 + p11 * xt
        s = h0 + xt * h1 + 1.0
        e = y[t] - a - b * xt
        k0 = h0 / s
        k1 = h1 / s
        a += k0 * e
        b += k1 * e
        p00 -= k0 * k0 * s
        p01 -= k0 * k1 * s
        p11 -= k1 * k1 * s
        alpha[t] = a
        beta[t] = b
        innov[t] = e
        svar[t] = s
    return alpha, beta, innov, svar


@numba.njit(cache=True, nogil=True, parallel=True)
def kalman2_batch(y, x, qa, qb, a0, b0, p00, p01, p11):  # pragma: no cover
    """:func:`kalman2` for many pairs: rows of ``y``/``x`` (P, T); per-pair parameter arrays."""
    pairs, n = y.shape
    beta = np.empty((pairs, n))
    alpha = np.empty((pairs, n))
    innov = np.empty((pairs, n))
    svar = np.empty((pairs, n))
    for p in numba.prange(pairs):
        al, be, e, s = kalman2(y[p], x[p], qa[p], qb[p], a0[p], b0[p], p00[p], p01[p], p11[p])
        alpha[p] = al
        beta[p] = be
        innov[p] = e
        svar[p] = s
    return alpha, beta, innov, svar


@numba.njit(cache=True, nogil=True)
def kalman3(y, x, qa, qb, qs, r, phi, m0, p0):  # pragma: no cover
    """Filtered states [α, β, s] (T, 3), s's variance, innovation and its variance.

    Variances ``qa, qb, qs, r`` and the prior covariance ``p0`` are relative to a common
    scale (concentrated out by the caller); ``m0`` (3,) is the prior mean.
    """
    n = y.shape[0]
    states = np.empty((n, 3))
    s_var = np.empty(n)
    innov = np.empty(n)
    svar = np.empty(n)
    m = m0.copy()
    p = p0.copy()
    f = np.array([1.0, 1.0, phi])
    h = np.zeros(3)
    ph = np.zeros(3)
    for t in range(n):
        # predict: m = F m, P = F P F' + Q with F = diag(1, 1, φ)
        m[2] *= phi
        for i in range(3):
            for j in range(3):
                p[i, j] *= f[i] * f[j]
        p[0, 0] += qa
        p[1, 1] += qb
        p[2, 2] += qs
        h[0] = 1.0
        h[1] = x[t]
        h[2] = 1.0
        for i in range(3):
            ph[i] = p[i, 0] * h[0] + p[i, 1] * h[1] + p[i, 2] * h[2]
        s = h[0] * ph[0] + h[1] * ph[1] + h[2] * ph[2] + r
        e = y[t] - (m[0] * h[0] + m[1] * h[1] + m[2] * h[2])
        for i in range(3):
            m[i] += ph[i] / s * e
        for i in range(3):
            for j in range(3):
                p[i, j] -= ph[i] * ph[j] / s
        states[t, 0] = m[0]
        states[t, 1] = m[1]
        states[t, 2] = m[2]
        s_var[t] = p[2, 2]
        innov[t] = e
        svar[t] = s
    return states, s_var, innov, svar
