"""Numba Kalman filters for pair hedge ratios (arrays in, arrays out; no pandas).

``kalman2``: state ``[α, β]`` random walks, ``y_t = α_t + β_t x_t + ε_t``.
``kalman3``: state ``[α, β, s]`` with ``s_t = φ s_{t−1} + η_t`` mean reverting,
``y_t = α_t + β_t x_t + s_t + ε_t``.

Variances are given *relative to* a common scale σ² (``kalman2``: the observation
variance, ``r = 1``; ``kalman3``: the spread's innovation variance, ``q_s = 1``, so
that a pair with no observation noise, ``r → 0``, stays inside the parameter space),
and the prior covariance likewise, so the filter yields scale-free innovation
variances ``S*_t``. Each kernel returns the two sums the Gaussian log-likelihood
needs over the scored bars ``t ≥ warmup``: ``Q = Σ e_t²/S*_t`` and ``L = Σ log S*_t``;
with a variance scale ``σ²`` the log-likelihood of those ``N`` bars is

    ℓ(σ²) = −½ (N log 2π + N log σ² + L + Q / σ²),

maximised at ``σ̂² = Q / N`` (where ``Q / σ̂² = N``: the concentrated likelihood).
With ``store`` false nothing is written (an MLE search only needs the sums).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["kalman2", "kalman2_batch", "kalman3", "rescale"]

# fastmath without "nnan"/"ninf": a NaN in the data must still reach the sums the caller checks
_FAST = {"nsz", "arcp", "contract", "reassoc"}
_RENORMALISE = 15  # fold the running product of S*_t into (mantissa, exponent) every 16 bars


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def kalman2(
    y, x, qa, qb, a0, b0, p00, p01, p11, warmup, scale, store, alpha, beta, spread, z, innov, svar
):  # pragma: no cover
    """The 2-state filter in one pass, with everything :func:`~astra.statarb.kalman_filter` reports.

    Writes (when ``store``) the filtered α, β (after the update at t), the posterior spread
    ``y_t − α_t − β_t x_t`` (equal to ``e_t / S*_t``), the innovation ``e_t``, and — given a
    ``scale`` > 0 — the innovation variance ``scale · S*_t`` and z-score ``e_t / √(scale · S*_t)``;
    with ``scale`` ≤ 0 they are left scale-free (``S*_t``, ``e_t / √S*_t``) for the caller to
    rescale once ``σ̂²`` is known (:func:`rescale`).

    Returns ``(Q, L, s1, s2, s_lag, v_last, y_min, y_max)``: the likelihood sums above, the sums
    giving the AR(1) coefficient of ``u_t = y_t − β_t x_t`` over the scored bars (shifted by
    ``u_warmup``: ``Σv``, ``Σv²``, ``Σ v_t v_{t−1}`` and the last ``v``), and the range of ``y``.
    """
    n = y.shape[0]
    a, b = a0, b0
    z_mul = 1.0 / math.sqrt(scale) if scale > 0 else 1.0
    s_mul = scale if scale > 0 else 1.0
    q_sum = 0.0
    mantissa, exponent = 1.0, 0
    shift = 0.0
    s1 = 0.0
    s2 = 0.0
    s_lag = 0.0
    v_prev = 0.0
    y_min = y[0]
    y_max = y[0]
    # carried: the predicted covariance P_t|t−1 = P_t−1|t−1 + Q, so the state noise is added off
    # the critical path (fma → fma → divide → fma per bar, the filter's whole latency)
    p00 += qa
    p11 += qb
    for t in range(n):
        xt = x[t]
        yt = y[t]
        h0 = p00 + p01 * xt
        h1 = p01 + p11 * xt
        s = xt * h1 + (h0 + 1.0)
        inv = 1.0 / s
        e = yt - a - b * xt
        k0 = h0 * inv
        k1 = h1 * inv
        a += k0 * e
        b += k1 * e
        p00 = (p00 + qa) - k0 * h0  # P − k kᵀ S (k S = h), then + Q for the next bar
        p01 = p01 - k0 * h1
        p11 = (p11 + qb) - k1 * h1
        y_min = min(y_min, yt)
        y_max = max(y_max, yt)
        if store:
            alpha[t] = a
            beta[t] = b
            innov[t] = e
            spread[t] = e * inv  # y − hᵀm after the update: e (1 − hᵀk) = e / S*
            svar[t] = s * s_mul
            z[t] = e * math.sqrt(inv) * z_mul  # off the critical path: nearly free here
        if t >= warmup:
            q_sum += e * e * inv
            mantissa *= s
            if (t & _RENORMALISE) == 0:
                mantissa, step = math.frexp(mantissa)
                exponent += step
            u = yt - b * xt
            if t == warmup:
                shift = u
            v = u - shift
            s1 += v
            s2 += v * v
            s_lag += v * v_prev
            v_prev = v
    log_sum = math.log(mantissa) + exponent * math.log(2.0)
    return q_sum, log_sum, s1, s2, s_lag, v_prev, y_min, y_max


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def rescale(z, svar, scale, warmup):  # pragma: no cover
    """After :func:`kalman2` without a scale, in place and in one pass: ``z_t ← z*_t / √σ²``
    (NaN in the warm-up) and ``S_t ← σ² S*_t``."""
    z_mul = 1.0 / math.sqrt(scale)
    for t in range(warmup):
        z[t] = np.nan
        svar[t] *= scale
    for t in range(warmup, z.shape[0]):
        z[t] *= z_mul
        svar[t] *= scale


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


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def kalman3(y, x, qa, qb, qs, r, phi, m0, p0, warmup, store, states, s_var, innov, svar):  # pragma: no cover
    """The 3-state filter: writes (when ``store``) the filtered states [α, β, s] (T, 3), s's
    filtered variance, the innovation and its variance (all relative to the scale, ``qs`` = 1
    in use); returns ``(Q, L)``, the likelihood sums over ``t ≥ warmup``.

    ``m0`` (3,) and ``p0`` (3, 3) are the prior mean and (relative) covariance before bar 0.
    The symmetric covariance is carried as six scalars (registers, not an array).
    """
    n = y.shape[0]
    m0_, m1, m2 = m0[0], m0[1], m0[2]
    p00, p01, p02, p11, p12, p22 = p0[0, 0], p0[0, 1], p0[0, 2], p0[1, 1], p0[1, 2], p0[2, 2]
    phi2 = phi * phi
    q_sum = 0.0
    mantissa, exponent = 1.0, 0
    for t in range(n):
        # predict: m = F m, P = F P F' + Q with F = diag(1, 1, φ)
        m2 *= phi
        p02 *= phi
        p12 *= phi
        p22 = p22 * phi2 + qs
        p00 += qa
        p11 += qb
        xt = x[t]
        # h = (1, x_t, 1): ph = P h, S = hᵀ P h + r
        ph0 = p00 + p01 * xt + p02
        ph1 = p01 + p11 * xt + p12
        ph2 = p02 + p12 * xt + p22
        s = ph0 + xt * ph1 + ph2 + r
        inv = 1.0 / s
        e = y[t] - (m0_ + m1 * xt + m2)
        k0 = ph0 * inv
        k1 = ph1 * inv
        k2 = ph2 * inv
        m0_ += k0 * e
        m1 += k1 * e
        m2 += k2 * e
        p00 -= k0 * ph0
        p01 -= k0 * ph1
        p02 -= k0 * ph2
        p11 -= k1 * ph1
        p12 -= k1 * ph2
        p22 -= k2 * ph2
        if store:
            states[t, 0] = m0_
            states[t, 1] = m1
            states[t, 2] = m2
            s_var[t] = p22
            innov[t] = e
            svar[t] = s
        if t >= warmup:
            q_sum += e * e * inv
            mantissa *= s
            if (t & _RENORMALISE) == 0:
                mantissa, step = math.frexp(mantissa)
                exponent += step
    return q_sum, math.log(mantissa) + exponent * math.log(2.0)
