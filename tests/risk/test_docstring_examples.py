"""The worked examples in the risk modules' docstrings (the modules tests/test_doctests.py does not list)."""

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "name", ["astra.risk.covariance", "astra.risk.models", "astra.risk.engine", "astra.risk.tails"]
)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
