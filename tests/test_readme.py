"""The README is executable: every `astra …` command in its code blocks runs as written, offline.

Commands are read from the README's ```bash blocks (continuation lines joined, comments
dropped, split like a shell would) and run with exactly those arguments in a scratch directory
holding a copy of ``examples/``, with an empty cache and no network. A command that needs the
network (``--source yahoo``, ``--rate-source irx``, a scheduler address) runs through the
installed console script and must fail fast: exit 3 with one ``error:`` line within 30 s of
starting. Every other command must exit 0; those run in this process (the same ``astra`` app
the console script calls, without paying for a fresh interpreter each time). The README's
```python blocks run too, each in a fresh interpreter.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ASTRA = Path(sys.executable).with_name("astra")
NETWORK = re.compile(r"--source yahoo(?!.*--offline)|--rate-source irx|tcp://|--offline")
TIMEOUT_S = 240


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def commands() -> list[str]:
    found = []
    for block in blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line.startswith("astra "):
                found.append(line)
    return found


COMMANDS = commands()


def run(command: str, cwd: Path, env: dict) -> dict:
    args = shlex.split(command, comments=True)
    started = time.perf_counter()
    proc = subprocess.run([str(ASTRA), *args[1:]], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)  # fmt: skip
    return {"code": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr,
            "seconds": time.perf_counter() - started}  # fmt: skip


def run_here(command: str, cwd: Path, env: dict) -> dict:
    from typer.testing import CliRunner

    from astra.cli import app

    args = shlex.split(command, comments=True)
    started, before = time.perf_counter(), Path.cwd()
    os.chdir(cwd)
    try:
        res = CliRunner().invoke(app, args[1:], env=env)
    finally:
        os.chdir(before)
    trace = "" if isinstance(res.exception, SystemExit | None) else f"Traceback: {res.exception!r}"
    return {"code": res.exit_code, "stdout": res.stdout, "stderr": res.stderr + trace,
            "seconds": time.perf_counter() - started}  # fmt: skip


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Run every README command once: the network ones side by side through the console script (they only
    wait, and are timed without competing for the CPU), then the rest one after another in this process."""
    cwd = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "examples", cwd / "examples")
    env = {"ASTRA_CACHE_DIR": str(cwd / "cache"), "COLUMNS": "100"}
    network = [c for c in COMMANDS if NETWORK.search(c)]
    local = [c for c in COMMANDS if c not in network]
    full_env = {**os.environ, **env}
    startup = run("astra --version", cwd, full_env)["seconds"]  # what starting the CLI costs on this machine now
    with ThreadPoolExecutor(max_workers=3) as waiting:
        done = dict(zip(network, waiting.map(lambda c: run(c, cwd, full_env), network), strict=True))
    for command in network:
        done[command]["startup"] = startup
    done.update((command, run_here(command, cwd, env)) for command in local)
    return done


def test_the_readme_has_the_commands_it_promises():
    groups = {shlex.split(c)[1] for c in COMMANDS}
    assert groups >= {"data", "book", "funding", "optimize", "risk", "statarb", "report"}
    assert len(COMMANDS) >= 30


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_runs_as_written(results, command):
    out = results[command]
    if NETWORK.search(command):
        lines = [ln for ln in out["stderr"].splitlines() if ln.strip()]
        assert out["code"] == 3, (command, out["stderr"][-2000:])
        assert lines[-1].startswith("error:") and "Traceback" not in out["stderr"], out["stderr"][-2000:]
        # the network part must fail within 30 s; starting Python and the CLI is not the network's time
        assert out["seconds"] - out["startup"] < 30, f"{command} took {out['seconds']:.0f} s to fail"
    else:
        assert out["code"] == 0, (command, out["stderr"][-2000:])
        assert "Traceback" not in out["stderr"]
        if "--json" in shlex.split(command, comments=True):
            import json

            json.loads(out["stdout"])


@pytest.mark.parametrize("code", blocks("python"), ids=lambda c: c.splitlines()[0][:40])
def test_readme_python_runs_as_written(tmp_path, code):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "ASTRA_CACHE_DIR": str(tmp_path / "cache")}, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
