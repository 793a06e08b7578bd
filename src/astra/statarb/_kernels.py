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

__all__ = ["kalman2", "kalman2_batch", "kalman2_into", "kalman3", "kalman3_into"]


@numba.njit(cache=True, nogil=True, fastmath=True)
def kalman2_into(y, x, qa, qb, a0, b0, p00, p01, p11, alpha, beta, innov, svar):  # pragma: no cover
    """:func:`kalman2` writing into given arrays: repeated runs (an MLE search) reuse the memory
    instead of paying fresh page faults each time (about half the cost of a 100,000-bar run)."""
    a, b = a0, b0
    for t in range(y.shape[0]):
        p00 += qa
        p11 += qb
        xt = x[t]
        h0 = p00 + p01 * xt
        h1 = p01 + p11 * xt
        s = h0 + xt * h1 + 1.0
        inv = 1.0 / s
        e = y[t] - a - b * xt
        k0 = h0 * inv
        k1 = h1 * inv
        a += k0 * e
        b += k1 * e
        p00 -= k0 * h0  # P − k kᵀ S, with k S = h
        p01 -= k0 * h1
        p11 -= k1 * h1
        alpha[t] = a
        beta[t] = b
        innov[t] = e
        svar[t] = s


@numba.njit(cache=True, nogil=True)
def kalman2(y, x, qa, qb, a0, b0, p00, p01, p11):  # pragma: no cover
    """Filtered α, β (after the update at t), innovation e_t and its variance S_t (all with r = 1)."""
    n = y.shape[0]
    alpha = np.empty(n)
    beta = np.empty(n)
    innov = np.empty(n)
    svar = np.empty(n)
    kalman2_into(y, x, qa, qb, a0, b0, p00, p01, p11, alpha, beta, innov, svar)
    return alpha, beta, innov, svar


@numba.njit(cache=True, nogil=True, fastmath=True, parallel=True, error_model="numpy")
def kalman2_batch(
    y, x, qa, qb, a0, b0, p00, p01, p11, warmup, alpha, beta, zstar, block, keep_alpha
):  # pragma: no cover
    """:func:`kalman2` for many pairs at once; ``y``, ``x`` are (T, P): a column per pair.

    Time-major, pairs innermost in blocks of ``block`` (one block per thread at most), so one
    filter's sequential dependency is hidden behind the others' and the inner loop, over local
    arrays only, vectorises. Writes α (when ``keep_alpha``), β and the scale-free standardised innovation
    ``e_t / √S*_t`` into the (T, P) outputs; returns, per pair, the mean square of the latter
    after ``warmup`` (the concentrated observation variance ``r̂``).
    """
    n, pairs = y.shape
    r_hat = np.zeros(pairs)
    blocks = (pairs + block - 1) // block
    for blk in numba.prange(blocks):
        lo = blk * block
        hi = min(pairs, lo + block)
        m = hi - lo
        a = a0[lo:hi].copy()
        b = b0[lo:hi].copy()
        c00 = p00[lo:hi].copy()
        c01 = p01[lo:hi].copy()
        c11 = p11[lo:hi].copy()
        qa_ = qa[lo:hi].copy()
        qb_ = qb[lo:hi].copy()
        acc = np.zeros(m)
        zs = np.empty(m)
        for t in range(n):
            yt = y[t, lo:hi]
            xt = x[t, lo:hi]
            for j in range(m):
                q00 = c00[j] + qa_[j]
                q11 = c11[j] + qb_[j]
                q01 = c01[j]
                xj = xt[j]
                h0 = q00 + q01 * xj
                h1 = q01 + q11 * xj
                inv = 1.0 / (h0 + xj * h1 + 1.0)
                e = yt[j] - a[j] - b[j] * xj
                k0 = h0 * inv
                k1 = h1 * inv
                a[j] += k0 * e
                b[j] += k1 * e
                c00[j] = q00 - k0 * h0
                c01[j] = q01 - k0 * h1
                c11[j] = q11 - k1 * h1
                zs[j] = e * np.sqrt(inv)
            if keep_alpha:
                alpha[t, lo:hi] = a
            beta[t, lo:hi] = b
            zstar[t, lo:hi] = zs
            if t >= warmup:
                for j in range(m):
                    acc[j] += zs[j] * zs[j]
        for j in range(m):
            r_hat[lo + j] = acc[j] / max(n - warmup, 1)
    return r_hat


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
    kalman3_into(y, x, qa, qb, qs, r, phi, m0, p0, states, s_var, innov, svar)
    return states, s_var, innov, svar


@numba.njit(cache=True, nogil=True)
def kalman3_into(y, x, qa, qb, qs, r, phi, m0, p0, states, s_var, innov, svar):  # pragma: no cover
    """:func:`kalman3` writing into given arrays (reused across an MLE search)."""
    n = y.shape[0]
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
