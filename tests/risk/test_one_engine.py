"""One Monte-Carlo engine: the same seed gives the same VaR/ES bit for bit in process, with threads and on Dask.

The cluster is a 2-worker LocalCluster on 127.0.0.1 with every port chosen by the OS (scheduler port 0,
its HTTP server on 127.0.0.1:0, no dashboard), so the test runs with port 8787 taken.
"""

import numpy as np
import pytest

from astra.errors import InputError
from astra.parallel import Runner, scenario_chunks
from astra.risk import models, montecarlo, normal_model, simulate_pnl, tail_statistics, var
from astra.workflows.scale import mc_var_chunked


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    options = {"n_workers": 2, "threads_per_worker": 1, "processes": True, "host": "127.0.0.1", "scheduler_port": 0,
               "dashboard_address": None, "scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"},
               "worker_dashboard_address": None}  # fmt: skip
    with LocalCluster(**options) as local, Client(local) as client:
        yield Runner(client)


@pytest.fixture(scope="module")
def book():
    rng = np.random.default_rng(3)
    r = rng.normal(0, 0.01, (800, 4)) @ (np.eye(4) + 0.2)
    return r, np.array([2e5, -1e5, 1.5e5, -5e4])


@pytest.fixture
def small_chunks(monkeypatch):
    # 1,000-scenario chunks (the chunk size is fixed on the client and shipped with the job)
    monkeypatch.setattr(models, "CHUNK_BUDGET_BYTES", 1)


@pytest.mark.parametrize(
    "options",
    [
        {"horizon": 10},  # the pilot picks importance sampling, antithetic pairs and the control variate
        {"horizon": 5, "dist": "t", "dof": 5.0},
        {"horizon": 3, "dist": "bootstrap", "block_length": 2.0},
        {"horizon": 10, "target_se": 0.0004},
    ],
)
def test_same_numbers_in_process_with_threads_and_on_dask(cluster, book, small_chunks, options):
    r, e = book
    common = {"method": "mc", "scenarios": 24_000, "seed": 11, "components": False, **options}
    one = var(e, r, workers=1, **common)
    two = var(e, r, workers=2, **common)
    local = var(e, r, runner=Runner(None), **common)
    remote = var(e, r, runner=cluster, chunk=5_000, **common)
    assert one.params["chunks"] >= 5 and remote.params["workers"] == 2
    for other in (two, local, remote):
        assert (other.var, other.es) == (one.var, one.es)
        assert other.mc_std_error == one.mc_std_error and other.scenarios == one.scenarios
        assert other.variance_reduction == one.variance_reduction


def test_chunked_workflow_is_the_engine(cluster, book, small_chunks):
    r, e = book
    reference = var(e, r, method="mc", horizon=10, scenarios=30_000, seed=5, components=False)
    remote = mc_var_chunked(e, r, cluster, scenarios=30_000, horizon=10, seed=5, chunk=4_000)
    assert (remote.var, remote.es) == (reference.var, reference.es)
    assert remote.chunks == 30 and remote.tasks == 8 and remote.workers == 2
    out = remote.to_dict()
    assert out["variance_reduction"]["method"] == reference.variance_reduction["method"]
    assert isinstance(out["ci95"]["var"], list)


def test_plain_streams_are_the_spawned_children(book, small_chunks):
    # reference: each chunk drawn alone by the model from SFC64 on parallel.scenario_chunks' seed sequence,
    # concatenated, and priced with numpy's inverted-CDF quantile; the engine's plain run finds the same VaR
    r, e = book
    model = normal_model(r)
    terms = model.linear_terms(e, 3)
    size = model.chunk_size(3, False)
    pnl = np.concatenate([model.simulate(np.random.Generator(np.random.SFC64(s)), n, 3, terms).pnl.copy()
                          for n, s in scenario_chunks(20_000, size, 9)])  # fmt: skip
    assert pnl.size == 20_000
    np.testing.assert_array_equal(pnl, simulate_pnl(model, e, 20_000, horizon=3, seed=9))
    res = var(e, r, method="mc", horizon=3, scenarios=20_000, seed=9, variance_reduction="none", components=False)
    assert res.var == pytest.approx(-np.quantile(pnl, 0.01, method="inverted_cdf"), rel=1e-12)
    assert res.es == pytest.approx(tail_statistics(pnl, 0.99)["es"], rel=1e-12)


def test_memory_is_estimated_before_anything_runs(book, monkeypatch):
    r, e = book
    with pytest.raises(InputError, match=r"beyond its limit of 100,000,000 .*--cluster"):
        var(e, r, method="mc", scenarios=10**9)
    monkeypatch.setattr(montecarlo, "memory_budget", lambda: 64 * 2**20)  # a machine with 64 MiB to spare
    with pytest.raises(InputError, match=r"would need about .* GiB .* no Euler components .* fewer scenarios"):
        var(e, r, method="mc", scenarios=50_000_000)
    remote = type("Remote", (Runner,), {"distributed": True, "workers": 2})(None)  # refused before it is used
    with pytest.raises(InputError, match=r"scenarios=10,000,000,000 would need about .* fewer scenarios$"):
        var(e, r, method="mc", scenarios=10**10, runner=remote)


@pytest.mark.parametrize("seed", [-1, 1.5, "7", True])
def test_bad_seed_is_input_error(book, seed):
    r, e = book
    with pytest.raises(InputError, match="seed"):
        var(e, r, method="mc", scenarios=2_000, seed=seed)


def test_negative_seed_on_the_chunk_streams_too():
    with pytest.raises(InputError, match="seed -1"):
        scenario_chunks(1_000, 100, -1)
