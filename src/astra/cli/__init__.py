"""The ``astra`` command line: parse → one workflow → print (rich tables, or ``--json``).

One module per command group; each command parses its options, calls one workflow
function and renders the result. ``--json`` prints ``to_dict()`` of the result and
nothing else on stdout; messages go to stderr. Exit codes: 0 ok, 2 bad input, 3 data
unavailable, 4 infeasible or solver failure. An :class:`~astra.errors.AstraError`
(and a usage error) is one line, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

import astra
from astra.cli import book, data, optimize, report, risk, statarb  # noqa: F401  (registers the commands)
from astra.cli._app import app
from astra.cli._common import emit_json

__all__ = ["app", "emit_json", "main"]


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"astra {astra.__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """ASTRA: Adaptive Statistical Trading & Risk Architecture."""


def main() -> None:
    """Console-script entry point."""
    app()
