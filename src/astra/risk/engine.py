"""The Monte-Carlo engine: one chunk function, seeded streams, threads here or tasks on Dask.

Streams: chunk ``j`` of a run draws from ``SFC64(SeedSequence(seed).spawn(…)[j])`` — the
``j``-th spawned child of the seed, built directly from its spawn key so that any chunk
can be drawn alone — and chunk sizes depend only on the model, the number of names, the
horizon and the pairing, never on threads or workers. Pilot runs use children far
beyond any chunk index.

Execution: :func:`run_chunk` simulates one chunk and reduces it to a
:class:`~astra.risk.tails.Summary`. In process, threads evaluate chunks (NumPy releases the
GIL; BLAS is held to one thread); on a cluster, each task evaluates a run of consecutive
chunks with the same function and returns their summaries. Either way the summaries are
added into the total one by one in chunk order, so a seed gives the same VaR and ES bit for
bit in process, with threads and on Dask.
"""

from __future__ import annotations

import os
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from astra.errors import InputError
from astra.risk._checks import as_exposures, check_horizon, check_seed
from astra.risk.models import LinearTerms, ScenarioModel, free_scratch
from astra.risk.tails import Summary, TailPlan, summarise

__all__ = [
    "McJob",
    "chunk_generator",
    "chunk_seed",
    "default_workers",
    "execute",
    "iter_pnl_chunks",
    "root_seed",
    "run_chunk",
    "run_task",
    "sample_returns",
    "simulate_pnl",
]

PILOT_KEY = 2**63  # spawn keys of pilot streams start here, far beyond any chunk index


def default_workers() -> int:
    """Threads for scenario chunks: the CPUs this process may use (``ASTRA_THREADS`` overrides)."""
    env = os.environ.get("ASTRA_THREADS")
    if env:
        if not env.isdigit() or int(env) < 1:
            raise InputError(f"ASTRA_THREADS={env!r} must be a positive integer")
        return int(env)
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def root_seed(seed) -> np.random.SeedSequence:
    """The run's root ``SeedSequence`` from an int, None, a ``SeedSequence`` or a ``Generator``."""
    seed = check_seed(seed)
    if isinstance(seed, np.random.Generator):
        return seed.bit_generator.seed_seq
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(seed)


def chunk_seed(root: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """The ``index``-th child of ``root``: what ``root.spawn(index + 1)[index]`` gives a fresh root."""
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, int(index)), pool_size=root.pool_size)


def chunk_generator(root: np.random.SeedSequence, index: int) -> np.random.Generator:
    """SFC64 (≈ 20 % faster normals than PCG64) on the ``index``-th child of ``root``."""
    return np.random.Generator(np.random.SFC64(chunk_seed(root, index)))


def chunk_sizes(scenarios: int, size: int) -> list[int]:
    """Sizes of the chunks of a ``scenarios`` run: full chunks of ``size``, then the remainder."""
    count = -(-int(scenarios) // size)
    return [size] * (count - 1) + [int(scenarios) - size * (count - 1)]


def run_chunks(fn: Callable, items: list, workers: int | None) -> Iterator:
    """``fn(item)`` over ``items``, in order; up to ``workers`` at once (at most ``workers + 1`` in flight)."""
    from threadpoolctl import threadpool_limits

    workers = default_workers() if workers is None else int(workers)
    with threadpool_limits(1, user_api="blas"):  # one BLAS thread everywhere: the same sums in every mode
        if workers <= 1 or len(items) == 1:
            try:
                for item in items:
                    yield fn(item)
            finally:
                free_scratch()  # this thread outlives the run
            return
        with ThreadPoolExecutor(workers) as pool:
            pending: deque = deque()
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()


# --------------------------------------------------------------------------- one job, many chunks
@dataclass(frozen=True, eq=False)
class McJob:
    """Everything a chunk needs (shipped once to every Dask worker): model, book, streams, tail plan."""

    model: ScenarioModel
    terms: LinearTerms
    horizon: int
    root: np.random.SeedSequence
    plan: TailPlan
    chunk_size: int
    key: int = 0  # offset of this job's chunk indices in the seed's children

    def __dask_tokenize__(self) -> str:
        # a fresh name for every shipment: Dask names scattered data by content, and scattering the same job
        # again while the previous copy is being released loses it ("lost dependencies")
        return uuid.uuid4().hex

    def draw(self, index: int, size: int):
        rng = chunk_generator(self.root, self.key + index)
        return self.model.simulate(rng, size, self.horizon, self.terms, self.plan.theta, self.plan.antithetic)


def run_chunk(job: McJob, index: int, size: int) -> Summary:
    """Simulate chunk ``index`` of ``job`` and reduce it to its tail summary."""
    return summarise(job.draw(index, size), job.plan)


def run_task(task: list[tuple[int, int]], *, job: McJob) -> list[Summary]:
    """A cluster task: the summaries of consecutive chunks ``(index, size)``."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        out = [run_chunk(job, index, size) for index, size in task]
    free_scratch()
    return out


def tasks_of(chunks: list[tuple[int, int]], chunk_size: int, task_scenarios: int | None) -> list[list[tuple[int, int]]]:
    """Consecutive chunks grouped into cluster tasks of about ``task_scenarios`` scenarios."""
    per_task = max(1, round((task_scenarios or 0) / chunk_size))
    return [chunks[i : i + per_task] for i in range(0, len(chunks), per_task)]


def execute(job: McJob, chunks: list[tuple[int, int]], total: Summary, *, workers: int | None = None, runner=None,
            task_scenarios: int | None = None) -> Summary:  # fmt: skip
    """Add the summaries of ``chunks`` to ``total`` in chunk order, computed by threads or on a cluster runner."""
    if runner is not None and getattr(runner, "distributed", True):
        tasks = tasks_of(chunks, job.chunk_size, task_scenarios)
        wave = max(1, 4 * int(getattr(runner, "workers", 1)))  # bounded results in flight on the client
        for start in range(0, len(tasks), wave):
            for summaries in runner.map(run_task, tasks[start : start + wave], job=job):
                for summary in summaries:
                    total.add(summary)
        return total
    for summary in run_chunks(lambda item: run_chunk(job, *item), chunks, workers):
        total.add(summary)
    return total


# --------------------------------------------------------------------------- plain sampling utilities
def _plain_plan(model: ScenarioModel, exposures, scenarios, horizon, seed, chunk_size, antithetic):
    e = as_exposures(exposures)
    if e.size != model.n_names:
        raise InputError(f"exposures have {e.size} names but the scenario model has {model.n_names}")
    if isinstance(scenarios, bool) or int(scenarios) != scenarios or scenarios < 1:
        raise InputError(f"scenarios {scenarios!r} must be a positive integer")
    if antithetic and (scenarios % 2 or not model.gaussian):
        raise InputError("antithetic variates need a normal or t model and an even number of scenarios, "
                         f"got {type(model).__name__} and {scenarios}")  # fmt: skip
    horizon = check_horizon(horizon)
    if model.one_draw and horizon != 1:
        raise InputError("a lognormal model already spans its horizon: simulate it with horizon=1")
    terms = model.linear_terms(e, horizon) or LinearTerms(0.0, 0.0, np.zeros(0), e, horizon)
    size = int(chunk_size or model.chunk_size(horizon, antithetic))
    size += size % 2 if antithetic else 0
    plan = TailPlan(level=0.99, antithetic=bool(antithetic))
    job = McJob(model, terms, horizon, root_seed(seed), plan, size)
    return job, list(enumerate(chunk_sizes(int(scenarios), size)))


def iter_pnl_chunks(model: ScenarioModel, exposures, scenarios: int, *, horizon: int = 1, seed=None,
                    chunk_size: int | None = None, antithetic: bool = False,
                    workers: int | None = None) -> Iterator[np.ndarray]:  # fmt: skip
    """Yield plain-sampled portfolio P&L (USD) chunk by chunk, the engine's own streams and chunks.

    Memory is one chunk per thread (``≈ 16 MiB`` each). With ``antithetic`` each chunk's
    second half mirrors its first (pair ``j``, ``j + size/2``). ``workers`` threads
    (default :func:`default_workers`) evaluate chunks; the numbers do not depend on it.
    """
    job, chunks = _plain_plan(model, exposures, scenarios, horizon, seed, chunk_size, antithetic)
    yield from run_chunks(lambda item: job.draw(*item).pnl, chunks, workers)


def simulate_pnl(model: ScenarioModel, exposures, scenarios: int, **options) -> np.ndarray:
    """All ``S`` portfolio P&L values (USD, shape ``(S,)``), generated chunk by chunk.

    ``options`` are those of :func:`iter_pnl_chunks` (``horizon``, ``seed``, ``chunk_size``,
    ``antithetic``, ``workers``).

    Examples
    --------
    >>> from astra.risk.models import normal_model
    >>> m = normal_model(np.random.default_rng(0).normal(0, 0.01, (250, 2)))
    >>> simulate_pnl(m, [1e6, 1e6], 4_000, seed=1).shape
    (4000,)
    """
    return np.concatenate(list(iter_pnl_chunks(model, exposures, scenarios, **options)))


def sample_returns(model: ScenarioModel, scenarios: int, *, horizon: int = 1, seed=None,
                   chunk_size: int | None = None, antithetic: bool = False) -> np.ndarray:  # fmt: skip
    """Draw ``(S, N)`` scenario horizon returns (compounded), the same scenarios as :func:`simulate_pnl`.

    This materialises the full matrix; for large ``S × N`` use :func:`iter_pnl_chunks`.

    Examples
    --------
    >>> from astra.risk.models import normal_model
    >>> m = normal_model(np.random.default_rng(0).normal(0, 0.01, (250, 3)))
    >>> sample_returns(m, 5, seed=1).shape
    (5, 3)
    """
    job, chunks = _plain_plan(model, np.ones(model.n_names), scenarios, horizon, seed, chunk_size, antithetic)
    return np.vstack(list(run_chunks(lambda item: job.draw(*item).returns(np.arange(item[1])), chunks, 1)))


def grow_chunks(done: list[tuple[int, int]], scenarios: int, size: int) -> list[tuple[int, int]]:
    """The chunks that take a run of full chunks ``done`` to ``scenarios`` (the last one partial if need be)."""
    have = sum(n for _, n in done)
    sizes = chunk_sizes(scenarios - have, size) if scenarios > have else []
    return [(len(done) + j, n) for j, n in enumerate(sizes)]
