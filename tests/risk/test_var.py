"""VaR/ES engine against independent references (closed forms, scipy, numpy, arch)."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from astra.data import load_prices, returns
from astra.errors import InputError
from astra.risk import (
    bootstrap_model,
    covariance_factor,
    fhs_model,
    fit_t_dof,
    normal_model,
    parametric_components,
    returns_factor,
    sample_returns,
    simulate_pnl,
    t_model,
    var,
)

LEVEL = 0.99


@pytest.fixture(scope="module")
def two_asset():
    rng = np.random.default_rng(42)
    cov = np.array([[0.0004, 0.00012], [0.00012, 0.0009]])
    r = rng.multivariate_normal([0.0005, -0.0002], cov, size=750)
    return np.array([1_000_000.0, -400_000.0]), r


@pytest.fixture(scope="module")
def sample_book():
    prices = load_prices(["AAPL", "JPM", "XOM"], "sample", start="2015-01-01").prices
    return np.array([1_000_000.0, -500_000.0, 300_000.0]), returns(prices), prices


def test_normal_closed_form_matches_hand_computation(two_asset):
    e, r = two_asset
    s = np.cov(r.T, ddof=1)
    # reference: σ_p² = e1² s11 + e2² s22 + 2 e1 e2 s12 written out by hand; z and φ from scipy.stats.norm
    sigma = math.sqrt(e[0] ** 2 * s[0, 0] + e[1] ** 2 * s[1, 1] + 2 * e[0] * e[1] * s[0, 1])
    z = stats.norm.ppf(LEVEL)
    res = var(e, r, method="param", level=LEVEL)
    assert res.var == pytest.approx(z * sigma, rel=1e-12)
    assert res.es == pytest.approx(sigma * stats.norm.pdf(z) / (1 - LEVEL), rel=1e-12)
    # reference: ES as E[L | L > VaR] of N(0, σ) integrated by scipy's norm.expect
    es_integral = stats.norm(0, sigma).expect(lambda x: x, lb=z * sigma) / (1 - LEVEL)
    assert res.es == pytest.approx(es_integral, rel=1e-7)
    # with the mean: VaR = zσ − μ_p, μ_p = e·mean(r) by hand
    mu_p = e[0] * r[:, 0].mean() + e[1] * r[:, 1].mean()
    res_mu = var(e, r, method="param", level=LEVEL, include_mean=True)
    assert res_mu.var == pytest.approx(z * sigma - mu_p, rel=1e-12)
    # % of gross: gross = |1e6| + |−4e5| = 1.4e6
    assert res.var_pct_gross == pytest.approx(100 * z * sigma / 1.4e6, rel=1e-12)


def test_student_t_es_closed_form_vs_quad(two_asset):
    e, r = two_asset
    nu = 5.0
    res = var(e, r, method="param", dist="t", dof=nu, level=0.975)
    sigma = math.sqrt(e @ np.cov(r.T, ddof=1) @ e)
    loss = stats.t(nu, scale=sigma * math.sqrt((nu - 2) / nu))  # variance-matched: sd(loss) = σ
    # reference: VaR = loss quantile; ES = ∫_VaR^∞ x f(x) dx / (1 − α) by scipy.integrate.quad
    assert res.var == pytest.approx(loss.ppf(0.975), rel=1e-10)
    es_quad, _ = integrate.quad(lambda x: x * loss.pdf(x), loss.ppf(0.975), np.inf)
    assert res.es == pytest.approx(es_quad / 0.025, rel=1e-7)


def test_mc_normal_within_three_standard_errors_and_error_calibrated():
    rng = np.random.default_rng(0)
    r = rng.normal(0.0, 0.01, (500, 3)) @ np.array([[1.0, 0.3, 0.1], [0.0, 1.0, 0.4], [0.0, 0.0, 1.0]])
    e = np.array([2e6, -1e6, 5e5])
    exact = var(e, r, method="param", level=LEVEL)  # same sample covariance → closed-form target
    runs = [var(e, r, method="mc", level=LEVEL, scenarios=200_000, seed=s, components=False, variance_reduction="none")
            for s in range(20)]  # fmt: skip
    estimates = np.array([x.var for x in runs])
    reported = np.mean([x.mc_std_error["var"] for x in runs])
    # reference: closed-form normal VaR; each run within 3 reported standard errors
    assert np.all(np.abs(estimates - exact.var) < 3 * np.array([x.mc_std_error["var"] for x in runs]))
    # reference: the empirical spread across 20 independent seeds
    assert reported == pytest.approx(estimates.std(ddof=1), rel=0.30)
    es_spread = np.std([x.es for x in runs], ddof=1)
    assert np.mean([x.mc_std_error["es"] for x in runs]) == pytest.approx(es_spread, rel=0.30)
    # the 95% interval brackets the true VaR in (nearly) all runs
    assert sum(lo <= exact.var <= hi for lo, hi in (x.ci95["var"] for x in runs)) >= 17


def test_hist_matches_numpy_quantile_inverted_cdf(two_asset):
    e, r = two_asset
    r = r[:523]  # n·(1−α) = 5.23 is not an integer: k = 6
    pnl = r @ e
    # reference: numpy.quantile with method="inverted_cdf" (empirical quantile, no interpolation)
    q = np.quantile(pnl, 1 - LEVEL, method="inverted_cdf")
    res = var(e, r, method="hist", level=LEVEL)
    assert res.var == -q
    # reference: Acerbi–Tasche by hand, n(1−α) = 5.23: the 5 worst losses and 0.23 of the 6th, over 5.23
    worst = np.sort(-pnl)[::-1]
    assert res.es == pytest.approx((worst[:5].sum() + 0.23 * worst[5]) / 5.23, rel=1e-12)
    # 5-day: overlapping compounded windows built with an explicit loop
    windows = np.array([np.prod(1 + r[t : t + 5], axis=0) - 1 for t in range(len(r) - 4)]) @ e
    res5 = var(e, r, method="hist", level=LEVEL, horizon=5)
    assert res5.var == pytest.approx(-np.quantile(windows, 1 - LEVEL, method="inverted_cdf"), rel=1e-12)
    # √h only on request: exactly √10 × the one-day figure
    res10 = var(e, r, method="hist", level=LEVEL, horizon=10, scaling="sqrt")
    assert res10.var == pytest.approx(math.sqrt(10) * res.var, rel=1e-12)
    # window: only the last 250 rows
    assert var(e, r, window=250).var == -np.quantile(pnl[-250:], 1 - LEVEL, method="inverted_cdf")


def test_components_sum_to_total(two_asset, sample_book):
    e, r = two_asset
    res = var(e, r, method="param", level=LEVEL)
    assert sum(c["component_var"] for c in res.components) == pytest.approx(res.var, rel=1e-9)
    assert sum(c["component_es"] for c in res.components) == pytest.approx(res.es, rel=1e-9)
    # reference: marginal VaR = ∂VaR/∂e_i by central finite differences of the closed form
    factor, _ = returns_factor(r)
    for i in range(2):
        bump = np.zeros(2)
        bump[i] = 1.0
        up = parametric_components(e + bump, factor, level=LEVEL)["var"]
        down = parametric_components(e - bump, factor, level=LEVEL)["var"]
        assert res.components[i]["marginal_var"] == pytest.approx((up - down) / 2, rel=1e-6)
    e3, r3, _ = sample_book
    mc = var(e3, r3, method="mc", dist="t", level=LEVEL, scenarios=100_000, seed=3)
    assert sum(c["component_es"] for c in mc.components) == pytest.approx(mc.es, rel=1e-10)
    assert abs(sum(c["component_var"] for c in mc.components) - mc.var) < 3 * mc.mc_std_error["var"]
    hist = var(e3, r3, method="hist", level=0.95)
    assert sum(c["component_es"] for c in hist.components) == pytest.approx(hist.es, rel=1e-10)


def test_eigen_factor_when_names_outnumber_rows():
    rng = np.random.default_rng(1)
    r = rng.normal(0, 0.01, (30, 50))
    cov = np.cov(r.T)
    with pytest.raises(np.linalg.LinAlgError):  # reference: a bare Cholesky fails (rank ≤ 29 < 50)
        np.linalg.cholesky(cov)
    lf = covariance_factor(cov)
    assert lf.shape[1] <= 29
    assert np.allclose(lf @ lf.T, cov, atol=1e-12)
    lr, _ = returns_factor(r)
    assert np.allclose(lr @ lr.T, cov, atol=1e-12)
    e = rng.normal(0, 1e5, 50)
    res = var(e, r, method="mc", scenarios=20_000, seed=0)
    assert res.var == pytest.approx(var(e, r, method="param").var, rel=0.05)
    # a negative eigenvalue (indefinite input) is clipped, not fatal
    assert np.all(np.isfinite(covariance_factor([[1.0, 2.0], [2.0, 1.0]])))


def test_seeds_reproduce_exactly(sample_book):
    e, r, _ = sample_book
    for kw in ({"dist": "normal"}, {"dist": "t", "dof": 4.0}, {"dist": "bootstrap"}):
        a = var(e, r, method="mc", scenarios=5_000, seed=11, horizon=3, **kw)
        b = var(e, r, method="mc", scenarios=5_000, seed=11, horizon=3, **kw)
        assert (a.var, a.es, a.components) == (b.var, b.es, b.components)
        assert a.var != var(e, r, method="mc", scenarios=5_000, seed=12, horizon=3, **kw).var
    m = fhs_model(r)
    assert np.array_equal(sample_returns(m, 100, seed=5), sample_returns(m, 100, seed=5))


def test_chunked_pnl_equals_full_matrix(sample_book):
    e, r, _ = sample_book
    for model in (normal_model(r), t_model(r, dof=6.0), bootstrap_model(r, block_length=5.0), fhs_model(r)):
        for horizon in (1, 4):
            # reference: the naive full (S, N) matrix times the exposures
            full = sample_returns(model, 3_000, horizon=horizon, seed=2, chunk_size=1_000) @ e
            chunked = simulate_pnl(model, e, 3_000, horizon=horizon, seed=2, chunk_size=1_000)
            assert np.allclose(chunked, full, rtol=1e-12, atol=1e-6)


def test_student_t_dof_fit():
    x = stats.t.rvs(6, size=50_000, random_state=np.random.default_rng(3))
    # reference: the data were drawn from t(6)
    assert fit_t_dof(x) == pytest.approx(6.0, abs=0.7)
    y = stats.t.rvs(10, size=200_000, random_state=np.random.default_rng(4))
    assert fit_t_dof(y, method="moments") == pytest.approx(10.0, abs=3.0)


def test_ewma_fhs_forecast_is_exponentially_weighted_sum():
    rng = np.random.default_rng(5)
    r = rng.normal(0, 0.01, (200, 2))
    lam, n = 0.94, 200
    init = np.mean(r[:30] ** 2, axis=0)
    # reference: unrolled recursion σ²_{T+1} = λ^T σ²_1 + (1−λ) Σ_{j=1..T} λ^{T−j} r_j²
    weights = (1 - lam) * lam ** (n - 1 - np.arange(n))
    expected = lam**n * init + weights @ r**2
    model = fhs_model(r, lam=lam)
    assert np.allclose(model.next_var, expected, rtol=1e-12)
    assert np.allclose(model._daily_vol(3), np.sqrt(expected))  # EWMA forecast is flat over the horizon


def test_garch_fhs_volatility_matches_arch_forecast(sample_book):
    from arch import arch_model

    _, r, _ = sample_book
    x = r["XOM"].to_numpy()
    model = fhs_model(x[:, None], vol_model="garch")
    # reference: arch's own 5-step variance forecast (in %², hence /1e4)
    fc = arch_model(100 * x, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off").forecast(horizon=5)
    assert np.allclose(model._daily_vol(5)[:, 0] ** 2, fc.variance.to_numpy()[-1] / 1e4, rtol=1e-6)


def test_sample_data_methods_agree_roughly(sample_book):
    e, r, _ = sample_book
    hist = var(e, r, method="hist")
    for kw in ({"method": "param"}, {"method": "mc", "dist": "bootstrap"}, {"method": "fhs"}):
        res = var(e, r, scenarios=20_000, seed=0, **kw)
        assert 0.5 * hist.var < res.var < 2 * hist.var
        assert res.es >= res.var
    assert var(e, r, method="mc", horizon=10, scenarios=20_000, seed=0).var > hist.var
    d = hist.to_dict()
    assert d["method"] == "hist" and isinstance(d["ci95"]["var"], list) and len(d["components"]) == 3
    assert [c["ticker"] for c in hist.components] == ["AAPL", "JPM", "XOM"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"level": 1.0}, "level 1.0"),
        ({"level": 0.3}, "level 0.3"),
        ({"horizon": 0}, "horizon 0"),
        ({"method": "magic"}, "'magic'"),
        ({"method": "param", "dist": "bootstrap"}, "'bootstrap'"),
        # p = 0.01, n = 500: √(p(1−p)/n)/φ(z)/z = 0.0045/0.0267/2.326 ≈ 7 % (order-statistic s.e. of a quantile)
        ({"method": "mc", "scenarios": 500}, "scenarios 500 .* rests on 5 scenarios, a standard error of about 7%"),
        ({"method": "mc", "horizon": 253}, "beyond one trading year"),
        ({"scaling": "linear"}, "'linear'"),
        ({"window": 1}, "window 1"),
    ],
)
def test_bad_input_raises_input_error(two_asset, kwargs, match):
    e, r = two_asset
    with pytest.raises(InputError, match=match):
        var(e, r, **kwargs)


def test_bad_arrays_raise_input_error(two_asset):
    e, r = two_asset
    bad = r.copy()
    bad[3, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        var(e, bad)
    with pytest.raises(InputError, match="shape mismatch"):
        var(np.ones(3), r)
