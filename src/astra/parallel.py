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
import socket
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from astra.errors import AstraError, DataUnavailable, InputError

__all__ = ["Runner", "pair_blocks", "runner", "safely", "scenario_chunks"]

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
    """A :class:`Runner`: ``None`` in-process, ``"local"`` a loopback LocalCluster, an address, or a Client.

    Parameters
    ----------
    cluster
        ``None`` (run here), ``"local"`` (a :class:`~distributed.LocalCluster` of
        ``workers`` processes on 127.0.0.1, every port chosen by the OS), a scheduler
        address (``tcp://host:8786``), or a ready :class:`~distributed.Client`.
    timeout
        Seconds to reach a scheduler *and* complete its handshake. An address that
        accepts TCP but does not answer like a Dask scheduler (a web server, a
        silent port) fails within this bound.
    workers
        Worker processes of a ``"local"`` cluster (≥ 1).

    Raises
    ------
    InputError
        ``cluster`` is not ``local`` or a ``tcp://``/``tls://``/``inproc://`` address;
        ``timeout`` or ``workers`` out of range.
    DataUnavailable
        The scheduler cannot be reached, or does not answer as a Dask scheduler, in time.
    """
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
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 3600:
        raise InputError(f"timeout {timeout!r}: give seconds between 0 and 3600")
    if cluster == "local":
        if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 256:
            raise InputError(f"workers {workers!r}: give a whole number of worker processes from 1 to 256")
        # The scheduler starts an HTTP server even without a dashboard, on 8787 by default: a busy 8787 then
        # means a warning and another port. Ask the OS for a free loopback port instead.
        options = {"n_workers": workers, "threads_per_worker": 1, "processes": True, "host": "127.0.0.1",
                   "dashboard_address": None, "scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"}}  # fmt: skip
        with _quiet_dask(), LocalCluster(**options) as local, Client(local) as client:
            yield Runner(client)
        return
    if not cluster.startswith(("tcp://", "tls://", "inproc://")):
        raise InputError(f"--cluster {cluster!r}: use local or a scheduler address such as tcp://host:8786")
    start = time.monotonic()
    if cluster.startswith("tcp://"):
        _probe_scheduler(cluster, timeout)
    left = max(0.5, timeout - (time.monotonic() - start))
    try:
        client = Client(cluster, timeout=left)
    except (OSError, TimeoutError) as exc:
        raise DataUnavailable(f"cannot reach the Dask scheduler at {cluster} within {timeout:g} s ({exc})") from exc
    try:
        yield Runner(client)
    finally:
        client.close()


_MAX_HANDSHAKE_BYTES = 1 << 20


def _probe_scheduler(address: str, timeout: float) -> None:
    """Connect to ``tcp://host:port`` and read the scheduler's handshake, all within ``timeout`` seconds.

    A Dask server speaks first: on accept it sends one framed message (an 8-byte
    length, then msgpack frames) describing itself. ``distributed.Client`` waits for
    it with no time limit, and reads the first 8 bytes of any other reply as a
    length to allocate (a web server's "HTTP/1.1" is 3.5·10¹⁸ bytes). Reading it
    here first, with a deadline and a size limit, turns both into a clear error.
    """
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        host, port = parse_host_port(parse_address(address)[1], 8786)
    except ValueError as exc:
        raise InputError(f"--cluster {address!r}: not a scheduler address such as tcp://host:8786") from exc
    deadline = time.monotonic() + timeout
    not_dask = f"{address} answered, but not as a Dask scheduler (is the port right?)"
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise DataUnavailable(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({exc.strerror or exc})"
        ) from exc
    with sock:
        try:
            (size,) = struct.unpack("Q", _receive(sock, 8, deadline))
            if not 0 < size <= _MAX_HANDSHAKE_BYTES:
                raise DataUnavailable(not_dask)
            payload = _receive(sock, size, deadline)
        except TimeoutError:
            raise DataUnavailable(
                f"{address} accepted the connection but sent no Dask handshake within {timeout:g} s "
                "(is it a Dask scheduler? is the port right?)"
            ) from None
        except ConnectionError:
            raise DataUnavailable(f"{address} closed the connection before the Dask handshake") from None
    try:
        from distributed.protocol.core import loads
        from distributed.protocol.utils import unpack_frames

        info = loads(unpack_frames(payload), deserialize=False)
    except Exception:  # anything that does not decode is not a scheduler's handshake
        raise DataUnavailable(not_dask) from None
    if not isinstance(info, dict) or "python" not in info:
        raise DataUnavailable(not_dask)


def _receive(sock: socket.socket, count: int, deadline: float) -> bytes:
    """Exactly ``count`` bytes before ``deadline`` (TimeoutError), or ConnectionError if the peer closes."""
    chunks, received = [], 0
    while received < count:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        try:
            chunk = sock.recv(min(count - received, 1 << 16))
        except TimeoutError:
            raise
        except OSError as exc:
            raise ConnectionError(str(exc)) from exc
        if not chunk:
            raise ConnectionError("closed")
        chunks.append(chunk)
        received += len(chunk)
    return b"".join(chunks)


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


def pair_blocks(n_names: int, size: int) -> list[np.ndarray]:
    """All pairs ``(i, j)``, ``i < j`` of ``n_names`` names, in scan order, as (m, 2) blocks of ``size`` pairs."""
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise InputError(f"block {size!r}: give the pairs per task as a whole number ≥ 1")
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
