"""Every command that writes --out writes its whole set or nothing, and never replaces a user's file silently.

Built on astra._io.output_dir (tested on its own in tests/reliability/test_outputs.py); these
tests drive the commands a user runs.
"""

import json
from pathlib import Path

from typer.testing import CliRunner

from astra.cli import app

EXAMPLE = Path(__file__).parents[1] / "examples" / "book.toml"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def test_a_failing_report_leaves_nothing_behind(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[account]\nequity = 1e6\n[positions]\nAAPL = 10\nGOOGL = 5\n")  # GOOGL: not in the sample
    out = tmp_path / "out"
    res = invoke("report", "--out", out, "--book", bad)
    assert res.exit_code == 2 and "GOOGL" in res.stderr
    assert not out.exists()  # no book_funding.csv, prices.parquet or returns.csv left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]  # no staging directory either


def test_a_users_file_is_not_replaced_without_force(tmp_path):
    (tmp_path / "book_funding.csv").write_text("my own numbers\n")
    args = ("funding", EXAMPLE, "--date", "2022-12-23", "--out", tmp_path)
    res = invoke(*args)
    assert res.exit_code == 2 and "--force" in res.stderr and "book_funding.csv" in res.stderr
    assert snapshot(tmp_path) == {"book_funding.csv": b"my own numbers\n"}
    res = invoke(*args, "--force", "--json")
    assert res.exit_code == 0, res.stderr
    written = json.loads(res.stdout)["files"]
    assert [Path(f).name for f in written] == ["book_funding.csv"]
    assert (tmp_path / "book_funding.csv").read_text().startswith("ticker,date,")


def test_a_rerun_replaces_its_own_files_and_drops_the_ones_it_no_longer_writes(tmp_path):
    period = ("funding", EXAMPLE, "--start", "2022-12-01", "--end", "2022-12-09", "--out", tmp_path)
    assert invoke(*period).exit_code == 0
    assert {"book_funding.csv", "carry_period.csv"} <= set(snapshot(tmp_path))
    assert invoke("funding", EXAMPLE, "--date", "2022-12-23", "--out", tmp_path).exit_code == 0
    files = set(snapshot(tmp_path))
    assert "carry_period.csv" not in files and "book_funding.csv" in files  # one run's set, never a mix


def test_out_must_be_a_directory(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    for args in (("--out", target), ("--out", "")):
        res = invoke("risk", "var", EXAMPLE, *args)
        assert res.exit_code == 2 and res.stderr.startswith("error:"), res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
    assert target.read_text() == "x"
