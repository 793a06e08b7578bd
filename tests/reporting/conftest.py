"""One demo run shared by the report, export and browser tests (it takes a few seconds)."""

import pytest

from astra.workflows import run_demo


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """``(out_dir, DemoResult)`` of the whole pipeline on the offline sample."""
    out = tmp_path_factory.mktemp("report")
    return out, run_demo(out)
