"""Optimiser correctness: closed forms, KKT conditions, dense vs factored, frontier, limits, funding."""

import itertools

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from astra.errors import Infeasible, InputError
from astra.funding import FundingTerms, Tier, carry_of_values
from astra.optimize import Costs, Limits, Problem, compile_problem, frontier, risk_model, solve, violations
from astra.optimize.estimators import RiskModel

NO_COST = Costs(tc_bps=0.0)


def model_from_cov(cov):
    vals, vecs = np.linalg.eigh(cov)
    return RiskModel(tuple(f"A{i}" for i in range(len(cov))), vecs * np.sqrt(vals), np.zeros(len(cov)), "given", 0)


def random_cov(n, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 0.01, (n + 5, n))
    return a.T @ a / (n + 5) + np.diag(rng.uniform(1e-5, 4e-4, n))


def test_two_asset_long_only_minvar_closed_form():
    # w1 = (σ2² − σ12) / (σ1² + σ2² − 2σ12), the textbook two-asset minimum-variance weight.
    s1, s2, rho = 0.02, 0.015, 0.3
    cov = np.array([[s1**2, rho * s1 * s2], [rho * s1 * s2, s2**2]])
    expected = (s2**2 - cov[0, 1]) / (s1**2 + s2**2 - 2 * cov[0, 1])
    lim = Limits(gross=None, net=(1, 1), lower=0, upper=1, long_only=True)
    res = solve(Problem("minvar", model_from_cov(cov), np.zeros(2), lim, NO_COST))
    assert res.weights[0] == pytest.approx(expected, abs=1e-7)
    assert res.volatility_ann == pytest.approx(np.sqrt(252 * res.weights @ cov @ res.weights), rel=1e-12)


def test_unconstrained_minvar_closed_form():
    # Σ⁻¹1 / (1ᵀΣ⁻¹1) when no bound binds (long/short, wide bounds, no gross limit).
    cov = random_cov(15, 0)
    inv = np.linalg.solve(cov, np.ones(15))
    expected = inv / inv.sum()
    lim = Limits(gross=None, net=(1, 1), lower=-10, upper=10)
    res = solve(Problem("minvar", model_from_cov(cov), np.zeros(15), lim, NO_COST))
    np.testing.assert_allclose(res.weights, expected, atol=2e-6)


def test_meanvar_with_budget_closed_form():
    # max μᵀw − (γ/2)·252·wᵀΣw s.t. 1ᵀw = 1 → w = A⁻¹(μ − ν1)/γ with A = 252Σ,
    # ν = (1ᵀA⁻¹μ − γ) / (1ᵀA⁻¹1).
    cov = random_cov(10, 1)
    mu = np.linspace(-0.05, 0.15, 10)
    gamma = 8.0
    a = 252 * cov
    ainv_mu, ainv_1 = np.linalg.solve(a, mu), np.linalg.solve(a, np.ones(10))
    nu = (ainv_mu.sum() - gamma) / ainv_1.sum()
    expected = (ainv_mu - nu * ainv_1) / gamma
    lim = Limits(gross=None, net=(1, 1), lower=-10, upper=10)
    res = solve(Problem("meanvar", model_from_cov(cov), mu, lim, NO_COST, gamma=gamma))
    np.testing.assert_allclose(res.weights, expected, atol=2e-6)


@pytest.mark.parametrize("seed", range(5))
def test_kkt_with_bounds(seed):
    # With a budget and box bounds, the KKT conditions are: g = μ − γAw − ν1 is 0 for names
    # strictly inside their bounds, ≥ 0 at the upper bound, ≤ 0 at the lower bound.
    rng = np.random.default_rng(seed)
    n = 20
    cov = random_cov(n, seed + 10)
    mu = rng.normal(0.05, 0.1, n)
    lim = Limits(gross=None, net=(1, 1), lower=-0.1, upper=0.2)
    res = solve(Problem("meanvar", model_from_cov(cov), mu, lim, NO_COST, gamma=3.0))
    w = res.weights
    grad = mu - 3.0 * 252 * cov @ w
    # Interior-point solutions sit slightly off active bounds (up to ~1e-4 when the multiplier is
    # tiny, which moves the objective by ~1e-9); classify with that tolerance.
    inside = (w > -0.1 + 1e-4) & (w < 0.2 - 1e-4)
    assert inside.any()
    nu = np.median(grad[inside])
    g = grad - nu
    assert np.abs(g[inside]).max() < 1e-5
    assert (g[w >= 0.2 - 1e-4] >= -1e-6).all() and (g[w <= -0.1 + 1e-4] <= 1e-6).all()


def test_factored_and_dense_formulations_agree():
    rng = np.random.default_rng(5)
    returns = pd.DataFrame(rng.normal(0, 0.01, (250, 30)) + rng.normal(0, 0.01, (250, 1)))
    model = risk_model(returns, "factor", factors=4)
    mu = rng.normal(0.05, 0.05, 30)
    lim = Limits(gross=2.0, net=(-0.05, 0.05), lower=-0.1, upper=0.1)
    ours = solve(Problem("meanvar", model, mu, lim, NO_COST, gamma=5.0))
    # Independent dense formulation, as the notebook wrote it: quad_form on the full Σ.
    w = cp.Variable(30)
    sigma = cp.psd_wrap(252 * model.dense())
    dense = cp.Problem(
        cp.Maximize(mu @ w - 2.5 * cp.quad_form(w, sigma)),
        [cp.norm1(w) <= 2, cp.sum(w) >= -0.05, cp.sum(w) <= 0.05, w >= -0.1, w <= 0.1],
    )
    dense.solve(solver="CLARABEL")
    # Objectives agree to solver accuracy; weights less tightly (flat directions of a factor Σ).
    assert ours.objective == pytest.approx(dense.value, rel=1e-6)
    np.testing.assert_allclose(ours.weights, w.value, atol=1e-4)


def test_frontier_is_monotone():
    rng = np.random.default_rng(7)
    returns = pd.DataFrame(rng.normal(0.0004, 0.01, (300, 12)))
    model = risk_model(returns, "lw")
    mu = rng.normal(0.06, 0.05, 12)
    problem = Problem("meanvar", model, mu, Limits(gross=2.0, net=(-0.05, 0.05), lower=-0.3, upper=0.3), NO_COST)
    points = frontier(problem, [1, 2, 5, 10, 20, 50])
    vols = [p.volatility_ann for p in points]
    rets = [p.expected_return_ann for p in points]
    # ordered from high γ (low risk) to low γ: risk and return both rise
    assert all(b >= a - 1e-7 for a, b in itertools.pairwise(vols))
    assert all(b >= a - 1e-7 for a, b in itertools.pairwise(rets))
    assert [p.gamma for p in points] == [50, 20, 10, 5, 2, 1]


@st.composite
def problems(draw):
    n = draw(st.integers(3, 12))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    model = model_from_cov(random_cov(n, seed))
    mu = rng.normal(0.05, 0.1, n)
    gross = draw(st.floats(0.5, 3.0))
    half = draw(st.floats(0.0, 0.3))
    centre = draw(st.floats(-0.2, 0.2))
    net = (max(centre - half, -gross), min(centre + half, gross))
    bound = draw(st.floats(max(0.1, abs(net[0]) / n * 1.5, abs(net[1]) / n * 1.5), 1.0))
    locates = np.where(rng.random(n) < 0.3, rng.uniform(0, bound, n), np.inf)
    betas = rng.uniform(0.5, 1.5, n)
    limits = Limits(gross=gross, net=net, lower=-bound, upper=bound, max_short=locates, beta=(betas, -0.5, 0.5))
    kind = draw(st.sampled_from(["minvar", "meanvar"]))
    terms = FundingTerms(tiers=(Tier(200_000, 60), Tier(600_000, 70)), long_spread_bps=80)
    costs = Costs(funding=terms.annual_rates(0.04, model.tickers), model=draw(st.sampled_from(["cash", "netted"])))
    return Problem(kind, model, mu, limits, costs, gamma=draw(st.floats(0.5, 50)), equity=1e6)


@settings(max_examples=25, deadline=None)
@given(problems())
def test_every_solution_satisfies_every_limit(problem):
    try:
        res = solve(problem)
    except Infeasible:
        return
    worst = violations(problem, res.weights)
    assert max(worst.values()) <= 1e-7, worst


@pytest.mark.parametrize("model", ["cash", "netted", "swap", "seed"])
def test_objective_carry_is_the_funding_model(model):
    # The optimiser's concave carry expression equals the funding engine's exact carry at the
    # solution (rising tiers, so the slices are exact).
    rng = np.random.default_rng(11)
    n = 10
    terms = FundingTerms(tiers=(Tier(300_000, 40),), long_spread_bps=90, borrow_fee_bps={"A3": 900})
    rates = terms.annual_rates(0.045, [f"A{i}" for i in range(n)])
    problem = Problem(
        "meanvar",
        model_from_cov(random_cov(n, 3)),
        rng.normal(0.08, 0.05, n),
        Limits(gross=3.0, net=(0.5, 1.6), lower=-0.4, upper=0.6),
        Costs(funding=rates, model=model, tc_bps=0),
        gamma=2.0,
        equity=1e6,
    )
    compiled = compile_problem(problem)
    res = solve(compiled)
    exact = carry_of_values(res.weights * 1e6, 1e6, rates, model, days=360) / 1e6
    assert compiled.carry.value == pytest.approx(exact, abs=1e-7)
    assert res.carry_ann == pytest.approx(exact, abs=1e-12)
    u, v = compiled.u.value, compiled.v.value
    assert np.max(np.minimum(u, v)) < 1e-6  # no wash positions


def test_locates_and_turnover_bind():
    cov = random_cov(6, 2)
    mu = np.array([0.2, 0.1, 0.05, -0.1, -0.2, 0.0])
    current = np.array([0.1, 0.1, 0.0, 0.0, -0.1, 0.0])
    lim = Limits(gross=2, net=(-0.05, 0.05), lower=-0.5, upper=0.5, max_short=np.array([np.inf] * 4 + [0.05, np.inf]))
    res = solve(Problem("meanvar", model_from_cov(cov), mu, lim, NO_COST, gamma=1.0, current=current))
    assert res.weights[4] >= -0.05 - 1e-9 and "locates" in res.binding
    lim2 = Limits(gross=2, net=(-0.05, 0.05), lower=-0.5, upper=0.5, turnover=0.1)
    res2 = solve(Problem("meanvar", model_from_cov(cov), mu, lim2, NO_COST, gamma=1.0, current=current))
    assert res2.turnover == pytest.approx(0.1, abs=1e-7) and "turnover" in res2.binding


def test_infeasible_limits_are_explained():
    cov = random_cov(5, 4)
    lim = Limits(gross=2, net=(0.5, 0.6), lower=-0.05, upper=0.05)  # longs can reach at most 0.25
    with pytest.raises(Infeasible, match=r"net band.*position bounds|position bounds.*net band"):
        solve(Problem("meanvar", model_from_cov(cov), np.zeros(5), lim, NO_COST))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"gamma": -1.0}, "gamma"),
        ({"limits": Limits(gross=0.01, net=(0.5, 0.6))}, "below the net exposure"),
        ({"limits": Limits(net=(0.2, 0.1))}, "empty"),
        ({"kind": "maxret"}, "volatility target"),
        ({"kind": "best"}, "not one of"),
    ],
)
def test_bad_problems(kwargs, match):
    base = {"kind": "meanvar", "risk": model_from_cov(random_cov(3, 0)), "mu": np.zeros(3)}
    with pytest.raises(InputError, match=match):
        Problem(**{**base, **kwargs})


def test_maxret_hits_the_volatility_target():
    cov = random_cov(8, 6)
    mu = np.linspace(0.0, 0.2, 8)
    lim = Limits(gross=2, net=(-0.05, 0.05), lower=-0.5, upper=0.5)
    res = solve(Problem("maxret", model_from_cov(cov), mu, lim, NO_COST, vol_target=0.05))
    assert res.volatility_ann == pytest.approx(0.05, abs=1e-7)  # the checked tolerance of every limit
    assert "volatility target" in res.binding


def test_resolving_a_compiled_problem_equals_a_fresh_solve():
    # γ enters the program as τ = γ₀/γ; objective and duals must come back in the original scale.
    rng = np.random.default_rng(11)
    returns = pd.DataFrame(rng.normal(0, 0.01, (300, 40)) + rng.normal(0, 0.01, (300, 1)))
    model = risk_model(returns, "factor", factors=3)
    mu = rng.normal(0.05, 0.05, 40)
    base = Problem("meanvar", model, mu, Limits(gross=2.0, net=(-0.05, 0.05), lower=-0.1, upper=0.1), NO_COST,
                   gamma=5.0)  # fmt: skip
    compiled = compile_problem(base)
    solve(compiled)
    compiled.gamma.value, compiled.net_hi.value = 2.0, 0.02
    again = solve(compiled)
    fresh_problem = Problem("meanvar", model, mu, Limits(gross=2.0, net=(-0.05, 0.02), lower=-0.1, upper=0.1),
                            NO_COST, gamma=2.0)  # fmt: skip
    fresh = solve(fresh_problem)
    assert again.gamma == 2.0 and again.objective == pytest.approx(fresh.objective, rel=1e-8)
    # reference: Clarabel at 1e-12 on the same program; PIQP (eps 1e-10) lands within a few 1e-6 in weight
    reference = compile_problem(fresh_problem)
    reference.program.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12, max_iter=500)
    np.testing.assert_allclose(again.weights, reference.weights, atol=1e-5)
    np.testing.assert_allclose(fresh.weights, reference.weights, atol=1e-5)
    assert again.duals.keys() == fresh.duals.keys()
    for key, value in fresh.duals.items():
        assert again.duals[key] == pytest.approx(value, rel=1e-5, abs=1e-8)
    # reference: the objective written out in numpy at the returned weights, μᵀw − (γ/2)·252·wᵀΣw
    w = again.weights
    assert again.objective == pytest.approx(mu @ w - 2.0 / 2 * 252 * w @ model.dense() @ w, rel=1e-7)
    with pytest.raises(InputError, match="gamma"):
        compiled.gamma.value = 0.0


@pytest.mark.parametrize("model", ["swap", "cash"])
def test_fast_resolve_equals_cvxpys_own_resolve_with_funding_and_costs(model):
    # The cached affine re-solve (solve._AffineResolver) against cvxpy re-stuffing the same program:
    # the swap model's constant credit term moves the objective offset with τ, tiers add variables.
    rng = np.random.default_rng(3)
    n = 12
    terms = FundingTerms(tiers=(Tier(300_000, 40),), long_spread_bps=90, borrow_fee_bps={"A3": 900})
    rates = terms.annual_rates(0.045, [f"A{i}" for i in range(n)])
    problem = Problem("meanvar", model_from_cov(random_cov(n, 5)), rng.normal(0.08, 0.05, n),
                      Limits(gross=2.5, net=(0.2, 1.2), lower=-0.3, upper=0.5),
                      Costs(funding=rates, model=model, tc_bps=10), gamma=3.0, equity=1e6)  # fmt: skip
    fast, slow = compile_problem(problem), compile_problem(problem)
    slow.resolver["disabled"] = True
    for compiled in (fast, slow):
        solve(compiled)
    for gamma, hi, gross in [(1.5, 0.9, 2.0), (6.0, 1.1, 3.0), (3.0, 1.2, 2.5)]:
        results = []
        for compiled in (fast, slow):
            compiled.gamma.value, compiled.net_hi.value, compiled.gross.value = gamma, hi, gross
            results.append(solve(compiled))
        assert "resolver" in fast.resolver and not fast.resolver.get("disabled") and "resolver" not in slow.resolver
        assert results[0].objective == pytest.approx(results[1].objective, rel=1e-9, abs=1e-12)
        np.testing.assert_allclose(results[0].weights, results[1].weights, atol=1e-7)
        assert results[0].duals.keys() == results[1].duals.keys()
        assert results[0].max_violation <= 1e-7


def test_conic_problems_resolve_through_cvxpy():
    # 3/2-power impact makes the program conic: the affine QP re-solve steps aside, results stay right.
    rng = np.random.default_rng(8)
    n = 8
    problem = Problem("meanvar", model_from_cov(random_cov(n, 2)), rng.normal(0.08, 0.05, n),
                      Limits(gross=2.0, net=(-0.1, 0.1), lower=-0.4, upper=0.4),
                      Costs(tc_bps=5, impact=np.full(n, 0.02)), gamma=4.0)  # fmt: skip
    compiled = compile_problem(problem)
    solve(compiled)
    compiled.gamma.value = 2.0
    again = solve(compiled)
    assert compiled.resolver.get("disabled") and again.solver != "PIQP"
    fresh = solve(Problem("meanvar", problem.risk, problem.mu, problem.limits, problem.costs, gamma=2.0))
    assert again.objective == pytest.approx(fresh.objective, rel=1e-7)
    np.testing.assert_allclose(again.weights, fresh.weights, atol=5e-5)  # Clarabel at its default tolerances
