"""Run the worked examples in every public docstring of the package (they are references too).

Modules are discovered, not listed, so a new module's examples cannot be forgotten; the
dashboard's pages are Streamlit scripts (importing one runs it) and are left out.
"""

import doctest
import importlib
import pkgutil

import pytest

import astra

SKIP = ("astra.dashboard", "astra.cli.__main__")


def modules_with_examples() -> list[str]:
    names = []
    finder = doctest.DocTestFinder()
    for info in pkgutil.walk_packages(astra.__path__, prefix="astra."):
        if info.name.startswith(SKIP):
            continue
        module = importlib.import_module(info.name)
        if any(test.examples for test in finder.find(module)):
            names.append(info.name)
    return names


MODULES = modules_with_examples()


def test_the_discovery_finds_the_known_references():
    assert {"astra.funding.model", "astra.funding.margin", "astra.risk.var", "astra.format"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
