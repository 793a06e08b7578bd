"""Transactional output sets (astra._io.output_dir): all new files or none, never a user's file lost."""

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from astra._io import OUTPUTS_RECORD, output_dir
from astra.errors import InputError

ROOT = Path(__file__).parents[2]


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones too) with its bytes, and every directory."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(root.rglob("*"))
    }


def _write_set(target: Path, files: dict[str, str], job: str = "report", **options) -> None:
    with output_dir(target, job=job, **options) as stage:
        for name, text in files.items():
            (stage / name).parent.mkdir(parents=True, exist_ok=True)
            (stage / name).write_text(text)


def _child(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability._child", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )


def test_a_new_target_gets_the_whole_set_and_a_record_of_it(tmp_path):
    target = tmp_path / "a" / "b" / "out"
    _write_set(target, {"report.html": "<html>", "exports/returns.csv": "x\n1\n"})
    assert _snapshot(target) == {
        OUTPUTS_RECORD: (target / OUTPUTS_RECORD).read_bytes(),
        "exports": b"<dir>",
        "exports/returns.csv": b"x\n1\n",
        "report.html": b"<html>",
    }
    record = json.loads((target / OUTPUTS_RECORD).read_text())["files"]
    # the record's digests are the files' SHA-256 (hashlib, independently of the writer)
    assert {name: entry["sha256"] for name, entry in record.items()} == {
        "report.html": hashlib.sha256(b"<html>").hexdigest(),
        "exports/returns.csv": hashlib.sha256(b"x\n1\n").hexdigest(),
    }
    assert sorted(p.name for p in tmp_path.rglob("*") if "astra" in p.name) == [OUTPUTS_RECORD]  # no leftovers


def test_a_job_failing_halfway_leaves_the_target_and_its_parent_untouched(tmp_path):
    target = tmp_path / "out"
    _write_set(target, {"report.html": "old report", "book_funding.csv": "old funding"})
    (target / "notes.txt").write_text("the user's own notes")
    before = _snapshot(tmp_path)

    def report_run():
        with output_dir(target, job="report") as stage:
            (stage / "book_funding.csv").write_text("new funding")
            raise RuntimeError("book 3 failed")

    with pytest.raises(RuntimeError, match="book 3 failed"):
        report_run()
    assert _snapshot(tmp_path) == before  # no mixed report, no temporary directory beside it


def test_a_failing_job_into_a_new_nested_target_creates_nothing(tmp_path):
    def run():
        with output_dir(tmp_path / "x" / "y" / "out") as stage:
            (stage / "a.csv").write_text("1")
            raise InputError("bad book")

    with pytest.raises(InputError, match="bad book"):
        run()
    assert list(tmp_path.iterdir()) == []


def test_the_previous_run_of_the_same_job_is_replaced_as_a_set_other_jobs_stay(tmp_path):
    target = tmp_path / "out"
    _write_set(target, {"report.html": "r1", "returns.csv": "1"}, job="report")
    _write_set(target, {"books.parquet": "b"}, job="funding")
    _write_set(target, {"report.html": "r2"}, job="report")  # this run writes no returns.csv
    files = {k: v for k, v in _snapshot(target).items() if k != OUTPUTS_RECORD}
    assert files == {"report.html": b"r2", "books.parquet": b"b"}
    record = json.loads((target / OUTPUTS_RECORD).read_text())["files"]
    assert {name: entry["job"] for name, entry in record.items()} == {
        "report.html": "report",
        "books.parquet": "funding",
    }


@pytest.mark.parametrize("early", [True, False], ids=["declared-files", "found-at-commit"])
def test_a_users_files_are_never_overwritten_without_force(tmp_path, early):
    target = tmp_path / "out"
    target.mkdir()
    (target / "returns.csv").write_text("the user's returns")
    (target / "report.html").write_text("the user's report")
    before = _snapshot(tmp_path)
    ran = []
    declared = ("report.html", "returns.csv") if early else ()

    def run():
        with output_dir(target, job="report", files=declared) as stage:
            ran.append(True)
            (stage / "report.html").write_text("ours")
            (stage / "returns.csv").write_text("ours")

    with pytest.raises(InputError, match=r"already holds report.html, returns.csv, not written by ASTRA.*force"):
        run()
    assert ran == ([] if early else [True])  # declared names fail before any work is done
    assert _snapshot(tmp_path) == before
    _write_set(target, {"report.html": "ours", "returns.csv": "ours"}, force=True)
    assert (target / "returns.csv").read_text() == "ours" and (target / "report.html").read_text() == "ours"


def test_a_file_astra_wrote_but_the_user_changed_is_protected(tmp_path):
    target = tmp_path / "out"
    _write_set(target, {"report.html": "ours"})
    (target / "report.html").write_text("edited by hand")
    with pytest.raises(InputError, match=r"report.html, not written by ASTRA \(or changed since\)"):
        _write_set(target, {"report.html": "new"})
    assert (target / "report.html").read_text() == "edited by hand"
    (target / OUTPUTS_RECORD).write_text("{ not json")  # a broken record owns nothing
    with pytest.raises(InputError, match="not written by ASTRA"):
        _write_set(target, {"report.html": "new"})


def test_a_directory_or_a_file_in_the_way_is_refused_even_with_force(tmp_path):
    target = tmp_path / "out"
    (target / "report.html").mkdir(parents=True)
    (target / "exports").write_text("a file where a directory would go")
    for name in ("report.html", "exports/returns.csv"):
        with pytest.raises(InputError, match="would replace a directory"):
            _write_set(target, {name: "x"}, force=True)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("", "give a directory path"),
        ("   ", "give a directory path"),
        ("FILE", "is a file, not a directory"),
        ("FILE/sub", "not writable|cannot be created"),
    ],
)
def test_unusable_targets_are_one_clear_input_error(tmp_path, target, message):
    (tmp_path / "FILE").write_text("x")
    target = target.replace("FILE", str(tmp_path / "FILE")) if "FILE" in target else target
    before = _snapshot(tmp_path)
    ran = []
    with pytest.raises(InputError, match=message), output_dir(target, what="--out"):
        ran.append(True)
    assert not ran
    assert _snapshot(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits")
def test_a_read_only_target_is_refused(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    target.chmod(0o555)
    try:
        with pytest.raises(InputError, match="not writable"), output_dir(target):
            pass
    finally:
        target.chmod(0o755)


def test_sigkill_mid_job_leaves_the_target_untouched_and_the_next_run_cleans_up(tmp_path):
    target = tmp_path / "out"
    _write_set(target, {"report.html": "previous run"})
    before = _snapshot(target)
    child = _child("job", str(target))
    assert child.stdout.readline().strip() == "ready"
    child.kill()
    child.wait(30)
    child.stdout.close()
    assert _snapshot(target) == before  # nothing new in the target
    assert [p.name for p in tmp_path.iterdir() if "astra-stage" in p.name]  # the killed run's staging, beside
    _write_set(target, {"report.html": "next run"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # orphans of the killed run removed
    assert (target / "report.html").read_text() == "next run"


def test_sigkill_mid_swap_is_completed_by_the_next_run(tmp_path):
    target = tmp_path / "out"
    _write_set(target, {"a.csv": "old a", "b.csv": "old b", "report.html": "old report"})
    child = _child("swap", str(target))
    child.wait(60)
    child.stdout.close()
    assert child.returncode == -9
    moved = [n for n in ("a.csv", "b.csv", "report.html") if "killed run" in (target / n).read_text()]
    assert len(moved) == 1  # killed inside the swap: one file moved, the set is mixed until the next run

    # The next run into the same directory completes the killed run's swap before anything else
    # (even a run that then fails), so the directory holds one complete set again.
    def failing_next_run():
        with output_dir(target, job="other"):
            raise RuntimeError("the next job fails")

    with pytest.raises(RuntimeError):
        failing_next_run()
    assert {n: (target / n).read_text() for n in ("a.csv", "b.csv", "report.html")} == {
        n: f"{n} of the killed run" for n in ("a.csv", "b.csv", "report.html")
    }
    record = json.loads((target / OUTPUTS_RECORD).read_text())["files"]
    assert record["a.csv"]["sha256"] == hashlib.sha256(b"a.csv of the killed run").hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_stray_temporary_files_of_our_outputs_are_removed(tmp_path):
    target = tmp_path / "out"
    _write_set(target, {"report.html": "r"})
    stray = target / ".report.html.k3j2h1.tmp"  # what an interrupted atomic write of report.html leaves
    stray.write_text("partial")
    users = target / ".notes.txt.tmp"
    users.write_text("not ours")
    _write_set(target, {"report.html": "r2"})
    assert not stray.exists() and users.exists()


def test_concurrent_runs_into_one_directory_never_mix_their_sets(tmp_path):
    target = tmp_path / "out"
    errors = []

    def run(worker: int) -> None:
        try:
            for i in range(4):
                _write_set(target, {name: f"{worker}:{i}" for name in ("a.csv", "b.csv", "c.csv")})
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    contents = {(target / n).read_text() for n in ("a.csv", "b.csv", "c.csv")}
    assert len(contents) == 1  # one run's set, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
