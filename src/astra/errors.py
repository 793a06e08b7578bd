"""The ASTRA exception tree, and the helpers every error message is built with.

One base class, :class:`AstraError`, and four subclasses that mean something
to a user.  Interfaces (CLI, dashboard, report) catch :class:`AstraError`, show
its message on one line and exit with :attr:`AstraError.exit_code`; any other
exception is a bug and keeps its traceback.

Messages stay short whatever the input: :func:`listing` names at most a few
items ("A, B, C and 3,299,990 more"), :func:`excerpt` quotes at most a few
printable characters of a user's file, and :func:`did_you_mean` suggests the
known name closest to a misspelt one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "AstraError",
    "DataUnavailable",
    "Infeasible",
    "InputError",
    "SolverError",
    "did_you_mean",
    "excerpt",
    "listing",
    "rename_parameters",
]

LIST_LIMIT = 8
"""How many items a message names before it says "and N more"."""

EXCERPT_CHARS = 24
"""How many characters of a user's file a message quotes at most."""


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


def listing(items: Iterable[Any], limit: int = LIST_LIMIT) -> str:
    """``"A, B, C"`` or ``"A, B, … H and 3,299,990 more"``: at most ``limit`` items named.

    Each item is shown with ``str`` (cut by :func:`excerpt` if it is long), so a
    message that lists user input stays one short line however much there is.

    Examples
    --------
    >>> listing(["AAPL", "MSFT"])
    'AAPL, MSFT'
    >>> listing([f"T{i}" for i in range(3_300)], limit=3)
    'T0, T1, T2 and 3,297 more'
    """
    shown: list[str] = []
    more = 0
    for item in items:
        if len(shown) < limit:
            shown.append(excerpt(item, quote=False))
        else:
            more += 1
    text = ", ".join(shown)
    return f"{text} and {more:,} more" if more else text


def excerpt(value: Any, limit: int = EXCERPT_CHARS, *, quote: bool = True) -> str:
    """A short, printable rendering of ``value`` for a message (``'SECRET…'``).

    Non-printable characters become ``?`` and the text is cut to ``limit``
    characters, so an error never echoes more than a few characters of a file.

    Examples
    --------
    >>> excerpt("abc")
    "'abc'"
    >>> excerpt("x" * 100, 5)
    "'xxxxx…'"
    >>> excerpt("a\\x00b\\nc")
    "'a?b?c'"
    """
    text = str(value)
    cut = len(text) > limit
    text = "".join(ch if ch.isprintable() else "?" for ch in text[:limit]) + ("…" if cut else "")
    return repr(text) if quote else text


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """``"; did you mean 'margin'?"`` when a known name is close to ``word``, else ``""``.

    Examples
    --------
    >>> did_you_mean("margn", ["equity", "margin", "name"])
    "; did you mean 'margin'?"
    >>> did_you_mean("zzz", ["equity"])
    ''
    """
    close = difflib.get_close_matches(str(word), [str(k) for k in known], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


_TOKEN = re.compile(r"(?<![\w./-])(--[a-z][a-z0-9-]*|[a-z][a-z0-9]*(?:_[a-z0-9]+)*)(?![\w/-])")
_ADVICE = re.compile(r"(?:\b(?:no|or|with|use|give|add|set|pass)|[;:(]) $")


def rename_parameters(message: str, names: Mapping[str, str]) -> str:
    """Name parameters in an interface's own words (a CLI flag, a page's control).

    Core modules and workflows speak of their parameters (``tc_bps -1 must be >= 0``);
    ``names`` maps a parameter to what the user sees (``{"tc_bps": "--tc-bps"}``). A
    parameter is recognised when written with an underscore anywhere, as one word at the
    start of the message or of a clause or after advice ("or", "use", "give"…), or as a
    flag (``--cost-bps`` is parameter ``cost_bps``).

    Examples
    --------
    >>> rename_parameters("date '2022-02-30' is not a calendar date", {"date": "--date"})
    "--date '2022-02-30' is not a calendar date"
    >>> rename_parameters("--model 'k9' is not one of kalman2, kalman3", {"model": "--filter"})
    "--filter 'k9' is not one of kalman2, kalman3"
    >>> rename_parameters("cost_bps -1 must be >= 0; see the book's terms", {"cost_bps": "trading cost"})
    "trading cost -1 must be >= 0; see the book's terms"
    >>> rename_parameters("out holds a.csv; choose another directory, or force to overwrite", {"force": "--force"})
    'out holds a.csv; choose another directory, or --force to overwrite'
    """

    def swap(match: re.Match) -> str:
        token = match.group(1)
        name = token.lstrip("-").replace("-", "_")
        leading = match.start() == 0 or _ADVICE.search(message[: match.start()]) is not None
        if name in names and (token.startswith("--") or "_" in token or leading):
            return names[name]
        return token

    return _TOKEN.sub(swap, message)
