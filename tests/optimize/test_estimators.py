"""Covariance estimators in factored form, each against an independent computation."""

import numpy as np
import pandas as pd
import pytest

from astra.errors import InputError
from astra.optimize import NoisyMeanWarning, expected_returns, risk_model


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(42)
    loadings = rng.normal(0, 1, (12, 3))
    f = rng.normal(0, 0.01, (400, 3))
    x = f @ loadings.T + rng.normal(0, 0.005, (400, 12))
    return pd.DataFrame(x, columns=[f"S{i}" for i in range(12)])


def test_sample_matches_pandas(panel):
    np.testing.assert_allclose(risk_model(panel, "sample").dense(), panel.cov().to_numpy(), rtol=1e-10, atol=1e-16)


def test_sample_when_names_outnumber_days():
    # N = 50 > T = 30: the factor is the centred data itself; Σ is singular but the form exists.
    x = pd.DataFrame(np.random.default_rng(1).normal(0, 0.01, (30, 50)))
    model = risk_model(x, "sample")
    assert model.factors.shape == (50, 30)
    np.testing.assert_allclose(model.dense(), np.cov(x.to_numpy(), rowvar=False), rtol=1e-10, atol=1e-16)
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.cholesky(model.dense())  # what the notebook did: fails here


def test_ledoit_wolf_matches_sklearn(panel):
    from sklearn.covariance import LedoitWolf

    reference = LedoitWolf().fit(panel.to_numpy()).covariance_
    np.testing.assert_allclose(risk_model(panel, "lw").dense(), reference, rtol=1e-9, atol=1e-16)


def test_ledoit_wolf_n_greater_than_t():
    from sklearn.covariance import LedoitWolf

    x = np.random.default_rng(3).normal(0, 0.01, (40, 80))
    reference = LedoitWolf().fit(x).covariance_
    np.testing.assert_allclose(risk_model(pd.DataFrame(x), "lw").dense(), reference, rtol=1e-9, atol=1e-16)
    assert np.linalg.eigvalsh(reference).min() > 0  # shrinkage makes it positive definite


def test_ewma_matches_weighted_covariance(panel):
    # Independent: weights λ^(T-1-t), λ = 0.5^(1/h), normalised; numpy's aweights give the
    # same unbiased weighted covariance.
    h = 30.0
    t = len(panel)
    weights = 0.5 ** (np.arange(t - 1, -1, -1) / h)
    reference = np.cov(panel.to_numpy(), rowvar=False, aweights=weights)
    np.testing.assert_allclose(risk_model(panel, "ewma", half_life=h).dense(), reference, rtol=1e-9, atol=1e-16)


def test_pca_factor_model(panel):
    model = risk_model(panel, "factor", factors=3)
    sample = panel.cov().to_numpy()
    vals, vecs = np.linalg.eigh(sample)
    top = vecs[:, -3:] * vals[-3:]  # Σ v = λ v: the top-3 part of Σ
    np.testing.assert_allclose(model.factors @ model.factors.T, top @ vecs[:, -3:].T, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(np.diag(model.dense()), np.diag(sample), rtol=1e-10)  # residual fills the diagonal


def test_expected_returns(panel):
    assert not expected_returns(panel).any()
    with pytest.warns(NoisyMeanWarning):
        np.testing.assert_allclose(expected_returns(panel, "hist"), panel.mean().to_numpy() * 252)
    alphas = pd.Series({c: 0.01 * i for i, c in enumerate(panel.columns)})
    np.testing.assert_allclose(expected_returns(panel, "alphas", alphas=alphas), alphas.to_numpy())
    with pytest.raises(InputError, match="no value for S11"):
        expected_returns(panel, "alphas", alphas=alphas.iloc[:-1])


def test_bad_inputs(panel):
    bad = panel.copy()
    bad.iloc[3, 2] = np.nan
    with pytest.raises(InputError, match="NaN"):
        risk_model(bad)
    with pytest.raises(InputError, match="not one of"):
        risk_model(panel, "garch")
    with pytest.raises(InputError, match="factors"):
        risk_model(panel, "factor", factors=0)
    with pytest.raises(InputError, match="half_life"):
        risk_model(panel, "ewma", half_life=0.1)
