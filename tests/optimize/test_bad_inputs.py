"""Bad optimiser inputs: one clear error naming the parameter and the value, before any data is loaded.

Each case is an input a user could type (issue 19's battery for the optimiser and its siblings);
the expected exit code is the error class's (InputError → 2, Infeasible → 4).
"""

import inspect

import numpy as np
import pytest

import astra.workflows.optimize as workflow
from astra.errors import Infeasible, InputError
from astra.workflows import optimize_portfolio

NAMES = ["AAPL", "MSFT", "JPM", "XOM", "JNJ"]


@pytest.fixture
def no_data(monkeypatch):
    """Fail the test if prices are loaded: the inputs must be refused before any data is fetched."""

    def refuse(*args, **kwargs):
        raise AssertionError("prices were loaded before the inputs were checked")

    monkeypatch.setattr(workflow, "load_prices", refuse)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"gamma": 0.0}, "gamma: 0.0 must be > 0"),
        ({"gamma": -1.0, "problem": "minvar"}, "gamma: -1.0 must be > 0"),
        ({"problem": "maxret", "vol_target": 0.0}, "vol_target: 0.0 must be > 0"),
        ({"problem": "maxret", "vol_target": -0.1}, "vol_target: -0.1 must be > 0"),
        ({"problem": "maxret"}, "maxret needs a volatility target"),
        ({"gross": 0.0}, "gross: 0.0 must be > 0"),
        ({"gross": -2.0}, "gross: -2.0 must be > 0"),
        ({"gross": float("nan")}, "gross: nan is not a finite number"),
        ({"lot": 0}, "lot: 0 must be >= 1"),
        ({"lot": -100}, "lot: -100 must be >= 1"),
        ({"lot": 2.5}, "lot: 2.5 must be a whole number"),
        ({"max_weight": 0.0}, "max_weight: 0.0 must be > 0"),
        ({"tc_bps": -5.0}, "tc_bps: -5.0 must be >= 0"),
        ({"turnover": -0.1}, "turnover: -0.1 must be >= 0"),
        ({"impact": -1.0}, "impact: -1.0 must be >= 0"),
        ({"return_target": 12.0}, "return_target: 12.0 must be <= 5"),
        ({"equity": 0.0}, "equity: 0.0 must be > 0"),
        ({"beta_band": "-0.1"}, "beta_band '-0.1': a half-width must be >= 0"),
        ({"net": "-0.05"}, "net '-0.05': a half-width must be >= 0"),
        ({"net": "abc"}, "net 'abc': give a half-width"),
        ({"net": "0.2:0.1"}, "lower <= upper"),
        ({"problem": "best"}, "problem 'best' is not one of minvar, meanvar, maxret"),
        ({"cov": "garch"}, "cov 'garch' is not one of sample, lw, ewma, factor or csv:PATH"),
        ({"cov": "csv:x.csv", "cov_units": "weekly"}, "cov_units 'weekly'"),
        ({"cov": "lw", "cov_units": "annual"}, "cov_units applies to a covariance you give"),
        ({"gammas": [1.0, 2.0], "problem": "minvar"}, "frontier: a sweep of gamma needs problem meanvar"),
        ({"gammas": [1.0, 0.0]}, "gammas: 0.0 must be > 0"),
        ({"universe": ["AAPL", "AAPL"]}, "universe lists a ticker twice"),
        ({"mu": "capm"}, "mu 'capm' is not one of zero, hist"),
        ({"funding_model": "repo", "rate": 0.04}, "funding_model 'repo' is not one of cash, netted, swap, seed"),
    ],
)
def test_refused_before_any_data(no_data, kwargs, needle):
    args = {"universe": NAMES, **kwargs}
    with pytest.raises(InputError) as caught:
        optimize_portfolio(**args)
    assert needle in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("rate", [4.3, 43.0, -0.2])
def test_a_percent_looking_rate_is_refused_like_funding_does(rate):
    # The data layer's flat-rate check (the one `load_rates("flat:R")` applies for funding).
    with pytest.raises(InputError, match=rf"^rate {rate} is outside the plausible range"):
        optimize_portfolio(universe=NAMES, rate=rate)


def test_files_that_are_not_utf8_or_list_a_ticker_twice(tmp_path):
    latin = tmp_path / "alphas.csv"
    latin.write_bytes("ticker,alpha\nAAPL,0.05\nNESTL\xc9,0.02\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 28 is 0xc9\)"):  # 12+1+9+1+5 bytes before É
        optimize_portfolio(universe=NAMES, alphas_file=latin)
    twice = tmp_path / "groups.csv"
    twice.write_text("ticker,group\nAAPL,tech\nMSFT,tech\nAAPL,fin\n")
    twice_message = r"groups.csv.: 1 ticker\(s\) appear more than once \(AAPL; first repeat on line 4\)"
    with pytest.raises(InputError, match=twice_message):
        optimize_portfolio(universe=NAMES, groups_file=twice)
    many = tmp_path / "locates.csv"
    many.write_text("ticker,shares\n" + "".join(f"Z{i:05d},10\n" for i in range(5000)))
    with pytest.raises(InputError, match=r"and 4,992 more") as caught:  # the listing is capped
        optimize_portfolio(universe=NAMES, locates_file=many)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize(
    ("matrix", "needle"),
    [
        ("A,AAPL,MSFT\nAAPL,1e-4,2e-5\nMSFT,3e-5,2e-4\n", "not symmetric"),
        ("A,AAPL,MSFT\nAAPL,1e-4,2e-4\nMSFT,2e-4,1e-4\n", "not positive semi-definite"),
        ("A,AAPL,MSFT\nAAPL,1e-4,x\nMSFT,2e-5,2e-4\n", "row AAPL, column MSFT is not a number"),
        ("A,AAPL,JPM\nAAPL,1e-4,2e-5\nJPM,2e-5,2e-4\n", "rows and columns|no value for MSFT"),
    ],
)
def test_covariance_files_are_validated(tmp_path, matrix, needle):
    path = tmp_path / "cov.csv"
    path.write_text(matrix.replace("A,", ",", 1))
    with pytest.raises(InputError, match=needle):
        optimize_portfolio(universe=["AAPL", "MSFT"], cov=f"csv:{path}", problem="minvar")


def test_infeasible_limits_name_the_conflicting_groups():
    with pytest.raises(Infeasible, match=r"'net band'.*'position bounds'") as caught:
        optimize_portfolio(universe=NAMES, net="0.5:0.6", max_weight=0.05, mu="zero")
    assert caught.value.exit_code == 4
    # a return floor out of reach for a long-only book capped at 40 % a name
    with pytest.raises(Infeasible, match=r"'return target'"):
        optimize_portfolio(universe=NAMES, problem="minvar", long_only=True, max_weight=0.4,
                           mu={t: 0.01 * (i + 1) for i, t in enumerate(NAMES)}, return_target=0.2)  # fmt: skip


def test_long_only_with_a_band_the_gross_limit_cannot_reach():
    # gross 0.5 with an explicit net band needing 80 %: one clear error, before solving
    with pytest.raises(InputError, match=r"gross 0.5 is below the net exposure the net band requires \(0.8\)"):
        optimize_portfolio(universe=NAMES, long_only=True, gross=0.5, net="0.8:1", mu="zero")
    assert np.isfinite(optimize_portfolio(universe=NAMES, long_only=True, gross=0.5, problem="minvar").result.gross)


def test_every_parameter_has_a_flag_for_the_cli_to_name():
    # Messages name parameters; the CLI names a parameter by the flag of its option of the same name, so
    # every parameter of the workflow is an option of `astra optimize` (the positional tickers join universe).
    from typer.main import get_command

    from astra.cli import app

    command = get_command(app).commands["optimize"]
    options = {p.name: p.opts for p in command.params if p.opts[0].startswith("--")}
    assert set(inspect.signature(optimize_portfolio).parameters) <= set(options)
    assert options["gammas"] == ["--frontier"] and options["funding_model"] == ["--model"]
