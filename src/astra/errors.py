"""The ASTRA exception tree.

One base class, :class:`AstraError`, and four subclasses that mean something
to a user.  Interfaces (CLI, dashboard, report) catch :class:`AstraError`, show
its message on one line and exit with :attr:`AstraError.exit_code`; any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["AstraError", "DataUnavailable", "Infeasible", "InputError", "SolverError"]


class AstraError(Exception):
    """Base class of every error ASTRA raises on purpose."""

    exit_code: int = 1


class InputError(AstraError, ValueError):
    """The user gave something ASTRA cannot use (bad file, value, option)."""

    exit_code = 2


class DataUnavailable(AstraError):
    """Data could not be obtained: empty download, unknown ticker, cache miss offline."""

    exit_code = 3


class Infeasible(AstraError):
    """The constraints cannot all hold at once."""

    exit_code = 4


class SolverError(AstraError):
    """A solver failed or returned a solution that does not pass our checks."""

    exit_code = 4
