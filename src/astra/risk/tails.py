"""Tail statistics: empirical VaR/ES (Acerbi–Tasche), weighted tails merged exactly, influence-function errors.

Losses ``L = −P&L`` (USD, positive = loss), tail probability ``p = 1 − α``.

* VaR is the ``k = ⌈n p⌉``-th largest loss (``numpy.quantile(pnl, p, method="inverted_cdf")``).
* ES is Acerbi–Tasche's estimator: the ``⌊n p⌋`` largest losses plus the next one
  weighted by its fractional share ``n p − ⌊n p⌋``, over ``n p``. Equivalently
  ``ES = VaR + Σ (L − VaR)⁺ / (n p)``.

Monte-Carlo tails carry likelihood-ratio weights ``w`` (1 without importance sampling):
the tail function is ``T̂(x) = Σ w 1{L > x} / n``; VaR is the smallest loss ``x`` among the
scenarios with ``T̂`` reaching ``p'`` when the loss itself is counted (``p' = p`` without a
control variate) and ``ES = VaR + Σ w (L − VaR)⁺ / (n p)`` — with ``w = 1`` exactly the two
estimators above.

A chunk of scenarios is reduced to a :class:`Summary`: sums over the scenarios above a
band ``(lower, upper]`` (weights, weighted losses and their squares, and for antithetic
pairs the products of the twins' terms) and, one by one, the scenarios inside the band,
where VaR is known to lie (a pilot run places it). Every influence-function moment at the
final VaR follows exactly from these. Summaries add in a fixed order, so the merged tail — and VaR and ES — are
the same bit for bit however the chunks were computed.

Standard errors come from the influence functions, computed over independent units
(scenarios, or antithetic pairs):
``se(VaR) = √(Var(w1{L>q} − β w1{L_lin>c}) / n_units) / f̂(q)`` and
``se(ES) = √(Var(w(L − q)⁺) / n_units) / p``, with ``f̂`` the density of losses at VaR
(a symmetric difference of ``T̂`` inside the band) and ``β`` the control-variate slope.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from astra.errors import InputError

__all__ = ["Summary", "TailPlan", "acerbi_tasche_es", "estimate", "summarise", "tail_rank", "tail_statistics"]

# Summary.sums: scenarios above the band (loss > upper) ...
S_W, S_WL, S_WL2, S_W2, S_W2L, S_W2L2, S_W2G = range(7)
# ... antithetic pairs with both members above the band, and members above the band times their twin's control
P_WW, P_WWL, P_WWLL, P_WG = range(7, 11)
# ... every scenario: the control over units, weights, counts
U_G, U_GG, ALL_W, ALL_WW, N_ABOVE, N_BAND = range(11, 17)
_SUMS = 17
# columns of a band row: loss, weight, control flag, and the antithetic twin's loss, weight, flag; first member?
B_L, B_W, B_G, B_PL, B_PW, B_PG, B_FIRST = range(7)


def tail_rank(n: int, level: float) -> int:
    """Rank ``k = ⌈n(1 − α)⌉`` of the VaR scenario among ``n`` sorted P&L (1 = worst).

    Matches ``numpy.quantile(pnl, 1 − α, method="inverted_cdf")`` (a 1e-9 guard
    stops floating noise such as ``(1 − 0.99)·1000 = 10.000000000000009``
    turning 10 into 11).
    """
    return int(min(n, max(1, math.ceil(n * (1.0 - level) - 1e-9))))


def _tail_count(n: int, level: float) -> float:
    """``n(1 − α)`` without floating noise (``250·(1 − 0.99)`` is 2.5, not 2.5000000000000022)."""
    return round(n * (1.0 - level), 9)


def acerbi_tasche_es(worst, n: int, level: float) -> float:
    """Acerbi–Tasche ES from the largest losses (any order; at least ``⌊n(1−α)⌋ + 1`` of them).

    ``ES = (Σ_{i ≤ ⌊np⌋} L_(i) + (np − ⌊np⌋) L_(⌊np⌋+1)) / (np)`` with ``L_(1) ≥ L_(2) ≥ …``.

    Examples
    --------
    >>> acerbi_tasche_es([10.0, 8.0, 6.0, 1.0], n=250, level=0.99)   # np = 2.5: (10 + 8 + 0.5·6)/2.5
    8.4
    """
    losses = np.sort(np.asarray(worst, dtype=float))[::-1]
    count = _tail_count(n, level)
    whole = min(math.floor(count), losses.size)
    total = losses[:whole].sum()
    if count > whole:
        if whole >= losses.size:
            raise InputError(f"ES at {level} needs the {whole + 1} largest losses, got {losses.size}")
        total += (count - whole) * losses[whole]
    return float(total / count)


def tail_statistics(pnl, level: float, *, pairs: bool = False) -> dict:
    """VaR, ES (Acerbi–Tasche), their standard errors and 95% intervals from a sample of P&L (USD).

    Errors: VaR by the order-statistic formula ``√(p(1−p)/n) / f̂(q)`` (Gaussian kernel
    density, Silverman bandwidth), ES by ``√((Var(L | tail) + α(ES − VaR)²)/(n p))``;
    intervals: VaR from binomial order statistics, ES by ``± 1.96 se``. For a historical
    sample these assume iid rows. ``pairs=True``: ``pnl[2j]`` and ``pnl[2j + 1]`` are an
    antithetic pair; errors are computed over the pairs and both intervals are ``± 1.96 se``.

    Examples
    --------
    >>> pnl = np.random.default_rng(0).normal(0.0, 1.0, 100_000)
    >>> out = tail_statistics(pnl, 0.99)
    >>> round(out["var"], 1), round(out["es"], 1)   # N(0,1): 2.326, 2.665
    (2.3, 2.7)
    """
    x = np.asarray(pnl, dtype=float)
    n, p = x.size, 1.0 - level
    k = tail_rank(n, level)
    lo_rank = int(max(1, stats.binom.ppf(0.025, n, p)))
    hi_rank = int(min(n, stats.binom.ppf(0.975, n, p) + 1))
    quartiles = (n // 4, (3 * n) // 4)  # order statistics for the bandwidth's IQR (no interpolation needed)
    part = np.partition(x, sorted({k - 1, min(k, n - 1), lo_rank - 1, hi_rank - 1, *quartiles}))
    q = part[k - 1]
    value_at_risk = float(-q)
    shortfall = value_at_risk + float(np.maximum(-x - value_at_risk, 0.0).sum()) / _tail_count(n, level)
    tail = part[:k]  # the k smallest P&L, in any order
    sd = x.std()
    iqr = part[quartiles[1]] - part[quartiles[0]]
    bandwidth = 0.9 * min(sd, iqr / 1.34 if iqr > 0 else sd) * n ** (-0.2)
    density = _density_at(x, q, bandwidth) if bandwidth > 0 else np.inf
    se_var = float(np.sqrt(p * (1.0 - p) / n) / density) if density > 0 else float("nan")
    tail_var = tail.var() if k > 1 else 0.0
    se_es = float(np.sqrt((tail_var + level * (shortfall - value_at_risk) ** 2) / (n * p)))
    ci_var = (float(-part[hi_rank - 1]), float(-part[lo_rank - 1]))
    if pairs:
        if n % 2:
            raise InputError(f"antithetic P&L must hold whole pairs, got {n} values")
        below = (x <= q).reshape(-1, 2).mean(axis=1)
        excess = np.maximum(-x - value_at_risk, 0.0).reshape(-1, 2).mean(axis=1)
        se_var = float(below.std() / np.sqrt(below.size) / density) if density > 0 else float("nan")
        se_es = float(excess.std() / np.sqrt(excess.size) / p)
        ci_var = (value_at_risk - 1.96 * se_var, value_at_risk + 1.96 * se_var)
    return {
        "var": value_at_risk,
        "es": shortfall,
        "k": k,
        "se_var": se_var,
        "se_es": se_es,
        "ci_var": ci_var,
        "ci_es": (shortfall - 1.96 * se_es, shortfall + 1.96 * se_es),
    }


def _density_at(x: np.ndarray, q: float, bandwidth: float, weights: np.ndarray | None = None) -> float:
    """(Weighted) Gaussian kernel density of ``x`` at ``q``, over ``x.size``; points beyond 9 bandwidths skipped."""
    near = np.abs(x - q) < 9.0 * bandwidth
    u = (x[near] - q) / bandwidth
    kernel = np.exp(-0.5 * u * u)
    mass = kernel.sum() if weights is None else kernel @ weights[near]
    return float(mass / (np.sqrt(2.0 * np.pi) * bandwidth * x.size))


# --------------------------------------------------------------------------- mergeable Monte-Carlo tails
@dataclass(frozen=True)
class TailPlan:
    """What every chunk needs to summarise its scenarios (fixed before the main run by the pilot).

    Losses in USD. ``theta`` is the importance-sampling shift (0: none); ``(lower, upper]``
    the band of losses kept scenario by scenario, centred on the pilot's VaR ``q_ref``;
    ``threshold`` the control variate's threshold on the linear loss
    ``−(lin_mean + lin_sigma·u)``, its exceedance probability ``1 − α``.
    """

    level: float
    theta: float = 0.0
    antithetic: bool = False
    control: bool = False
    lower: float = -np.inf
    upper: float = np.inf
    q_ref: float = 0.0
    threshold: float = np.inf
    lin_mean: float = 0.0
    lin_sigma: float = 0.0
    components: bool = False
    window: float = 0.0  # half-width of the density difference (USD)


class Summary:
    """Sums and band scenarios of one or more chunks; :meth:`add` merges in a fixed order."""

    __slots__ = ("above_returns", "band", "band_returns", "n", "sums", "units")

    def __init__(self, n_names: int | None = None):
        self.n = 0
        self.units = 0
        self.sums = np.zeros(_SUMS)
        self.above_returns = None if n_names is None else np.zeros(n_names)
        self.band: list[np.ndarray] = []  # (m, 7) rows, see B_*
        self.band_returns: list[np.ndarray] = []

    def add(self, other: Summary) -> Summary:
        self.n += other.n
        self.units += other.units
        self.sums += other.sums
        if other.above_returns is not None:
            self.above_returns = other.above_returns.copy() if self.above_returns is None else (
                self.above_returns + other.above_returns)  # fmt: skip
        self.band += other.band
        self.band_returns += other.band_returns
        return self

    @property
    def band_size(self) -> int:
        return int(sum(x.shape[0] for x in self.band))


def summarise(draw, plan: TailPlan) -> Summary:
    """Reduce one chunk (a :class:`astra.risk.models.Draw`) to its :class:`Summary` under ``plan``.

    Every sum the influence functions need at the final VaR ``x`` (anywhere in the band) is
    either a sum over scenarios above the band — a polynomial in ``x`` — or a sum over the
    band's scenarios, kept one by one with their antithetic twin's loss, weight and flag.
    """
    loss = -draw.pnl
    n = loss.size
    weight = np.exp(plan.theta * draw.u + 0.5 * plan.theta**2) if plan.theta else np.ones(n)
    linear_loss = -(plan.lin_mean + plan.lin_sigma * draw.u) if plan.control else None
    flag = (linear_loss > plan.threshold).astype(float) if plan.control else np.zeros(n)
    out = Summary()
    out.n = n
    s = out.sums
    above = loss > plan.upper
    band = (loss > plan.lower) & ~above
    wa = np.where(above, weight, 0.0)
    wla, w2a = wa * loss, wa * weight
    s[S_W], s[S_WL], s[S_WL2] = wa.sum(), wla.sum(), wla @ loss
    s[S_W2], s[S_W2L], s[S_W2L2], s[S_W2G] = w2a.sum(), w2a @ loss, (w2a * loss) @ loss, w2a @ flag
    g = weight * flag
    if plan.antithetic:
        half = n // 2
        twin = np.concatenate([np.arange(half, n), np.arange(half)])
        both = above[:half] & above[half:]
        ww = np.where(both, weight[:half] * weight[half:], 0.0)
        s[P_WW], s[P_WWL], s[P_WWLL] = ww.sum(), ww @ (loss[:half] + loss[half:]), ww @ (loss[:half] * loss[half:])
        s[P_WG] = wa @ g[twin]
        units = 0.5 * (g[:half] + g[half:])
    else:
        twin, units = None, g
    out.units = units.size
    s[U_G], s[U_GG] = units.sum(), units @ units
    s[ALL_W], s[ALL_WW] = weight.sum(), weight @ weight
    s[N_ABOVE], s[N_BAND] = above.sum(), band.sum()
    rows = np.flatnonzero(band)
    kept = np.zeros((rows.size, 7))
    kept[:, B_L], kept[:, B_W], kept[:, B_G] = loss[rows], weight[rows], flag[rows]
    if twin is not None:
        kept[:, B_PL], kept[:, B_PW], kept[:, B_PG] = loss[twin[rows]], weight[twin[rows]], flag[twin[rows]]
        kept[:, B_FIRST] = rows < n // 2
    else:
        kept[:, B_PL] = -np.inf
    out.band = [kept]
    if plan.components:
        out.above_returns = draw.weighted_returns(wa)
        out.band_returns = [draw.returns(rows)]
    return out


def _moments_at(x: float, total: Summary, band: np.ndarray, plan: TailPlan) -> dict:
    """Unit means and (co)variances of ``a = w1{L>x}``, ``g`` and ``e = w(L − x)⁺`` at the final VaR ``x``."""
    s, n, units = total.sums, total.n, max(total.units, 2)
    loss, w, flag = band[:, B_L], band[:, B_W], band[:, B_G]
    gt = loss > x
    wg, ex = np.where(gt, w, 0.0), np.maximum(loss - x, 0.0)
    sum_a = s[S_W] + wg.sum()
    sum_aa = s[S_W2] + wg @ w
    sum_ag = s[S_W2G] + (wg * w) @ flag
    sum_e = s[S_WL] - x * s[S_W] + w @ ex
    sum_ee = s[S_W2L2] - 2 * x * s[S_W2L] + x * x * s[S_W2] + (w * w) @ (ex * ex)
    sum_v = s[S_WL2] - 2 * x * s[S_WL] + x * x * s[S_W] + w @ (ex * ex)  # Σ w (L − x)⁺² : plain ES variance
    if plan.antithetic:
        plo, pw = band[:, B_PL], band[:, B_PW]
        partner_above = plo > plan.upper
        pair_band = (plo > plan.lower) & ~partner_above & (band[:, B_FIRST] > 0) & (plo > x)
        pex = plo - x
        cross_aa = s[P_WW] + (wg * pw) @ (partner_above | pair_band)
        cross_ag = s[P_WG] + (wg * pw) @ band[:, B_PG]
        cross_ee = (s[P_WWLL] - x * s[P_WWL] + x * x * s[P_WW]) + (w * pw * ex * pex) @ (partner_above | pair_band)
        sum_a, sum_e = 0.5 * sum_a, 0.5 * sum_e
        sum_aa, sum_ee = 0.25 * (sum_aa + 2 * cross_aa), 0.25 * (sum_ee + 2 * cross_ee)
        sum_ag = 0.25 * (sum_ag + cross_ag)
    mean = {"a": sum_a / units, "g": s[U_G] / units, "e": sum_e / units}

    def cov(total_xy: float, x_: str, y_: str) -> float:
        return float((total_xy - units * mean[x_] * mean[y_]) / (units - 1))

    per_scenario = {"a": (s[S_W] + wg.sum()) / n, "e": (s[S_WL] - x * s[S_W] + w @ ex) / n}
    return {**mean, "aa": max(0.0, cov(sum_aa, "a", "a")), "gg": max(0.0, cov(s[U_GG], "g", "g")),
            "ag": cov(sum_ag, "a", "g"), "ee": max(0.0, cov(sum_ee, "e", "e")),
            "plain_var": per_scenario["a"] * (1.0 - per_scenario["a"]),
            "plain_es": max(0.0, sum_v / n - per_scenario["e"] ** 2)}  # fmt: skip


def estimate(total: Summary, plan: TailPlan) -> dict:
    """VaR, ES, their errors, the variance-reduction factors and (optionally) Euler parts of a merged tail.

    ``status`` is ``"ok"``, or ``"above"``/``"below"``/``"edge"`` when VaR (or the density's
    window) falls outside the band: the caller re-runs the same chunks with a wider band.
    """
    n, p = total.n, 1.0 - plan.level
    tail_mass = _tail_count(n, plan.level)
    s = total.sums
    band = np.concatenate(total.band) if total.band else np.empty((0, 7))
    order = np.argsort(-band[:, B_L], kind="stable")
    band = band[order]
    loss, weight = band[:, B_L], band[:, B_W]
    g_mean, g_var = s[U_G] / max(total.units, 1), 0.0
    target = tail_mass
    beta = 0.0
    if plan.control:
        # the slope needs a at VaR, which needs VaR: take it at the uncontrolled estimate (a consistent choice)
        first = _locate(s[S_W], loss, weight, tail_mass)
        if first is not None:
            mom0 = _moments_at(float(loss[first]), total, band, plan)
            g_var = mom0["gg"]
            beta = mom0["ag"] / g_var if g_var > 0 else 0.0
            target = tail_mass + beta * (g_mean - p) * n  # n·p': the control shifts the tail mass to find
    if s[S_W] >= target - 1e-9:
        return {"status": "above"}
    j = _locate(s[S_W], loss, weight, target)
    if j is None:
        return {"status": "below"}
    q = float(loss[j])
    excess = float(s[S_WL] - q * s[S_W] + weight[:j] @ (loss[:j] - q))
    shortfall = q + excess / tail_mass
    cum0 = np.concatenate([[s[S_W]], s[S_W] + np.cumsum(weight)])

    def mass_above(x: float) -> float:  # n·T̂(x)
        return float(cum0[np.searchsorted(-loss, -x, side="left")])

    room = min(q - plan.lower, plan.upper - q)
    window = min(plan.window, room)
    if not window > 0 or window < 0.25 * plan.window:
        return {"status": "edge", "var": q}
    density = (mass_above(q - window) - mass_above(q + window)) / (2.0 * window * n)
    if not density > 0:
        return {"status": "edge", "var": q}
    mom = _moments_at(q, total, band, plan)
    if plan.control:
        beta = mom["ag"] / mom["gg"] if mom["gg"] > 0 else 0.0
    numerator = mom["aa"] - 2.0 * beta * mom["ag"] + beta * beta * mom["gg"]
    near = np.abs(loss - q) <= window
    # one scenario's step of the quantile: the error left when the control explains the loss exactly
    spacing = float(weight[near].mean()) / (n * density) if near.any() else 0.0
    se_var = math.sqrt(max(numerator, 0.0) / total.units / density**2 + spacing**2)
    se_es = math.sqrt(mom["ee"] / total.units) / p
    per_unit = 2.0 if plan.antithetic else 1.0
    out = {
        "status": "ok", "var": q, "es": shortfall, "se_var": se_var, "se_es": se_es, "density": density,
        "beta": beta, "vr_var": _ratio(mom["plain_var"], per_unit * numerator),
        "vr_es": _ratio(mom["plain_es"], per_unit * mom["ee"]),
    }  # fmt: skip
    if plan.components:
        out["parts"] = _components(total, order, loss, weight, j, q, tail_mass, mass_above(q))
    return out


def _locate(above: float, loss: np.ndarray, weight: np.ndarray, target: float) -> int | None:
    """Index of the first band scenario (losses sorted down) at which the tail mass reaches ``target``."""
    cum = above + np.cumsum(weight)
    j = int(np.searchsorted(cum, target - 1e-9, side="left"))
    return j if j < loss.size and above < target - 1e-9 else None


def _ratio(plain: float, chosen: float) -> float | None:
    """Variance of plain sampling over the chosen design's (per scenario); None when the latter is ~0."""
    if not plain > 0:
        return None
    return float(plain / chosen) if chosen > 1e-12 * plain else None


def _components(total, order, loss, weight, j, q, tail_mass, mass_gt) -> dict:
    """Euler parts: ES from the whole weighted tail (sums exactly to ES), VaR from a band of scenarios around VaR."""
    returns = np.concatenate(total.band_returns)[order]
    strict = loss[:j] > q
    tail = total.above_returns + weight[:j][strict] @ returns[:j][strict] + (tail_mass - mass_gt) * returns[j]
    beyond = int(total.sums[N_ABOVE]) + j + 1  # scenarios at or beyond VaR
    half = math.ceil(math.sqrt(beyond))
    lo, hi = max(0, j - half), min(loss.size, j + half + 1)
    band = weight[lo:hi] @ returns[lo:hi] / weight[lo:hi].sum()
    return {"marginal_var": -band, "marginal_es": -tail / tail_mass}
