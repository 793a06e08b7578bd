"""Variance reduction in the Monte-Carlo engine: unbiased, honest errors, chosen and reported, target s.e.

References: closed forms of a single lognormal name (VaR and ES of e·(exp(X) − 1), X normal),
a large plain run priced with numpy (order statistic and the Acerbi–Tasche sum written out
here), and the spread of estimates over independent seeds.
"""

import math

import numpy as np
import pytest
from scipy.stats import norm

from astra.errors import InputError
from astra.risk import normal_model, simulate_pnl, var

LEVEL = 0.99
DESIGNS = [
    "importance",
    "antithetic",
    "control",
    "importance+antithetic",
    "importance+control",
    "antithetic+control",
    "importance+antithetic+control",
]


@pytest.fixture(scope="module")
def book():
    rng = np.random.default_rng(0)
    r = rng.normal(0, 0.01, (1000, 5)) @ (np.eye(5) + 0.3)
    return r, np.array([3e5, -1e5, 2e5, -2e5, 1e5])


@pytest.fixture(scope="module")
def plain_reference(book):
    # reference: 2·10⁶ plain scenarios of the same model, VaR as the ⌈np⌉-th loss and ES by Acerbi–Tasche by hand
    r, e = book
    pnl = simulate_pnl(normal_model(r), e, 2_000_000, horizon=10, seed=12345)
    losses = np.sort(-pnl)[::-1]
    k = math.ceil(pnl.size * (1 - LEVEL) - 1e-9)
    value_at_risk = losses[k - 1]
    es = losses[: k - 1].sum() / (pnl.size * (1 - LEVEL)) + value_at_risk * (1 - (k - 1) / (pnl.size * (1 - LEVEL)))
    density = np.mean(np.abs(losses - value_at_risk) < 200.0) / 400.0  # a histogram bin around VaR
    se_var = math.sqrt(LEVEL * (1 - LEVEL) / pnl.size) / density
    tail = losses[:k]
    se_es = math.sqrt((tail.var() + LEVEL * (tail.mean() - value_at_risk) ** 2) / k)
    return value_at_risk, es, se_var, se_es


@pytest.mark.parametrize("design", DESIGNS)
def test_each_design_is_unbiased_against_a_large_plain_run(book, plain_reference, design):
    r, e = book
    ref_var, ref_es, ref_se_var, ref_se_es = plain_reference
    res = var(e, r, method="mc", horizon=10, scenarios=40_000, seed=7, variance_reduction=design, components=False)
    assert res.variance_reduction["method"] == design and res.variance_reduction["chosen_by"] == "request"
    assert abs(res.var - ref_var) < 4 * math.hypot(res.mc_std_error["var"], ref_se_var)
    assert abs(res.es - ref_es) < 4 * math.hypot(res.mc_std_error["es"], ref_se_es)
    # each technique reduces the variance it targets (antithetic pairs alone hardly help a 99 % tail)
    floor = 0.7 if design in ("antithetic",) else 1.5
    assert res.variance_reduction["factor_var"] > floor


@pytest.mark.parametrize("design", ["importance", "importance+antithetic", "importance+antithetic+control"])
def test_single_lognormal_name_matches_the_closed_form(design):
    # X = 10-day log return ~ N(0, 10 σ²); P&L = e (exp(X) − 1) is monotone in X, so
    # VaR = e (1 − exp(s z_p)) and ES = e (1 − exp(s²/2) Φ(z_p − s)/p), s = √10 σ (lognormal partial mean).
    r = np.random.default_rng(0).normal(0, 0.01, (1500, 1))
    s = math.sqrt(10) * np.std(np.log1p(r), ddof=1)
    p, z = 1 - LEVEL, norm.ppf(1 - LEVEL)
    closed_var = 1e6 * (1 - math.exp(s * z))
    closed_es = 1e6 * (1 - math.exp(s * s / 2) * norm.cdf(z - s) / p)
    res = var([1e6], r, method="mc", horizon=10, scenarios=50_000, seed=3, paths="lognormal",
              variance_reduction=design)  # fmt: skip
    assert abs(res.var - closed_var) < 4 * res.mc_std_error["var"]
    assert abs(res.es - closed_es) < 4 * res.mc_std_error["es"]
    assert res.mc_std_error["var"] < 0.2 * 1e6 * s * math.sqrt(p * (1 - p) / 50_000) / norm.pdf(z)  # ≥ 25× plain
    assert sum(c["component_es"] for c in res.components) == pytest.approx(res.es, rel=1e-9)


def test_reported_errors_match_the_spread_over_seeds(book):
    r, e = book
    runs = [var(e, r, method="mc", horizon=10, scenarios=20_000, seed=100 + s, components=False) for s in range(24)]
    estimates = np.array([x.var for x in runs])
    reported = np.array([x.mc_std_error["var"] for x in runs])
    # reference: the empirical standard deviation over 24 independent seeds (its own error is ~15 %)
    assert reported.mean() == pytest.approx(estimates.std(ddof=1), rel=0.35)
    es = np.array([x.es for x in runs])
    assert np.mean([x.mc_std_error["es"] for x in runs]) == pytest.approx(es.std(ddof=1), rel=0.35)
    assert {x.variance_reduction["method"] for x in runs} == {"importance+antithetic+control"}


def test_the_pilot_choice_and_measured_factor_are_reported(book):
    r, e = book
    res = var(e, r, method="mc", horizon=10, scenarios=50_000, seed=1)
    vr = res.to_dict()["variance_reduction"]
    assert vr["chosen_by"] == "pilot" and vr["method"] in vr["pilot_gain"]
    assert vr["pilot_gain"]["none"] == pytest.approx(1.0)
    # the pilot picks the best of the importance-sampling designs (plain ones are reported beside)
    shifted = {k: g for k, g in vr["pilot_gain"].items() if k.startswith("importance") and g is not None}
    assert len(vr["pilot_gain"]) == 8 and vr["pilot_gain"][vr["method"]] == max(shifted.values())
    assert vr["factor_var"] > 50 and vr["factor_es"] > 50 and vr["shift"] > 1.5
    assert vr["pilot_scenarios"] > 0 and res.scenarios == 50_000
    # the same factor, read against plain sampling's error at this scenario count
    plain = var(e, r, method="mc", horizon=10, scenarios=50_000, seed=1, variance_reduction="none", components=False)
    assert (plain.mc_std_error["var"] / res.mc_std_error["var"]) ** 2 == pytest.approx(vr["factor_var"], rel=0.5)


def test_one_day_normal_is_exact_with_the_control_variate(book):
    # reference: the closed form. One day of a normal model is linear in the draws, so the delta P&L explains the
    # loss exactly and only the spacing of one scenario is left.
    r, e = book
    exact = var(e, r, method="param")
    res = var(e, r, method="mc", scenarios=100_000, seed=4)
    factor = res.variance_reduction["factor_var"]
    assert res.variance_reduction["method"].endswith("control") and (factor is None or factor > 1e4)
    assert abs(res.var - exact.var) < 3 * res.mc_std_error["var"] and res.mc_std_error["var"] < 1e-3 * exact.var


def test_importance_sampling_on_a_book_with_no_exposure_falls_back_and_says_so(book):
    r, _ = book
    res = var(np.zeros(5), r, method="mc", horizon=10, scenarios=10_000, seed=1, variance_reduction="importance")
    assert res.var == 0.0 and res.es == 0.0
    assert any("importance sampling needs a loss direction" in n for n in res.notes)
    assert res.variance_reduction["method"] == "none"
    assert all(c["pct"] is None for c in res.components)
    auto = var(np.zeros(5), r, method="mc", scenarios=10_000, seed=1)
    assert any("importance sampling was not tried" in n for n in auto.notes)


def test_target_standard_error_stops_when_reached(book):
    r, e = book
    res = var(e, r, method="mc", horizon=10, seed=2, target_se=0.001, components=False)
    assert res.converged is True and res.mc_std_error["var"] / res.var <= 0.001
    assert res.params["target_se"] == 0.001 and 1_000 <= res.scenarios < 1_000_000
    tighter = var(e, r, method="mc", horizon=10, seed=2, target_se=0.0005, components=False)
    assert tighter.converged and tighter.scenarios > res.scenarios  # about four times as many


def test_unreachable_target_is_flagged_not_converged(book):
    r, e = book
    res = var(e, r, method="mc", horizon=10, seed=2, target_se=1e-6, max_scenarios=50_000, components=False,
              variance_reduction="none")  # fmt: skip
    assert res.converged is False and res.scenarios <= 50_000
    assert any("not reached" in n for n in res.notes)


@pytest.mark.parametrize("bad", [0.0, -0.01, 1.5, float("nan"), "1%"])
def test_bad_target_is_refused(book, bad):
    r, e = book
    with pytest.raises(InputError, match="target_se"):
        var(e, r, method="mc", target_se=bad)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"variance_reduction": "magic"}, "variance_reduction 'magic'"),
        ({"variance_reduction": "importance", "dist": "bootstrap"}, "bootstrap"),
        ({"variance_reduction": "control", "dist": "t", "dof": 5}, "control variate"),
        ({"variance_reduction": "antithetic", "scenarios": 10_001}, "even number"),
        ({"variance_reduction": "control", "antithetic": True}, "conflicts"),
        ({"method": "hist", "variance_reduction": "importance"}, "Monte Carlo"),
        ({"method": "param", "target_se": 0.01}, "Monte Carlo"),
    ],
)
def test_bad_designs_are_named(book, kwargs, match):
    r, e = book
    with pytest.raises(InputError, match=match):
        var(e, r, **{"method": "mc", **kwargs})
