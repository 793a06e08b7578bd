"""Bad input through the command line: every case is one line naming the right input, the right exit code,
no traceback, nothing new or changed on disk, bounded time and memory.

Each case runs the real command (``astra.cli.app``) in a scratch working directory; the
directory, and the shipped examples, are snapshotted before and after. The core-level cases
(books, tables, the cache, output sets, Dask addresses) are in the other modules of this package.
"""

from __future__ import annotations

import hashlib
import socket
import time
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from astra.cli import app

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "book.toml"
GOOD = EXAMPLE.read_text(encoding="utf-8")
SECONDS, MEBIBYTES = 60, 512


def snapshot(*folders: Path) -> dict[str, str]:
    files = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                files[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def write(folder: Path, name: str, content: str | bytes) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A working directory holding the files the cases name; a Yahoo cache that stays empty."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASTRA_CACHE_DIR", str(tmp_path / ".cache"))
    write(tmp_path, "latin1.toml", GOOD.replace('"sample-client"', '"Société"').encode("latin-1"))
    write(tmp_path, "huge.toml", GOOD.replace("AAPL = 3_000", "AAPL = 1e300"))
    write(tmp_path, "tiny-equity.toml", GOOD.replace("equity = 1_000_000", "equity = 1e-300"))
    write(tmp_path, "typo.toml", GOOD.replace('margin = "reg_t"', 'margn = "portfolio"'))
    write(tmp_path, "bad-fee.toml", GOOD.replace("BAC = 40", "'BAC!' = 40"))
    write(tmp_path, "googl.toml", GOOD.replace("AMD = 6_000", "GOOGL = 100\nGS = 5"))
    write(tmp_path, "mixed-tz.csv", "timestamp,A\n2024-03-08T09:31:00-05:00,1\n2024-03-11T09:31:00,2\n")
    (tmp_path / "a-dir" / "var_components.csv").mkdir(parents=True)  # an output name taken by a directory
    write(tmp_path, "a-file", "x")
    return tmp_path


B = str(EXAMPLE)
CASES = [
    # (id, args, exit code, text the one line must contain)
    ("non-utf8 book", ["funding", "latin1.toml"], 2, "not UTF-8 text"),
    ("1e300 shares", ["risk", "var", "huge.toml"], 2, "1e+300 shares"),
    ("equity 1e-300", ["funding", "tiny-equity.toml"], 2, "equity"),
    ("unknown account key", ["funding", "typo.toml"], 2, "did you mean 'margin'"),
    ("fee for a non-ticker", ["funding", "bad-fee.toml"], 2, "'BAC!' is not a ticker"),
    ("names outside the sample", ["risk", "var", "googl.toml"], 2, "GOOGL"),
    ("mixed time zones", ["data", "show", "--source", "csv:mixed-tz.csv", "--interval", "1m"], 2, "no UTC offset"),
    ("scenarios 1e10 as text", ["risk", "var", B, "--method", "mc", "--scenarios", "1e10"], 2, "--scenarios"),
    ("block 0", ["statarb", "scan", "--cluster", "local", "--block", "0"], 2, "--block 0"),
    ("out names a directory", ["risk", "var", B, "--out", "a-dir"], 2, "var_components.csv"),
    ("out is a file", ["risk", "var", B, "--out", "a-file"], 2, "a-file"),
    ("out is empty", ["risk", "var", B, "--out", ""], 2, "out"),
    ("percent rate, optimize", ["optimize", "--universe", "AAPL,MSFT", "--rate", "4.3"], 2, "--rate 4.3"),
    ("percent rate, statarb", ["statarb", "run", "--x", "BAC", "--y", "JPM", "--rate", "4.3"], 2, "--rate 4.3"),
    ("percent rate, funding", ["funding", B, "--rate", "4.3"], 2, "--rate 4.3"),
    ("percent rate as a source", ["data", "rates", "--rate-source", "flat:4.3"], 2, "--rate-source 'flat:4.3'"),
    ("negative cost", ["statarb", "sweep", "--x", "BAC", "--y", "JPM", "--tc-bps", "-5"], 2, "--tc-bps"),
    (
        "grid below its exits",
        ["statarb", "sweep", "--x", "BAC", "--y", "JPM", "--entry", "0.5:1:0.5", "--exit", "1:2:0.5"],
        2,
        "no cell",
    ),
    ("sector shock -500 %", ["risk", "stress", B, "--sector-shock", "-5"], 2, "--sector-shock"),
    ("negative beta band", ["optimize", "--universe", "AAPL,MSFT", "--beta-band", "-0.1"], 2, "--beta-band"),
    ("impossible date", ["funding", B, "--date", "2022-02-30"], 2, "--date '2022-02-30'"),
    ("date that is not one", ["book", "show", B, "--date", "foo"], 2, "--date 'foo'"),
    ("unknown source", ["risk", "var", B, "--source", "ftp"], 2, "--source 'ftp'"),
    ("backtest window 2", ["risk", "backtest", B, "--window", "2"], 2, "--window"),
    ("unknown flag", ["funding", B, "--frm", "2022-12-01"], 2, "--frm"),
    ("pattern with no file", ["funding", "books/*.toml"], 2, "no book file matches"),
    ("every book of a batch fails", ["funding", "latin1.toml", "huge.toml"], 2, "all 2 books failed"),
    ("unknown ticker", ["data", "show", "FOO"], 2, "FOO"),
    ("offline cache miss", ["data", "show", "AAPL", "--source", "yahoo", "--offline"], 3, "not in the cache"),
    (
        "period with a date",
        ["funding", B, "--date", "2022-12-23", "--start", "2022-12-01", "--end", "2022-12-09"],
        2,
        "either",
    ),
    ("percent-looking level", ["risk", "var", B, "--level", "99"], 2, "--level"),
    ("negative seed", ["risk", "var", B, "--method", "mc", "--seed", "-1"], 2, "--seed -1"),
    (
        "10^10 scenarios in one process",
        ["risk", "var", B, "--method", "mc", "--scenarios", "10000000000"],
        2,
        "--scenarios",
    ),
    ("a standard-error target of zero", ["risk", "var", B, "--method", "mc", "--target-se", "0"], 2, "--target-se"),
    ("a target that is not a number", ["risk", "var", B, "--method", "mc", "--target-se", "half"], 2, "--target-se"),
]


@pytest.mark.parametrize(("args", "code", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_changes_nothing(scratch, args, code, needle):
    before = snapshot(scratch, ROOT / "src" / "astra" / "examples")
    tracemalloc.start()
    started = time.perf_counter()
    res = CliRunner().invoke(app, args)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    lines = [ln for ln in res.stderr.splitlines() if ln.strip() and not ln.startswith(("note:", "warning:"))]
    assert res.exit_code == code, (res.exit_code, res.stderr[-1500:])
    assert isinstance(res.exception, SystemExit), repr(res.exception)  # no traceback: a clean exit
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], res.stderr[-1500:]
    assert res.stdout == ""
    assert snapshot(scratch, ROOT / "src" / "astra" / "examples") == before  # nothing new, nothing changed
    assert elapsed < SECONDS and peak < MEBIBYTES * 2**20


def test_a_bad_book_in_a_batch_fails_alone(scratch):
    res = CliRunner().invoke(app, ["funding", B, "latin1.toml", "--date", "2022-12-23"])
    assert res.exit_code == 0, res.stderr
    failed = [ln for ln in res.stderr.splitlines() if ln.startswith("failed:")]
    assert len(failed) == 1 and "latin1.toml" in failed[0] and "not UTF-8" in failed[0]
    assert "sample-client" in res.stdout  # the good book's row is there


def test_window_is_what_the_result_reports(scratch):
    res = CliRunner().invoke(app, ["risk", "var", B, "--window", "250", "--json"])
    assert res.exit_code == 0, res.stderr
    import json

    out = json.loads(res.stdout)
    assert out["observations"] == 250 and out["history_end"] == "2022-12-28"


def test_dashboard_on_a_busy_port_says_so(scratch):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = CliRunner().invoke(app, ["dashboard", "--port", str(port)])
    assert res.exit_code == 2 and "in use" in res.stderr and len(res.stderr.strip().splitlines()) == 1
