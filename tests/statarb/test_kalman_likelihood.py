"""Kalman log-likelihoods and parameter standard errors against statsmodels' state-space models.

References: statsmodels' ``KalmanFilter``/``MLEModel`` (``statsmodels.tsa.statespace``) run on
the same model, prior and scored bars (``loglikelihood_burn`` = the warm-up), and statsmodels'
complex-step Hessian (``statsmodels.tools.numdiff.approx_hess_cs``) of its own likelihood.
"""

import doctest
import math

import numpy as np
import pytest
from statsmodels.tools.numdiff import approx_hess_cs
from statsmodels.tsa.statespace.mlemodel import MLEModel

from astra.errors import InputError
from astra.statarb import kalman as kalman_module
from astra.statarb._inference import LOG, delta_std_errors
from astra.statarb.kalman import _ols_prior, fit_kalman, kalman_filter, refilter
from tests.statarb.test_kalman import simulate_kalman2, simulate_kalman3

WARMUP = 30


class RandomWalkRegression(MLEModel):
    """kalman2 in statsmodels: y_t = α_t + β_t x_t + ε_t, random-walk α, β; prior = ours."""

    param_names = ("r", "q_beta")

    def __init__(self, y, x, prior_mean, prior_cov_rel):
        super().__init__(y, k_states=2, k_posdef=2, loglikelihood_burn=WARMUP)
        design = np.zeros((1, 2, len(y)))
        design[0, 0], design[0, 1] = 1.0, x
        self["design"], self["transition"], self["selection"] = design, np.eye(2), np.eye(2)
        self.prior_mean, self.prior_cov_rel = prior_mean, prior_cov_rel
        self.ssm.initialize_known(prior_mean, prior_cov_rel)

    @property
    def start_params(self):
        return np.array([0.04, 1e-5])

    def transform_params(self, unconstrained):
        return np.exp(unconstrained)

    def untransform_params(self, constrained):
        return np.log(constrained)

    def update(self, params, **kwargs):
        params = super().update(params, **kwargs)
        r, q_beta = params
        state_cov = np.zeros((2, 2), dtype=params.dtype)
        state_cov[1, 1] = q_beta
        self["obs_cov", 0, 0] = r
        self["state_cov"] = state_cov
        # our prior is (m₀, r·P₀*) before bar 0, so the predicted state at bar 0 adds Q
        self.ssm.initialize_known(self.prior_mean, self.prior_cov_rel * r + state_cov)


class MeanRevertingSpread(MLEModel):
    """kalman3 in statsmodels: states (α, β, s), s AR(1); α constant; prior = ours."""

    param_names = ("q_s", "q_beta", "r", "phi")

    def __init__(self, y, x, prior_mean, ols_cov_rel):
        super().__init__(y, k_states=3, k_posdef=3, loglikelihood_burn=WARMUP)
        design = np.ones((1, 3, len(y)))
        design[0, 1] = x
        self["design"], self["selection"] = design, np.eye(3)
        self.prior_mean, self.ols_cov_rel = prior_mean, ols_cov_rel
        self.ssm.initialize_known(prior_mean, np.eye(3))

    @property
    def start_params(self):
        return np.array([0.01, 1e-6, 1e-4, 0.9])

    def transform_params(self, u):
        return np.r_[np.exp(u[:3]), 1.0 / (1.0 + np.exp(-u[3]))]

    def untransform_params(self, c):
        return np.r_[np.log(c[:3]), np.log(c[3] / (1.0 - c[3]))]

    def update(self, params, **kwargs):
        params = super().update(params, **kwargs)
        q_s, q_beta, r, phi = params
        transition = np.eye(3, dtype=params.dtype)
        transition[2, 2] = phi
        state_cov = np.zeros((3, 3), dtype=params.dtype)
        state_cov[1, 1], state_cov[2, 2] = q_beta, q_s
        self["transition"], self["state_cov"] = transition, state_cov
        self["obs_cov", 0, 0] = r
        stationary = q_s / (1.0 - phi * phi)  # the prior: OLS covariance × the spread's stationary variance
        prior_cov = np.zeros((3, 3), dtype=params.dtype)
        prior_cov[:2, :2] = self.ols_cov_rel * stationary
        prior_cov[2, 2] = stationary
        mean = self.prior_mean.astype(params.dtype)
        self.ssm.initialize_known(transition @ mean, transition @ prior_cov @ transition.T + state_cov)


def kalman2_reference(y, x):
    coef, p0, _ = _ols_prior(y, x, WARMUP)
    return RandomWalkRegression(y, x, coef, p0)


def kalman3_reference(y, x):
    coef, p_ab, _ = _ols_prior(y, x, WARMUP)
    return MeanRevertingSpread(y, x, np.array([coef[0], coef[1], 0.0]), p_ab)


# ---------------------------------------------------------------- log-likelihood
def test_kalman2_loglik_with_a_fixed_scale_equals_statsmodels():
    # Fit on the first 800 bars, refilter all 1,500 with that scale: r is no longer the
    # concentrated estimate on these bars, so Σ e²/(r S*) ≠ n (the old "+n" form was wrong here).
    y, x, _ = simulate_kalman2(n=1_500, q_beta=1e-5, r=0.04, seed=5)
    fitted = fit_kalman(y[:800], x[:800], std_errors=False)
    walk = refilter(fitted, y, x)
    p = fitted.params
    reference = kalman2_reference(y, x).loglike(np.array([p["r"], p["q_beta"]]))
    assert walk.loglik == pytest.approx(reference, rel=1e-10)
    var = walk.innovation_var[WARMUP:]
    old_form = -0.5 * (var.size * math.log(2 * math.pi) + np.log(var).sum() + var.size)
    assert abs(old_form - reference) > 1  # the "+n" form misses it: this case tells them apart


def test_kalman2_loglik_with_an_arbitrary_scale_and_concentrated():
    y, x, _ = simulate_kalman2(n=1_000, seed=6)
    model = kalman2_reference(y, x)
    for scale in (0.01, 0.2):
        res = kalman_filter(y, x, q_beta=1e-4, scale=scale)  # q_beta relative to the scale
        assert res.loglik == pytest.approx(model.loglike(np.array([scale, 1e-4 * scale])), rel=1e-10)
    free = kalman_filter(y, x, q_beta=1e-4)  # r concentrated: the maximum over r of the same likelihood
    r = free.params["r"]
    assert free.loglik == pytest.approx(model.loglike(np.array([r, 1e-4 * r])), rel=1e-10)
    assert free.loglik > model.loglike(np.array([1.05 * r, 1e-4 * r]))


def test_kalman3_loglik_with_a_fixed_scale_equals_statsmodels():
    y, x, _, _ = simulate_kalman3(n=1_500, seed=2)
    fitted = fit_kalman(y[:900], x[:900], model="kalman3", std_errors=False)
    walk = refilter(fitted, y, x)
    p = fitted.params
    reference = kalman3_reference(y, x).loglike(np.array([p["q_s"], p["q_beta"], p["r"], p["phi"]]))
    assert walk.loglik == pytest.approx(reference, rel=1e-10)


# ---------------------------------------------------------------- standard errors
def test_kalman2_standard_errors_match_statsmodels_mle():
    y, x, _ = simulate_kalman2(n=3_000, q_beta=1e-5, r=0.04, seed=3)
    res = fit_kalman(y, x)
    p, se = res.params, res.std_errors
    model = kalman2_reference(y, x)
    # statsmodels' own MLE from ours, with its default observed-information covariance
    # (complex-step Hessian in the natural parameters): same maximum, same standard errors.
    sm = model.fit(start_params=[p["r"], p["q_beta"]], disp=False, cov_type="approx",
                   cov_kwds={"approx_complex_step": True})  # fmt: skip
    np.testing.assert_allclose([p["r"], p["q_beta"]], sm.params, rtol=1e-6)
    # delta method from log coordinates vs natural coordinates: equal at an exact maximum;
    # 1 % allows for the optimisers' stopping points (0.15 % observed)
    np.testing.assert_allclose([se["r"], se["q_beta"]], sm.bse, rtol=0.01)
    assert math.isnan(se["q_alpha"])  # not estimated
    assert res.to_dict()["std_errors"]["q_alpha"] is None


def test_kalman3_standard_errors_match_statsmodels_observed_information():
    y, x, _, _ = simulate_kalman3(n=3_000, seed=1)
    res = fit_kalman(y, x, model="kalman3")
    p, se = res.params, res.std_errors
    names = ["q_s", "q_beta", "r", "phi"]
    model = kalman3_reference(y, x)
    values = np.array([p[k] for k in names])
    assert model.loglike(values) == pytest.approx(res.loglik, rel=1e-10)
    # statsmodels' complex-step Hessian of its likelihood in (log q_s, log q_β, log r, logit φ)
    # (its default natural-coordinate steps swamp a variance of 1e-8), by the delta method
    hess = approx_hess_cs(model.untransform_params(values), lambda u: model.loglike(model.transform_params(u)))
    jacobian = np.r_[values[:3], values[3] * (1 - values[3])]
    expected = jacobian * np.sqrt(np.diag(np.linalg.inv(-hess)))
    np.testing.assert_allclose([se[k] for k in names], expected, rtol=1e-3)


def test_delta_method_closed_form_for_a_normal_variance():
    # ℓ(σ²) = −½ (n log 2πσ² + S/σ²) has σ̂² = S/n and se(σ̂²) = σ̂² √(2/n) (observed information n/(2σ̂⁴)).
    rng = np.random.default_rng(0)
    data = rng.normal(0, 0.3, 400)
    n, total = data.size, float(data @ data)

    def loglik(theta):
        var = math.exp(theta[0])
        return -0.5 * (n * math.log(2 * math.pi * var) + total / var)

    se = delta_std_errors(loglik, [total / n], [LOG], [True])
    assert se[0] == pytest.approx(total / n * math.sqrt(2 / n), rel=1e-6)
    assert math.isnan(delta_std_errors(loglik, [total / n], [LOG], [False])[0])  # held fixed: not defined


def test_kalman_filter_docstring_example():
    # the worked example in kalman_filter's docstring (y = 3 + 1.2 x + N(0, 0.04))
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(kalman_module.kalman_filter, "kalman_filter", globs={"np": np, **vars(kalman_module)}):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0


def test_result_memory_is_reused_only_when_nothing_views_it():
    from astra.statarb.kalman import _PATHS

    y, x, _ = simulate_kalman2(n=613, seed=8)  # a length no other test uses: the pool is per process
    reference = kalman_filter(y, x, q_beta=1e-5)
    expected = {k: getattr(reference, k).copy() for k in ("alpha", "beta", "spread", "zscore", "innovation")}
    first = kalman_filter(y * 1.5, x, q_beta=1e-5)
    block = id(first.beta.base)
    kept = first.zscore  # a column still in use: its memory must not be handed out
    del first
    second = kalman_filter(y, x, q_beta=1e-5)
    assert id(second.beta.base) != block and not np.shares_memory(kept, second.zscore)
    del kept, second
    third = kalman_filter(y, x, q_beta=1e-5)  # nothing views the first block now: reused
    assert id(third.beta.base) == block
    for key, values in expected.items():
        np.testing.assert_array_equal(getattr(third, key), values)  # same numbers as fresh memory
    # out= buffers are filled in place and give the same result
    buffers = {k: np.full(len(y), 7.0) for k in _PATHS}
    filled = kalman_filter(y, x, q_beta=1e-5, out=buffers)
    assert filled.beta is buffers["beta"] or np.shares_memory(filled.beta, buffers["beta"])
    np.testing.assert_array_equal(buffers["zscore"], expected["zscore"])
    with pytest.raises(InputError, match="out"):
        kalman_filter(y, x, out={"beta": np.empty(3)})
