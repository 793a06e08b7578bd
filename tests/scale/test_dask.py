"""Scale-out on dask.distributed (a 2-worker LocalCluster on loopback): same results as in-process."""

import contextlib
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from astra.cli import app
from astra.data import load_prices, returns
from astra.errors import DataUnavailable, InputError
from astra.parallel import pair_blocks, runner, scenario_chunks
from astra.statarb import scan
from astra.workflows.scale import funding_many, mc_var_chunked, scan_blocks

EXAMPLE = Path(__file__).parents[2] / "examples" / "book.toml"
cli = CliRunner()


@contextlib.contextmanager
def _occupy(port: int):
    """Hold ``127.0.0.1:port`` (if nobody else does already: busy either way, which is the point)."""
    sock = socket.socket()
    try:
        with contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port))
            sock.listen(1)
        yield
    finally:
        sock.close()


@pytest.fixture(scope="module")
def cluster():
    # Dask's scheduler used to start its HTTP server on 8787 even with dashboard_address=None; a busy
    # 8787 then gave a warning (an error in this suite) and the cluster failed to start. Keep it busy.
    with _occupy(8787), runner("local", workers=2) as run:
        yield run


def _free_port() -> int:
    """A loopback port nobody listens on (bound to port 0, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _server(kind: str):
    """A loopback server on port 0 that is not a Dask scheduler: silent, HTTP, or greeting with garbage."""
    if kind == "http":

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"<html>" * 10_000)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.server_address[1]
        finally:
            server.shutdown()
            server.server_close()
        return
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)
            if kind == "greeting":
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        for conn in held:
            conn.close()


@pytest.fixture(scope="module")
def prices():
    return load_prices(None, "sample", start="2018-01-01").prices


@pytest.fixture(scope="module")
def history():
    rets = returns(load_prices(["AAPL", "MSFT", "JPM", "XOM"], "sample", start="2018-01-01").prices).dropna()
    return np.array([2e5, -1e5, 1.5e5, -5e4]), rets


def test_block_scan_equals_the_single_scan_in_process_and_on_dask(cluster, prices):
    reference = scan(prices).table
    with runner(None) as here:
        pd.testing.assert_frame_equal(scan_blocks(prices, here, block=23).table, reference)
    distributed = scan_blocks(prices, cluster, block=23)
    pd.testing.assert_frame_equal(distributed.table, reference)
    assert distributed.tested == 190 and cluster.workers == 2


def test_chunked_monte_carlo_identical_here_and_on_dask(cluster, history):
    exposures, rets = history
    with runner(None) as here:
        local = mc_var_chunked(exposures, rets, here, scenarios=400_000, chunk=90_000, seed=11)
    remote = mc_var_chunked(exposures, rets, cluster, scenarios=400_000, chunk=90_000, seed=11)
    assert (local.var, local.es) == (remote.var, remote.es) and local.chunks == 5


def test_chunked_monte_carlo_merge_is_exact(history):
    # Independent reference: each engine chunk drawn alone by the model from SFC64 on the chunk's spawned
    # seed sequence (parallel.scenario_chunks), concatenated; the quantile and tail mean taken directly.
    from astra.risk.scenarios import normal_model

    exposures, rets = history
    model = normal_model(rets)
    terms = model.linear_terms(exposures, 1)
    pnl = np.concatenate([model.simulate(np.random.Generator(np.random.SFC64(seed)), size, 1, terms).pnl.copy()
                          for size, seed in scenario_chunks(200_000, model.chunk_size(1, False), 5)])  # fmt: skip
    k = int(np.ceil(200_000 * 0.01))
    losses = np.sort(-pnl)[::-1]
    with runner(None) as here:
        merged = mc_var_chunked(exposures, rets, here, scenarios=200_000, chunk=30_000, seed=5,
                                variance_reduction="none")  # fmt: skip
    assert merged.var == losses[k - 1] and merged.es == pytest.approx(losses[:k].mean(), rel=1e-14)
    # and it agrees with the one-shot engine's convention (inverted-CDF quantile)
    assert merged.var == -np.quantile(pnl, 0.01, method="inverted_cdf")


def test_a_killed_worker_does_not_change_the_result(cluster, history):
    exposures, rets = history
    with runner(None) as here:
        expected = mc_var_chunked(exposures, rets, here, scenarios=3_000_000, chunk=100_000, seed=2)
    victim = next(iter(cluster.client.scheduler_info()["workers"]))

    def kill():
        # wait until the victim is busy with our chunks, then kill its process outright
        deadline = time.time() + 30
        while time.time() < deadline and not cluster.client.processing(workers=[victim]).get(victim):
            time.sleep(0.01)
        with contextlib.suppress(Exception):  # the worker dies while answering; that is the point
            cluster.client.run(os._exit, 1, workers=[victim])

    killer = threading.Thread(target=kill)
    killer.start()
    result = mc_var_chunked(exposures, rets, cluster, scenarios=3_000_000, chunk=100_000, seed=2)
    killer.join()
    assert (result.var, result.es) == (expected.var, expected.es)
    assert victim not in cluster.client.scheduler_info()["workers"]  # it really died (the nanny started a new one)


def test_many_books_with_a_malformed_one(cluster, tmp_path):
    paths = []
    for i, group in enumerate(["macro", "macro", "hedge"]):
        text = EXAMPLE.read_text().replace('name = "sample-client"', f'name = "client-{i}"\ngroup = "{group}"')
        path = tmp_path / f"b{i}.toml"
        path.write_text(text)
        paths.append(path)
    bad = tmp_path / "bad.toml"
    bad.write_text("[account]\nequity = 'x'\n[positions]\nAAPL = 1\n")
    paths.append(bad)
    with runner(None) as here:
        local = funding_many(paths, here, rate=0.043, on="2022-12-23")
    out = tmp_path / "out"
    remote = funding_many(paths, cluster, rate=0.043, on="2022-12-23", out=out)
    pd.testing.assert_frame_equal(local.table, remote.table)
    assert list(remote.table["status"]) == ["ok", "ok", "ok", "failed"]
    assert "account.equity" in remote.table["error"].iloc[3]
    # totals by group equal the sum of the rows (two identical macro books = twice one)
    one = remote.table.iloc[0]
    assert remote.totals.loc["macro", "daily_carry"] == pytest.approx(2 * one["daily_carry"])
    assert remote.totals.loc["all", "gross"] == pytest.approx(3 * one["gross"])
    assert pd.read_parquet(out / "books.parquet").shape[0] == 4


def test_unreachable_scheduler_fails_fast():
    start = time.perf_counter()
    with (
        pytest.raises(DataUnavailable, match="cannot reach the Dask scheduler"),
        runner(f"tcp://127.0.0.1:{_free_port()}", timeout=2),
    ):
        pass
    assert time.perf_counter() - start < 15


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("silent", "accepted the connection but sent no Dask handshake within 2 s"),
        ("http", "accepted the connection but sent no Dask handshake within 2 s"),
        ("greeting", "answered, but not as a Dask scheduler"),
    ],
)
def test_an_address_that_is_not_a_dask_scheduler_fails_within_the_timeout(kind, message):
    # distributed.Client waits for the handshake with no limit (minutes on a silent port) and reads
    # "HTTP/1.1" as an 8-byte frame length (a MemoryError): both must be one DataUnavailable in time.
    with _server(kind) as port:
        start = time.perf_counter()
        with pytest.raises(DataUnavailable, match=message), runner(f"tcp://127.0.0.1:{port}", timeout=2):
            pass
        assert time.perf_counter() - start < 6


def test_a_real_scheduler_passes_the_handshake_probe(cluster):
    address = cluster.client.scheduler.address
    assert address.startswith("tcp://127.0.0.1:")
    with runner(address, timeout=10) as remote:
        assert remote.map(abs, [-1, -2, 3]) == [1, 2, 3]


def test_bad_runner_and_block_arguments():
    for bad in (0, -5, True, 2.5):
        with pytest.raises(InputError, match="block"):
            pair_blocks(10, bad)
    assert [len(b) for b in pair_blocks(5, 4)] == [4, 4, 2]  # C(5, 2) = 10 pairs
    with pytest.raises(InputError, match="workers"), runner("local", workers=0):
        pass
    with pytest.raises(InputError, match="timeout"), runner("tcp://127.0.0.1:1", timeout=0):
        pass


def test_cli_cluster_paths(tmp_path):
    res = cli.invoke(app, ["statarb", "scan", "--start", "2018-01-01", "--all", "--cluster", "local", "--block", "50",
                           "--json"])  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert len(__import__("json").loads(res.stdout)["table"]) == 190
    args = ["risk", "var", str(EXAMPLE), "--method", "mc", "--scenarios", "200000", "--seed", "1", "--json"]
    res = cli.invoke(app, [*args, "--cluster", "local", "--chunk", "50000"])
    assert res.exit_code == 0, res.stderr
    here = cli.invoke(app, args)
    remote, local = __import__("json").loads(res.stdout), __import__("json").loads(here.stdout)
    assert (remote["var"], remote["es"], remote["mc_std_error"]) == (local["var"], local["es"], local["mc_std_error"])
    res = cli.invoke(app, ["funding", str(EXAMPLE), "--rate", "0.04", "--cluster", f"tcp://127.0.0.1:{_free_port()}"])
    assert res.exit_code == 3 and "cannot reach" in res.stderr
    res = cli.invoke(app, ["statarb", "scan", "--all", "--cluster", "local", "--block", "0"])
    assert res.exit_code == 2 and "block 0" in res.stderr and len(res.stderr.strip().splitlines()) == 1
