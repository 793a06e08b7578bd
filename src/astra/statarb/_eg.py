"""Numba kernel of the Engle–Granger test for many pairs: statsmodels' ``coint`` semantics.

For each pair, on the bars where both legs have a value (pairwise complete, in order):

1. the cointegrating regression ``y = βx + D γ + e`` with deterministic terms ``D``: none
   (``n``), a constant (``c``), constant and trend (``ct``), or also a squared trend
   (``ctt``). ``D`` is taken as orthonormal discrete (Gram) polynomials in the bar number,
   which span the same space as statsmodels' ``[1, t, t²]``: same residuals, no
   ill-conditioned ``t⁴`` sums;
2. when ``R² ≥ 1 − 100 √ε`` the legs are (almost) collinear: statistic ``−∞`` (statsmodels);
3. the augmented Dickey–Fuller regression on the residual without deterministic terms,
   ``Δe_i = ρ e_{i−1} + Σ_{j=1..p} φ_j Δe_{i−j} + u_i``, with ``p`` fixed (``maxlag``) or
   chosen (``autolag``: AIC, BIC, or the t-statistic of the last lag at 1.645) among
   ``0..maxlag`` on the common sample of the longest model, then re-estimated on its own
   sample (``adfuller``'s rules; ``maxlag`` < 0 means Schwert's ``⌈12 (n/100)^¼⌉``).

Nested regressions share one Cholesky factor of the Gram matrix: the first ``k`` columns'
residual sum of squares is ``tss − Σ_{i<k} z_i²`` with ``z = R⁻ᵀ Xᵀy``, and the
t-statistic of the ``k``-th column is ``z_{k−1} / σ̂_k``. The level column is put last for
the final regression so its t-statistic comes out the same way.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["AUTOLAG", "STATUS", "TRENDS", "eg_pairs", "schwert_maxlag"]

TRENDS = ("n", "c", "ct", "ctt")
AUTOLAG = (None, "aic", "bic", "t-stat")
# per-pair outcome codes
OK, TOO_SHORT, CONSTANT, COLLINEAR, LAG_TOO_LONG = 0, 1, 2, 3, 4
STATUS = {OK: "ok", TOO_SHORT: "too few common bars", CONSTANT: "constant leg", COLLINEAR: "collinear legs",
          LAG_TOO_LONG: "maxlag too long for the common bars"}  # fmt: skip
_T_STOP = 1.6448536269514722  # statsmodels' "t-stat" rule: stop at the first |t| ≥ Φ⁻¹(0.95)
_COLLINEAR_R2 = 1.0 - 100.0 * math.sqrt(np.finfo(float).eps)
_FAST = {"nsz", "arcp", "contract", "reassoc"}  # reductions vectorise; NaN and inf keep their meaning


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def schwert_maxlag(n):  # pragma: no cover
    """adfuller's default maximum lag for ``n`` residuals, regression ``n`` (−1 if too short)."""
    lag = math.ceil(12.0 * (n / 100.0) ** 0.25)
    return min(n // 2 - 1, lag)


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _dot(a, i0, b, j0, count):  # pragma: no cover
    """``Σ_{m<count} a[i0+m] b[j0+m]`` (vectorised: the order of the sum is free)."""
    total = 0.0
    for m in range(count):
        total += a[i0 + m] * b[j0 + m]
    return total


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _cholesky_solve(gram, rhs, k, z, chol):  # pragma: no cover
    """Cholesky ``gram[:k, :k] = L Lᵀ`` (lower triangle read) into ``chol``, ``z = L⁻¹ rhs``;
    False if not positive definite."""
    for i in range(k):
        for j in range(i + 1):
            s = gram[i, j]
            for m in range(j):
                s -= chol[i, m] * chol[j, m]
            if i == j:
                if s <= 0.0:
                    return False
                chol[i, i] = math.sqrt(s)
            else:
                chol[i, j] = s / chol[j, j]
        s = rhs[i]
        for m in range(i):
            s -= chol[i, m] * z[m]
        z[i] = s / chol[i, i]
    return True


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _adf_gram(e, d, n, lags, level_last, gram, rhs):  # pragma: no cover
    """Gram matrix (lower triangle), ``Xᵀ Δe`` and ``Σ Δe²`` of the ADF regression with ``lags``
    lagged differences on its rows ``i = lags..n−2`` (``d[i] = Δe_i = e_{i+1} − e_i``).

    Columns: the level ``e_i``, then ``d[i−1]..d[i−lags]`` (or the level last). The lagged
    differences' cross sums over a window that slides by one bar per lag come from one dot
    product per lag distance plus edge terms: O(n·lags), not O(n·lags²).
    """
    k = lags + 1
    r0 = lags
    rows = n - 1 - r0
    lvl = k - 1 if level_last else 0
    off = 0 if level_last else 1  # column of lag j is j − 1 + off
    # A(j, j + δ) = Σ_i d[i−j] d[i−j−δ] for j, j + δ in 0..lags (j = 0: the target)
    for delta in range(k):
        acc = _dot(d, r0, d, r0 - delta, rows)
        for j in range(k - delta):
            if j > 0:  # slide the window one bar back: drop its last term, add the one before it
                acc += d[r0 - j] * d[r0 - j - delta] - d[n - 1 - j] * d[n - 1 - j - delta]
            lj = j + delta
            if j == 0:
                if delta == 0:
                    tss = acc
                else:
                    rhs[lj - 1 + off] = acc
            else:
                a, b = j - 1 + off, lj - 1 + off
                gram[max(a, b), min(a, b)] = acc
    # the level's sums: Σ e_i d[i−j] (j = 0: with the target) and Σ e_i²
    gram[lvl, lvl] = _dot(e, r0, e, r0, rows)
    rhs[lvl] = _dot(e, r0, d, r0, rows)
    for j in range(1, k):
        col = j - 1 + off
        value = _dot(e, r0, d, r0 - j, rows)
        if level_last:
            gram[lvl, col] = value
        else:
            gram[col, lvl] = value
    return tss


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _adf(e, d, n, maxlag, autolag, gram, rhs, z, chol):  # pragma: no cover
    """ADF t-statistic (regression ``n``) of residuals ``e[:n]`` and the lag used; ``(nan, −1)`` if singular."""
    if autolag == 0:
        best = maxlag
    else:
        # every model 0..maxlag on the rows of the longest, from one factorisation
        tss = _adf_gram(e, d, n, maxlag, False, gram, rhs)
        k_all = maxlag + 1
        if not _cholesky_solve(gram, rhs, k_all, z, chol):
            return math.nan, -1
        nobs = n - 1 - maxlag
        best = maxlag
        ssr = tss
        if autolag == 3:  # t-stat: from the longest model down, stop at the first significant last lag
            ssr_k = np.empty(k_all)
            for k in range(k_all):
                ssr -= z[k] * z[k]
                ssr_k[k] = ssr
            for k in range(k_all, 0, -1):
                best = k - 1
                if abs(z[k - 1] / math.sqrt(ssr_k[k - 1] / (nobs - k))) >= _T_STOP:
                    break
        else:
            penalty = 2.0 if autolag == 1 else math.log(nobs)
            best_ic = math.inf
            for k in range(1, k_all + 1):
                ssr -= z[k - 1] * z[k - 1]
                llf = -0.5 * nobs * (math.log(2.0 * math.pi) + math.log(ssr / nobs) + 1.0)
                ic = -2.0 * llf + penalty * k
                if ic < best_ic:  # ties keep the shorter model, as statsmodels' min over (ic, lag)
                    best_ic = ic
                    best = k - 1
    k = best + 1
    tss = _adf_gram(e, d, n, best, True, gram, rhs)
    if not _cholesky_solve(gram, rhs, k, z, chol):
        return math.nan, -1
    ssr = tss
    for i in range(k):
        ssr -= z[i] * z[i]
    return z[k - 1] / math.sqrt(ssr / (n - 1 - best - k)), best


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _detrend(v, n, n_det, out, coef):  # pragma: no cover
    """``out[:n]``: ``v[:n]`` minus its projection on the first ``n_det`` Gram polynomials
    (orthonormal on bars 0..n−1: 1/√n, u·s1, (u² − c)·s2 with u = t − (n−1)/2), whose
    coefficients go to ``coef``. Returns ``(Σ out², total sum of squares for R², constant?)``:
    the latter centred when there is a constant (``Σ out² + Σ_{j≥1} coef_j²``), else ``Σ v²``."""
    mid = 0.5 * (n - 1)
    c = (n * n - 1.0) / 12.0
    q0 = 1.0 / math.sqrt(n)
    s1 = 1.0 / math.sqrt(n * c)
    s2 = 1.0 / math.sqrt(n * (n * n - 1.0) * (n * n - 4.0) / 180.0) if n > 2 else 0.0
    coef[0] = 0.0
    coef[1] = 0.0
    coef[2] = 0.0
    v_min = v[0]
    v_max = v[0]
    total = 0.0
    for t in range(n):
        v_min = min(v_min, v[t])
        v_max = max(v_max, v[t])
        total += v[t]
    if n_det > 0:
        coef[0] = total * q0
    if n_det > 1:
        for t in range(n):
            u = t - mid
            coef[1] += u * s1 * v[t]
            if n_det > 2:
                coef[2] += (u * u - c) * s2 * v[t]
    mean = coef[0] * q0
    for t in range(n):
        out[t] = v[t] - mean
    if n_det > 1:
        for t in range(n):
            u = t - mid
            out[t] -= coef[1] * u * s1 + (coef[2] * (u * u - c) * s2 if n_det > 2 else 0.0)
    ss = _dot(out, 0, out, 0, n)
    tss = ss
    for j in range(1, n_det):
        tss += coef[j] * coef[j]
    return ss, tss, v_min == v_max


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _intercept_basis(n, n_det, basis):  # pragma: no cover
    """The Gram polynomials at statsmodels' t = 0 (our bar −1): its constant is ``Σ γ_j basis_j``."""
    u = -1.0 - 0.5 * (n - 1)
    c = (n * n - 1.0) / 12.0
    basis[0] = 1.0 / math.sqrt(n)
    basis[1] = u / math.sqrt(n * c)
    basis[2] = (u * u - c) / math.sqrt(n * (n * n - 1.0) * (n * n - 4.0) / 180.0) if n > 2 else 0.0
    for j in range(n_det, 3):
        basis[j] = 0.0


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _one_pair(ty, tx, n, syy, tss, sxx, cy, cx, basis, e, d, maxlag, autolag, gram, rhs, z, chol):  # pragma: no cover
    """Statistic, β, intercept, AR(1) φ of the residual, its RMS, lag used and status of one pair
    from its detrended legs ``ty[:n]``, ``tx[:n]`` (sums of squares ``syy``, ``sxx``; ``tss`` for R²)."""
    nan = math.nan
    if sxx <= 0.0 or syy <= 0.0:
        return nan, nan, nan, nan, nan, -1, CONSTANT
    sxy = _dot(tx, 0, ty, 0, n)
    b = sxy / sxx
    intercept = (cy[0] - b * cx[0]) * basis[0] + (cy[1] - b * cx[1]) * basis[1] + (cy[2] - b * cx[2]) * basis[2]
    collinear = 1.0 - max(syy - b * sxy, 0.0) / tss >= _COLLINEAR_R2
    for t in range(n):
        e[t] = ty[t] - b * tx[t]
    for t in range(n - 1):
        d[t] = e[t + 1] - e[t]
    den = _dot(e, 0, e, 0, n - 1)
    phi = _dot(e, 1, e, 0, n - 1) / den if den > 0 else nan
    rms = math.sqrt((den + e[n - 1] * e[n - 1]) / (n - 1))
    if collinear:
        return -math.inf, b, intercept, phi, rms, -1, COLLINEAR
    lags = maxlag if maxlag >= 0 else schwert_maxlag(n)
    if lags < 0 or lags > n // 2 - 1:
        return nan, b, intercept, phi, rms, -1, LAG_TOO_LONG
    stat, used = _adf(e, d, n, lags, autolag, gram, rhs, z, chol)
    return stat, b, intercept, phi, rms, used, OK if used >= 0 else CONSTANT


@numba.njit(cache=True, nogil=True, parallel=True, fastmath=_FAST)
def eg_pairs(values, complete, first, second, n_det, maxlag, autolag, min_overlap, chunk):  # pragma: no cover
    """Engle–Granger for each pair ``(first[p], second[p])`` of rows of ``values`` (names × bars, NaN = no value).

    ``complete[i]`` says row ``i`` has no NaN: its bars are used as they are and its detrended
    series is computed once for all its pairs; otherwise a pair uses only the bars where both
    rows have a value. Returns per pair: statistic, β, intercept, residual AR(1) φ, residual RMS,
    common bars, first and last common bar, lag used and a status code (:data:`STATUS`;
    statistics are NaN unless ``OK`` or collinear).
    """
    pairs = first.shape[0]
    names, t_len = values.shape
    stat = np.full(pairs, np.nan)
    beta = np.full(pairs, np.nan)
    alpha = np.full(pairs, np.nan)
    phi = np.full(pairs, np.nan)
    rms = np.full(pairs, np.nan)
    nobs = np.zeros(pairs, dtype=np.int64)
    lo = np.full(pairs, -1, dtype=np.int64)
    hi = np.full(pairs, -1, dtype=np.int64)
    used = np.full(pairs, -1, dtype=np.int64)
    status = np.zeros(pairs, dtype=np.int64)
    k_max = max((maxlag if maxlag >= 0 else schwert_maxlag(t_len)) + 1, 1)
    # complete names, detrended once (only those some pair uses)
    needed = np.zeros(names, dtype=np.bool_)
    for p in range(pairs):
        needed[first[p]] = complete[first[p]]
        needed[second[p]] = complete[second[p]]
    det = np.empty((names, t_len if t_len > 0 else 1))
    coef = np.zeros((names, 3))
    ss = np.zeros(names)
    tss = np.zeros(names)
    flat = np.zeros(names, dtype=np.bool_)
    for i in numba.prange(names):
        if needed[i] and t_len > 2:
            ss[i], tss[i], flat[i] = _detrend(values[i], t_len, n_det, det[i], coef[i])
    basis_full = np.zeros(3)
    if t_len > 2:
        _intercept_basis(t_len, n_det, basis_full)
    chunks = (pairs + chunk - 1) // chunk
    for c in numba.prange(chunks):
        yb = np.empty(t_len)
        xb = np.empty(t_len)
        ty = np.empty(t_len)
        tx = np.empty(t_len)
        e = np.empty(t_len)
        d = np.empty(t_len)
        cy = np.zeros(3)
        cx = np.zeros(3)
        basis = np.zeros(3)
        gram = np.empty((k_max, k_max))
        rhs = np.empty(k_max)
        z = np.empty(k_max)
        chol = np.empty((k_max, k_max))
        for p in range(c * chunk, min(pairs, (c + 1) * chunk)):
            i = first[p]
            j = second[p]
            if complete[i] and complete[j]:
                n = t_len
                nobs[p] = n
                lo[p] = 0
                hi[p] = t_len - 1
                if n < min_overlap:
                    status[p] = TOO_SHORT
                    continue
                if flat[i] or flat[j]:
                    status[p] = CONSTANT
                    continue
                out = _one_pair(det[i], det[j], n, ss[i], tss[i], ss[j], coef[i], coef[j], basis_full, e, d,
                                maxlag, autolag, gram, rhs, z, chol)  # fmt: skip
            else:
                n = 0
                for t in range(t_len):
                    yt = values[i, t]
                    xt = values[j, t]
                    if yt == yt and xt == xt:
                        if n == 0:
                            lo[p] = t
                        hi[p] = t
                        yb[n] = yt
                        xb[n] = xt
                        n += 1
                nobs[p] = n
                if n < min_overlap:
                    status[p] = TOO_SHORT
                    continue
                syy, tss_y, flat_y = _detrend(yb, n, n_det, ty, cy)
                sxx, _, flat_x = _detrend(xb, n, n_det, tx, cx)
                if flat_y or flat_x:
                    status[p] = CONSTANT
                    continue
                _intercept_basis(n, n_det, basis)
                out = _one_pair(ty, tx, n, syy, tss_y, sxx, cy, cx, basis, e, d, maxlag, autolag, gram, rhs, z,
                                chol)  # fmt: skip
            stat[p], beta[p], alpha[p], phi[p], rms[p], used[p], status[p] = out
    return stat, beta, alpha, phi, rms, nobs, lo, hi, used, status
