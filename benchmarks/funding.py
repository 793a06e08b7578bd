"""Carry of large books: the vectorised leg engine vs a per-position loop.

Baseline: the original notebook's formulation, a pandas row loop computing each
position's financing or rebate and fee (here with the DESIGN ``cash`` formula so
both compute the same number, checked before timing).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import compare, emit
from astra import Book
from astra.funding import FundingTerms, carry

RATE, LONG_BPS, SHORT_BPS = 0.043, 50.0, 25.0


def make_book(n: int, seed: int = 0) -> Book:
    rng = np.random.default_rng(seed)
    names = [f"N{i:05d}" for i in range(n)]
    qty = rng.integers(-20_000, 20_000, n)
    qty[qty == 0] = 1
    price = np.round(rng.lognormal(4, 1, n), 2)
    fees = dict(zip(names, rng.uniform(20, 500, n), strict=True))
    return Book.from_positions(
        dict(zip(names, qty.tolist(), strict=True)),
        dict(zip(names, price.tolist(), strict=True)),
        equity=float(np.abs(qty * price).sum() / 2),
        funding=FundingTerms(long_spread_bps=LONG_BPS, short_spread_bps=SHORT_BPS, borrow_fee_bps=fees),
    )


def loop_carry(frame: pd.DataFrame, equity: float, fees: dict) -> float:
    lmv = 0.0
    total = 0.0
    for ticker, row in frame.iterrows():
        value = row["quantity"] * row["price"]
        if value > 0:
            lmv += value
        else:
            total += -value * (RATE - SHORT_BPS / 1e4) / 360
            collateral = -row["quantity"] * math.ceil(round(1.02 * row["price"], 8))
            total -= collateral * fees[ticker] / 1e4 / 360
    total -= max(0.0, lmv - equity) * (RATE + LONG_BPS / 1e4) / 360
    total += max(0.0, equity - lmv) * (RATE - SHORT_BPS / 1e4) / 360
    return total


def main() -> None:
    cases = []
    for n in (500, 5_000):
        book = make_book(n)
        frame = book.to_frame()
        fees = dict(book.funding.borrow_fee_bps)
        ours = carry(book, RATE).daily_carry
        reference = loop_carry(frame, book.equity, fees)
        assert abs(ours - reference) <= 1e-6 * max(1.0, abs(reference)), (ours, reference)
        cases.append(
            compare(
                "daily carry, cash convention",
                f"{n} positions",
                lambda book=book: carry(book, RATE),
                lambda frame=frame, book=book, fees=fees: loop_carry(frame, book.equity, fees),
                "pandas iterrows per-position loop (notebook style)",
                target_ratio=5.0,
            )
        )
    emit("funding", cases)


if __name__ == "__main__":
    main()
