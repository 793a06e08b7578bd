"""Kalman hedge ratios against independent numpy filters, a least-squares identity and simulations."""

import numpy as np
import pandas as pd
import pytest

from astra.errors import InputError
from astra.statarb.kalman import _ols_prior, fit_kalman, kalman_batch, kalman_filter


def reference_filter(y, x, transition, q, r, m0, p0, spread_state=False):
    """Textbook Kalman filter in matrix form (Durbin & Koopman 2012, §4.3), written independently."""
    m, p = m0.astype(float).copy(), p0.astype(float).copy()
    states, innovations, variances = [], [], []
    for t in range(len(y)):
        m = transition @ m
        p = transition @ p @ transition.T + q
        h = np.array([1.0, x[t], 1.0]) if spread_state else np.array([1.0, x[t]])
        s = h @ p @ h + r
        e = y[t] - h @ m
        k = p @ h / s
        m = m + k * e
        p = p - np.outer(k, k) * s
        states.append(m.copy())
        innovations.append(e)
        variances.append(s)
    return np.array(states), np.array(innovations), np.array(variances)


def simulate_kalman2(n=4_000, q_beta=1e-5, r=0.04, seed=0):
    rng = np.random.default_rng(seed)
    x = 50 + np.cumsum(rng.normal(0, 0.5, n))
    beta = 1.2 + np.cumsum(rng.normal(0, np.sqrt(q_beta), n))
    y = 3.0 + beta * x + rng.normal(0, np.sqrt(r), n)
    return y, x, beta


def simulate_kalman3(n=5_000, phi=0.95, q_s=0.01, seed=0):
    rng = np.random.default_rng(seed)
    x = 40 + np.cumsum(rng.normal(0, 0.4, n))
    beta = 0.8 + np.cumsum(rng.normal(0, 1e-4, n))
    spread = np.zeros(n)
    for t in range(1, n):
        spread[t] = phi * spread[t - 1] + rng.normal(0, np.sqrt(q_s))
    y = 2.0 + beta * x + spread + rng.normal(0, 0.01, n)
    return y, x, beta, spread


def test_kalman2_equals_reference_filter():
    y, x, _ = simulate_kalman2(n=600)
    res = kalman_filter(y, x, q_alpha=1e-4, q_beta=1e-5, warmup=30)
    coef, p0, _ = _ols_prior(y, x, 30)
    r = res.params["r"]
    states, e, s = reference_filter(y, x, np.eye(2), np.diag([1e-4, 1e-5]) * r, r, coef, p0 * r)
    np.testing.assert_allclose(res.alpha, states[:, 0], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.beta, states[:, 1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.innovation, e, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.innovation_var, s, rtol=1e-9)


def test_kalman3_equals_reference_filter():
    y, x, _, _ = simulate_kalman3(n=600)
    res = kalman_filter(y, x, model="kalman3", q_beta=1e-6, r=0.05, phi=0.9, warmup=30)
    coef, p_ab, _ = _ols_prior(y, x, 30)
    scale = res.params["q_s"]
    stationary = 1 / (1 - 0.81)
    p0 = np.zeros((3, 3))
    p0[:2, :2] = p_ab * stationary * scale
    p0[2, 2] = stationary * scale
    states, e, s = reference_filter(
        y, x, np.diag([1, 1, 0.9]), np.diag([0, 1e-6, 1]) * scale, 0.05 * scale,
        np.array([coef[0], coef[1], 0.0]), p0, spread_state=True,
    )  # fmt: skip
    np.testing.assert_allclose(res.beta, states[:, 1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.spread, states[:, 2], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res.innovation, e, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res.innovation_var, s, rtol=1e-9)


def test_no_state_noise_is_regularised_least_squares():
    # With q = 0 the filter is recursive least squares: the final state minimises
    # Σ (y_t − α − β x_t)² + (θ − θ₀)ᵀ P₀⁻¹ (θ − θ₀) · r  (prior θ₀, P₀ = r·P₀*), a closed form.
    y, x, _ = simulate_kalman2(n=800, q_beta=0.0)
    res = kalman_filter(y, x, q_alpha=0.0, q_beta=0.0, warmup=40)
    coef, p0_star, _ = _ols_prior(y, x, 40)
    design = np.column_stack([np.ones(len(x)), x])
    precision = design.T @ design + np.linalg.inv(p0_star)
    theta = np.linalg.solve(precision, design.T @ y + np.linalg.inv(p0_star) @ coef)
    assert res.alpha[-1] == pytest.approx(theta[0], rel=1e-8)
    assert res.beta[-1] == pytest.approx(theta[1], rel=1e-10)


def test_mle_recovers_kalman2_noise_and_whitens_the_innovations():
    y, x, beta = simulate_kalman2(n=6_000, q_beta=1e-5, r=0.04, seed=3)
    res = fit_kalman(y, x)
    assert res.params["r"] == pytest.approx(0.04, rel=0.1)
    assert res.params["q_beta"] == pytest.approx(1e-5, rel=0.5)  # a variance of a variance: loose
    z = res.zscore[res.warmup :]
    assert np.var(z) == pytest.approx(1.0, abs=0.05)
    assert abs(np.corrcoef(z[1:], z[:-1])[0, 1]) < 0.05
    # β tracks the truth: RMSE after the warm-up below 0.01 (β moves by ~0.25 over the sample).
    assert np.sqrt(np.mean((res.beta[200:] - beta[200:]) ** 2)) < 0.01


def test_kalman3_fit_on_a_simulated_pair():
    y, x, beta, spread = simulate_kalman3(seed=1)
    res = fit_kalman(y, x, model="kalman3")
    assert res.params["phi"] == pytest.approx(0.95, abs=0.01)
    assert res.half_life_bars == pytest.approx(np.log(0.5) / np.log(0.95), rel=0.2)
    assert np.corrcoef(res.spread[200:], spread[200:])[0, 1] > 0.95
    assert np.sqrt(np.mean((res.beta[200:] - beta[200:]) ** 2)) < 0.01
    z = res.zscore[res.warmup :]
    assert np.var(z) == pytest.approx(1.0, abs=0.25)  # the filtered state, scaled by its stationary sd


def test_batch_equals_single_pairs():
    pairs = [simulate_kalman2(n=500, seed=s)[:2] for s in range(4)]
    y = np.column_stack([p[0] for p in pairs])  # (T, P): a column per pair
    x = np.column_stack([p[1] for p in pairs])
    batch = kalman_batch(y, x, q_alpha=1e-5, q_beta=1e-6, warmup=30)
    for i in range(4):
        one = kalman_filter(y[:, i], x[:, i], q_alpha=1e-5, q_beta=1e-6, warmup=30)
        np.testing.assert_allclose(batch["beta"][:, i], one.beta, rtol=1e-10)
        np.testing.assert_allclose(batch["zscore"][:, i], one.zscore, rtol=1e-9, atol=1e-10, equal_nan=True)
        assert batch["r"][i] == pytest.approx(one.params["r"], rel=1e-10)


def test_series_in_frame_out():
    y, x, _ = simulate_kalman2(n=300)
    index = pd.date_range("2026-03-02 09:30", periods=300, freq="min")
    res = kalman_filter(pd.Series(y, index=index), pd.Series(x, index=index))
    frame = res.to_frame()
    assert frame.index.equals(index) and list(frame.columns)[:3] == ["alpha", "beta", "spread"]
    assert np.isnan(frame["z"].iloc[:30]).all() and not np.isnan(frame["z"].iloc[30:]).any()
    assert res.to_dict()["beta_last"] == res.beta[-1]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "kalman9"}, "kalman9"),
        ({"q_beta": -1.0}, "q_beta"),
        ({"model": "kalman3", "phi": 1.0}, "phi"),
        ({"warmup": 2}, "warm-up"),
    ],
)
def test_bad_parameters(kwargs, match):
    y, x, _ = simulate_kalman2(n=200)
    with pytest.raises(InputError, match=match):
        kalman_filter(y, x, **kwargs)


def test_bad_data():
    y, x, _ = simulate_kalman2(n=200)
    with pytest.raises(InputError, match="same length"):
        kalman_filter(y, x[:-1])
    bad = y.copy()
    bad[5] = np.nan
    with pytest.raises(InputError, match="NaN"):
        kalman_filter(bad, x)
    with pytest.raises(InputError, match="bars"):
        kalman_filter(y[:40], x[:40])
    with pytest.raises(InputError, match="constant"):
        kalman_filter(y, np.full(200, 5.0))


def test_batch_reuses_given_buffers():
    pairs = [simulate_kalman2(n=400, seed=s)[:2] for s in range(70)]  # more than one block of 64
    y = np.column_stack([p[0] for p in pairs])
    x = np.column_stack([p[1] for p in pairs])
    fresh = kalman_batch(y, x, q_beta=1e-6)
    buffers = {key: np.full(y.shape, np.nan) for key in ("alpha", "beta", "zscore")}
    reused = kalman_batch(y, x, q_beta=1e-6, out=buffers)
    assert reused["beta"] is buffers["beta"]
    np.testing.assert_array_equal(reused["beta"], fresh["beta"])
    np.testing.assert_array_equal(reused["zscore"], fresh["zscore"])
    one = kalman_filter(y[:, 69], x[:, 69], q_beta=1e-6)  # the last pair sits in a second block
    np.testing.assert_allclose(fresh["beta"][:, 69], one.beta, rtol=1e-10)
    with pytest.raises(InputError, match="out arrays"):
        kalman_batch(y, x, out={key: np.empty((3, 3)) for key in ("alpha", "beta", "zscore")})
    lean = kalman_batch(y, x, q_beta=1e-6, keep_alpha=False)
    assert "alpha" not in lean
    np.testing.assert_array_equal(lean["beta"], fresh["beta"])
    np.testing.assert_array_equal(lean["zscore"], fresh["zscore"])


def test_batch_rejects_nan_anywhere():
    pairs = [simulate_kalman2(n=200, seed=s)[:2] for s in range(3)]
    y = np.column_stack([p[0] for p in pairs])
    x = np.column_stack([p[1] for p in pairs])
    for leg, row in ((y, 3), (x, 150), (y, 199)):  # in the warm-up, mid-sample, last bar
        bad = leg.copy()
        bad[row, 1] = np.nan
        args = (bad, x) if leg is y else (y, bad)
        with pytest.raises(InputError, match="NaN"):
            kalman_batch(*args)
