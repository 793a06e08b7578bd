"""The typer application, its command groups, and one-line usage errors."""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException  # typer ≥ 0.29 vendors click: its ClickException derives from this

__all__ = ["app", "book_app", "data_app", "risk_app", "statarb_app"]


class _OneLineErrors(TyperGroup):
    """Usage errors (unknown flag, missing argument, bad choice) as one ``error:`` line, exit 2."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except TyperException as exc:
            if not hasattr(exc, "format_message"):
                raise
            context = getattr(exc, "ctx", None)
            message = " ".join(exc.format_message().split())
            hint = f" (see {context.command_path} --help)" if context is not None else ""
            sys.stderr.write(f"error: {message}{hint}\n")
            sys.exit(getattr(exc, "exit_code", 2))
        except typer.Abort:
            sys.stderr.write("aborted\n")
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="astra",
    cls=_OneLineErrors,
    help="ASTRA: prime-brokerage funding, optimisation, risk and stat-arb. Every command takes --json.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Prices and the benchmark rate.", no_args_is_help=True)
book_app = typer.Typer(help="Client books: positions, marks, exposures.", no_args_is_help=True)
risk_app = typer.Typer(help="VaR/ES, stress tests and VaR backtests of a book.", no_args_is_help=True)
statarb_app = typer.Typer(help="Pairs: scan, Kalman hedge ratios, signals, back-tests.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(book_app, name="book")
app.add_typer(risk_app, name="risk")
app.add_typer(statarb_app, name="statarb")
