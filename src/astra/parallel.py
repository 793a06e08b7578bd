"""Run the same workflows in-process or on ``dask.distributed`` — no home-made distribution.

:func:`runner` gives a :class:`Runner` whose :meth:`~Runner.map` runs a function over items:
in this process by default, on a Dask cluster when one is named (``"local"`` starts a
:class:`~distributed.LocalCluster` on loopback; ``"tcp://host:8786"`` connects to a
scheduler). Dask retries a task whose worker dies, so a lost worker slows a job down but
does not change its result. Partitioning helpers split books, pairs and scenarios into
blocks whose results are identical whichever way they run.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from astra.errors import AstraError, DataUnavailable, InputError

__all__ = ["Runner", "blocks", "pair_blocks", "runner", "safely", "scenario_chunks"]

RETRIES = 3


@dataclass
class Runner:
    """Maps a function over items here or on a Dask client; results come back in order."""

    client: Any = None

    @property
    def distributed(self) -> bool:
        return self.client is not None

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], **shared) -> list[Any]:
        """``[fn(item, **shared) for item in items]``, on the cluster when there is one.

        ``shared`` values (large arrays) are scattered to every worker once.
        """
        if self.client is None:
            return [fn(item, **shared) for item in items]
        scattered = {k: self.client.scatter(v, broadcast=True) for k, v in shared.items()}
        futures = self.client.map(fn, list(items), pure=False, retries=RETRIES, **scattered)
        return self.client.gather(futures)

    @property
    def workers(self) -> int:
        if self.client is None:
            return 1
        return max(1, len(self.client.scheduler_info().get("workers", {})))


@contextlib.contextmanager
def runner(cluster: Any = None, *, timeout: float = 10.0, workers: int = 2) -> Iterator[Runner]:
    """A :class:`Runner`: ``None`` in-process, ``"local"`` a loopback LocalCluster, an address, or a Client."""
    if cluster is None:
        yield Runner(None)
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - dask is a pinned dependency
        raise DataUnavailable("dask.distributed is not installed") from exc
    if not isinstance(cluster, str):
        yield Runner(cluster)
        return
    if cluster == "local":
        options = {"n_workers": int(workers), "threads_per_worker": 1, "processes": True, "host": "127.0.0.1",
                   "dashboard_address": None}  # fmt: skip
        with _quiet_dask(), LocalCluster(**options) as local, Client(local) as client:
            yield Runner(client)
        return
    if not cluster.startswith(("tcp://", "tls://", "inproc://")):
        raise InputError(f"--cluster {cluster!r}: use local or a scheduler address such as tcp://host:8786")
    try:
        client = Client(cluster, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise DataUnavailable(f"cannot reach the Dask scheduler at {cluster} within {timeout:g} s ({exc})") from exc
    try:
        yield Runner(client)
    finally:
        client.close()


@contextlib.contextmanager
def _quiet_dask():
    """Dask logs worker start/stop at INFO; keep the CLI's stderr for ASTRA's own messages."""
    names = ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker")
    previous = {n: logging.getLogger(n).level for n in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)


def safely(fn: Callable[..., Any]) -> Callable[..., dict]:
    """Wrap ``fn`` so an :class:`AstraError` becomes ``{"status": "failed", "error": …}`` for that item only."""

    def wrapped(item, **shared) -> dict:
        try:
            return {"status": "ok", "value": fn(item, **shared)}
        except AstraError as exc:
            return {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}

    wrapped.__name__ = getattr(fn, "__name__", "task")
    return wrapped


def blocks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """Consecutive blocks of at most ``size`` items."""
    if size < 1:
        raise InputError(f"block size {size!r} must be ≥ 1")
    return [items[i : i + size] for i in range(0, len(items), size)]


def pair_blocks(n_names: int, size: int) -> list[np.ndarray]:
    """All pairs ``(i, j)``, ``i < j`` of ``n_names`` names, in scan order, as (m, 2) blocks."""
    first, second = np.triu_indices(n_names, k=1)
    pairs = np.column_stack([first, second]).astype(np.int64)
    return [pairs[i : i + size] for i in range(0, len(pairs), size)]


def scenario_chunks(scenarios: int, chunk: int, seed) -> list[tuple[int, np.random.SeedSequence]]:
    """``(size, seed sequence)`` per chunk of ``chunk`` scenarios: the Monte-Carlo engine's streams.

    Chunk ``j`` gets the ``j``-th spawned child of ``SeedSequence(seed)``
    (:func:`astra.risk.engine.chunk_seed`), the stream the engine's chunk ``j`` draws from.
    """
    from astra.risk.engine import chunk_seed, root_seed

    if scenarios < 1 or chunk < 1:
        raise InputError("scenarios and chunk size must be ≥ 1")
    count = math.ceil(scenarios / chunk)
    root = root_seed(seed)
    children = [chunk_seed(root, j) for j in range(count)]
    sizes = [chunk] * (count - 1) + [scenarios - chunk * (count - 1)]
    return list(zip(sizes, children, strict=True))


def flatten(parts: Iterable[Sequence[Any]]) -> list[Any]:
    return [x for part in parts for x in part]
