"""The worked examples in the docstrings of the reliability helpers (they are references too)."""

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["astra.errors", "astra._io", "astra.data.tables", "astra.data.store"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
