"""Run the worked examples in public docstrings (they are references too)."""

import doctest
import importlib

import pytest

MODULES = [
    "astra.data",
    "astra.data.calendar",
    "astra.data.clean",
    "astra.data.rates",
    "astra.data.providers.sample",
    "astra.data.providers.synthetic",
    "astra.book",
    "astra.funding.daycount",
    "astra.funding.model",
    "astra.funding.margin",
    "astra.optimize.estimators",
    "astra.optimize.solve",
    "astra.risk.scenarios",
    "astra.risk.var",
    "astra.risk.attribution",
    "astra.risk.backtest",
    "astra.risk.stress",
    "astra.statarb.scan",
    "astra.statarb.signals",
    "astra.statarb.metrics",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
