"""The Python API takes inputs labelled by ticker (pandas), aligned by label, as well as arrays.

References: the mean-variance closed form with a budget, and problems written directly in
cvxpy/Clarabel on the dense Σ in the model's order (arrays, no labels).
"""

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest

from astra.errors import InputError
from astra.optimize import Costs, Limits, Problem, RiskModel, expected_returns, risk_model, solve

NAMES = ["AAPL", "MSFT", "JPM", "XOM", "JNJ", "KO"]
TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(4)
    x = rng.normal(0, 0.01, (400, 6)) + rng.normal(0, 0.008, (400, 1))
    return pd.DataFrame(x, columns=NAMES)


@pytest.fixture(scope="module")
def model(panel):
    return risk_model(panel, "sample")


def test_mu_as_a_series_in_another_order(model, panel):
    # Before: Problem(..., mu=pd.Series) raised IndexError from inside pandas (issue 15).
    mu = pd.Series([0.02, 0.15, -0.03, 0.08, 0.05, 0.11], index=NAMES)
    shuffled = mu.iloc[[3, 0, 5, 1, 4, 2]]
    gamma = 6.0
    res = solve(Problem("meanvar", model, shuffled, Limits(gross=None, net=(1, 1), lower=-10, upper=10),
                        Costs(tc_bps=0), gamma=gamma))  # fmt: skip
    # closed form: w = A⁻¹(μ − ν1)/γ, A = 252Σ, ν = (1ᵀA⁻¹μ − γ)/(1ᵀA⁻¹1), μ in the model's order
    a = 252 * panel.cov().to_numpy()
    inv_mu, inv_1 = np.linalg.solve(a, mu.to_numpy()), np.linalg.solve(a, np.ones(6))
    nu = (inv_mu.sum() - gamma) / inv_1.sum()
    np.testing.assert_allclose(res.weights, (inv_mu - nu * inv_1) / gamma, atol=2e-6)
    assert res.expected_return_ann == pytest.approx(float(mu.to_numpy() @ res.weights), rel=1e-12)


def test_lower_case_labels_and_a_mapping_also_align(model):
    mu = {t.lower(): 0.01 * i for i, t in enumerate(NAMES)}
    np.testing.assert_array_equal(Problem("meanvar", model, mu).mu, 0.01 * np.arange(6))


@pytest.mark.parametrize(
    ("mu", "match"),
    [
        (pd.Series(0.05, index=NAMES[:-1]), r"mu: no value for KO"),
        (pd.Series(0.05, index=[*NAMES, "ZZZZ"]), r"mu: ZZZZ not in the model's tickers"),
        (pd.Series(0.05, index=[*NAMES[:-1], "ZZZZ"]), r"no value for KO; ZZZZ not in the model's tickers"),
        (pd.Series(0.05, index=[*NAMES, "AAPL"]), r"lists AAPL more than once"),
        (np.zeros(5), r"expected 6 values"),
        (pd.Series([0.0, 0, 0, 0, 0, np.nan], index=NAMES), r"NaN for KO"),
    ],
)
def test_mismatched_labels_are_named(model, mu, match):
    with pytest.raises(InputError, match=match):
        Problem("meanvar", model, mu)


def test_bounds_locates_current_betas_and_groups_by_ticker(model, panel):
    mu = pd.Series([0.10, 0.12, 0.02, 0.04, 0.06, -0.05], index=NAMES)
    upper = pd.Series({"AAPL": 0.2, "MSFT": 0.15, "JPM": 0.5, "XOM": 0.5, "JNJ": 0.5, "KO": 0.5})
    lower = pd.Series(-0.3, index=NAMES[::-1])
    locates = pd.Series({"KO": 0.05, "JPM": np.inf, "AAPL": np.inf, "MSFT": np.inf, "XOM": 0.1, "JNJ": np.inf})
    betas = pd.Series([1.2, 1.1, 1.0, 0.9, 0.6, 0.5], index=NAMES).iloc[::-1]
    current = pd.Series({"AAPL": 0.1, "KO": -0.05, "MSFT": 0, "JPM": 0, "XOM": 0, "JNJ": 0})
    limits = Limits(gross=1.5, net=(-0.1, 0.1), lower=lower, upper=upper, max_short=locates,
                    beta=(betas, -0.05, 0.05), groups={"tech": (["MSFT", "aapl"], -0.1, 0.1)})  # fmt: skip
    res = solve(Problem("meanvar", model, mu, limits, Costs(tc_bps=5), gamma=4.0, current=current))
    # the same problem on arrays in the model's order, written directly in cvxpy
    cov = 252 * panel.cov().to_numpy()
    w0 = current[NAMES].to_numpy()
    w = cp.Variable(6)
    objective = cp.Maximize(mu[NAMES].to_numpy() @ w - 2.0 * cp.quad_form(w, cp.psd_wrap(cov))
                            - 5e-4 * cp.norm1(w - w0))  # fmt: skip
    constraints = [cp.norm1(w) <= 1.5, cp.sum(w) >= -0.1, cp.sum(w) <= 0.1, w >= -0.3, w <= upper[NAMES].to_numpy(),
                   w[5] >= -0.05, w[3] >= -0.1, cp.abs(betas[NAMES].to_numpy() @ w) <= 0.05,
                   cp.abs(w[0] + w[1]) <= 0.1]  # fmt: skip
    cp.Problem(objective, constraints).solve("CLARABEL", **TIGHT)
    np.testing.assert_allclose(res.weights, w.value, atol=2e-5)
    assert res.trading_cost_basis == "trades from current book"


def test_alphas_and_returns_by_label(panel):
    alphas = pd.Series({c: 0.01 * i for i, c in enumerate(NAMES)}).iloc[::-1]
    np.testing.assert_allclose(expected_returns(panel, "alphas", alphas=alphas), 0.01 * np.arange(6))
    with pytest.raises(InputError, match="ZZZZ not in the model's tickers"):
        expected_returns(panel, "alphas", alphas=pd.concat([alphas, pd.Series({"ZZZZ": 0.1})]))


def test_covariance_frame_and_series_mu_together(panel):
    cov = panel.cov()
    model = RiskModel.from_covariance(cov.iloc[::-1, ::-1])  # tickers in the frame's row order
    assert model.tickers == tuple(NAMES[::-1])
    mu = pd.Series(0.05, index=NAMES)
    res = solve(Problem("minvar", model, mu))
    inv = np.linalg.solve(cov.to_numpy(), np.ones(6))
    expected = pd.Series(inv / inv.sum(), index=NAMES)  # Σ⁻¹1/1ᵀΣ⁻¹1 in the frame's own order
    np.testing.assert_allclose(res.weights, expected[list(model.tickers)].to_numpy(), atol=2e-6)


def test_labels_docstring_example():
    # the worked example in astra.optimize.labels (a module tests/test_doctests.py does not list yet)
    import doctest

    import astra.optimize.labels

    result = doctest.testmod(astra.optimize.labels)
    assert result.attempted > 0 and result.failed == 0
