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
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
