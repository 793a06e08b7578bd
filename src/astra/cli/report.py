"""``astra demo``, ``astra report`` and ``astra dashboard``."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from astra.cli._app import app
from astra.cli._common import EquityOpt, ForceOpt, JsonOpt, emit_json, line, note, pct, run, table

DirOpt = Annotated[str, typer.Option("--out", help="Output directory (written as one set).")]


@app.command()
def demo(out: DirOpt = "astra-out", force: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """Run the whole pipeline on the offline sample and write the report and exports to --out."""
    from astra import workflows

    def render(result) -> None:
        data = result.data
        line("ASTRA demo: offline sample (skfolio S&P 500 sample, real adjusted closes)")
        line(f"{data.meta.source}: {len(data.tickers)} series, {data.prices.index[0].date()} to "
             f"{data.prices.index[-1].date()}")  # fmt: skip
        line(f"data quality: {data.quality.summary()}")
        rows = ([str(t), *(pct(v) for v in row)] for t, row in result.cumulative.iterrows())
        table("Cumulative buy-and-hold returns (to the sample's last day)", ["ticker", *result.cumulative.columns],
              rows)  # fmt: skip
        for section in result.sections.values():
            if isinstance(section, dict) and "text" in section:
                line(section["text"])
        note(", ".join(result.files), label="wrote")
        line(f"next: open {out}/report.html; run the dashboard with .venv/bin/astra dashboard (or make dashboard); "
             ".venv/bin/astra --help lists every command")  # fmt: skip

    run(lambda: workflows.run_demo(out, force=force), render, as_json)


@app.command()
def report(
    out: DirOpt = "astra-out",
    book: Annotated[Path | None, typer.Option("--book", help="Client book (default: the sample book).")] = None,
    source: Annotated[
        str,
        typer.Option("--source", help="The book's marks and risk history: sample | yahoo | csv:PATH | parquet:PATH"),
    ] = "sample",
    equity: EquityOpt = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Write report.html (self-contained, opens offline) and every export for a book."""
    from astra import workflows

    run(lambda: workflows.run_demo(out, book=book, source=source, equity=equity, force=force),
        lambda result: note(", ".join(result.files), label="wrote"), as_json)  # fmt: skip


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@app.command()
def dashboard(
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8501,
    host: Annotated[str, typer.Option("--host", help="Address to bind (loopback by default).")] = "127.0.0.1",
    as_json: Annotated[bool, typer.Option("--json", help="Print {url, host, port} as JSON, then serve.")] = False,
) -> None:
    """Serve the Streamlit dashboard (opens on the offline sample; no network needed)."""
    import subprocess

    from astra.dashboard import APP, MAX_UPLOAD_MB

    if not 1 <= port <= 65535:
        note(f"--port {port} is not a TCP port (1-65535)", label="error")
        raise typer.Exit(2)
    if not _port_free(host, port):
        note(f"port {port} on {host} is in use; choose another with --port", label="error")
        raise typer.Exit(2)
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port), "--server.address",
               host, "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--client.toolbarMode", "viewer", "--server.maxUploadSize", str(MAX_UPLOAD_MB)]  # fmt: skip
    if as_json:
        emit_json({"url": f"http://{host}:{port}", "host": host, "port": port})
    note(f"ASTRA dashboard on http://{host}:{port} (Ctrl-C to stop)", label="serving")
    raise typer.Exit(subprocess.call(command))
