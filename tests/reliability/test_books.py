"""Books, account and funding terms under bad input: one clear InputError naming the field and value."""

import math
import time

import numpy as np
import pytest

from astra import Book, load_book
from astra.book import MAX_NOTIONAL, MAX_SHARES
from astra.errors import AstraError, InputError
from tests.funding._books import ISSUE_BOOK


def _toml(tmp_path, text, name="book.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # unknown keys are refused with the closest known name (margn quietly meant Reg T before)
        (("[account]\n", '[account]\nmargn = "portfolio"\n'), r"account.margn: unknown field; did you mean 'margin'\?"),
        (("[account]\n", "[account]\nequty = 5\n"), r"account.equty: unknown field; did you mean 'equity'\?"),
        (("up_to = 1_000_000", "upto = 1_000_000"), r"funding.tiers\[0\].upto: unknown field; did you mean 'up_to'\?"),
        (("long_spread_bps = 50", "long_sprad_bps = 50"), r"did you mean 'long_spread_bps'\?"),
        (("[account]", "[acount]"), r"unknown table \[acount\]; did you mean 'account'\?"),
        (('model = "cash"', 'model = "csh"'), r"'csh' is not one of cash, netted, swap, seed; did you mean 'cash'\?"),
        # a borrow fee for something that is not a ticker, or twice for one
        (("JPM = 40\n[[", "'JPM!' = 40\n[[", 1), r"funding.borrow_fee_bps.JPM!: 'JPM!' is not a ticker"),
        (("JPM = 40\n[[", "JPM = 40\njpm = 50\n[["), r"two fees"),
        # absurd numbers
        (("AAPL = 1500", "AAPL = 1" + "0" * 300), r"AAPL is 1e\+300 shares; .* at most 1e\+12 shares"),
        (("AAPL = 1500", "AAPL = 1" + "0" * 400), r"positions.AAPL: 10{20,}… is too large"),
        (("AAPL = 1500", "AAPL = 1e300"), r"quantity of AAPL is 1e\+300 shares"),
        (("AAPL = 1500", "AAPL = nan"), r"positions.AAPL: nan is not a finite number"),
        (("AAPL = 1500", "AAPL = -inf"), r"positions.AAPL: -inf is not a finite number"),
        (("AAPL = 1500", "AAPL = 9_000_000_000_000"), r"at most 1e\+12 shares"),
        (("AAPL = 276.49", "AAPL = 1e-300"), r"price of AAPL is 1e-300; marks must be positive numbers from 1e-06"),
        (("AAPL = 276.49", "AAPL = 1e300"), r"price of AAPL is 1e\+300"),
        (("equity = 1_000_000", "equity = 1e-300"), r"account.equity: 1e-300 must be >= 1"),
        (("equity = 1_000_000", "equity = 1e300"), r"account.equity: 1e\+300 must be <= 1e\+15"),
        (("equity = 1_000_000", "equity = inf"), r"account.equity: inf is not a finite number"),
        (("up_to = 1_000_000", "up_to = 1e300"), r"funding.tiers\[0\].up_to: 1e\+300 must be <= 1e\+15"),
        (("[account]\n", '[account]\nname = "' + "x" * 500 + '"\n'), r"account.name 'xxxx.*…' must be 1 to 100"),
    ],
)
def test_bad_books_are_refused(tmp_path, edit, message):
    old, new, *count = edit
    text = ISSUE_BOOK.replace(old, new, *count)
    assert text != ISSUE_BOOK
    with pytest.raises(InputError, match=message) as info:
        load_book(_toml(tmp_path, text))
    assert "\n" not in str(info.value) and len(str(info.value)) < 300


def test_market_value_and_gross_bounds():
    # one position of 10^12 shares × $2,000 = $2·10^15 > 10^15
    with pytest.raises(InputError, match=r"market value of AAA is 2e\+15 USD; at most 1e\+15"):
        Book.from_positions({"AAA": MAX_SHARES}, {"AAA": 2_000.0}, equity=1e6)
    # two positions of 6·10^14 each: each within the bound, the gross of 1.2·10^15 is not
    with pytest.raises(InputError, match=r"gross is 1\.2e\+15 USD; at most 1e\+15"):
        Book.from_positions({"AAA": 6e11, "BBB": -6e11}, {"AAA": 1_000.0, "BBB": 1_000.0}, equity=1e6)
    # at the bounds everything stays finite: gross = 10^15, leverage = 10^15 / 1 = 10^15
    edge = Book.from_positions({"AAA": 1e12}, {"AAA": 1_000.0}, equity=1.0)
    assert edge.gross == MAX_NOTIONAL and edge.leverage == 1e15 and math.isfinite(edge.gross**2)
    with pytest.raises(InputError, match="shares"):
        edge.scaled(10.0)


def test_borrow_fee_for_a_name_not_held_is_noted(tmp_path):
    text = ISSUE_BOOK.replace("JPM = 40\n[[", "JPM = 40\nGME = 5000\n[[")
    book = load_book(_toml(tmp_path, text))
    assert "borrow fees given for names not held: GME" in book.notes
    assert book.funding.fee_bps("GME") == 5000  # kept: the book may trade it later


@pytest.mark.parametrize("suffix", [".toml", ".csv"])
def test_byte_order_mark_and_non_utf8_books(tmp_path, suffix):
    text = ISSUE_BOOK if suffix == ".toml" else "ticker,quantity,price\nAAPL,1500,276.49\nJPM,-1200,317.27\n"
    path = tmp_path / f"book{suffix}"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    book = load_book(path, equity=1_000_000)
    assert book.gross == pytest.approx(1500 * 276.49 + 1200 * 317.27)
    # a name in Latin-1: "é" is one byte 0xe9, where UTF-8 needs two
    bad = text.replace("AAPL", "AAPL\u00e9" if suffix == ".csv" else "AAPL").encode("latin-1")
    bad = bad if suffix == ".csv" else (text + "# commentaire: société\n").encode("latin-1")
    offset = bad.index(b"\xe9")
    path.write_bytes(bad)
    with pytest.raises(InputError, match=rf"not UTF-8 text \(byte {offset:,} is 0xe9\)") as info:
        load_book(path, equity=1_000_000)
    assert isinstance(info.value, AstraError) and info.value.exit_code == 2


def test_a_large_csv_book_loads_vectorised(tmp_path):
    # 200,000 positions; the reference gross is computed here with numpy from the same numbers.
    rng = np.random.default_rng(7)
    n = 200_000
    quantities = rng.integers(-50_000, 50_000, n)
    quantities[quantities == 0] = 1
    prices = np.round(rng.uniform(1, 500, n), 2)
    quantities[:20_000] = 0  # dropped with one short note
    rows = "".join(f"N{i:06d},{q},{p}\n" for i, (q, p) in enumerate(zip(quantities, prices, strict=True)))
    path = tmp_path / "big.csv"
    path.write_text("ticker,quantity,price\n" + rows)
    start = time.perf_counter()
    book = load_book(path, equity=1e9)
    elapsed = time.perf_counter() - start
    assert elapsed < 10  # ≈ 0.25 s on a quiet machine; the row-by-row parser took ≈ 2 s (loaded) before
    assert len(book.tickers) == n - 20_000
    assert book.gross == pytest.approx(float(np.abs(quantities * prices).sum()), rel=1e-12)
    assert book.notes == ("dropped zero positions: N000000, N000001, N000002, N000003, N000004, N000005, "
                          "N000006, N000007 and 19,992 more",)  # fmt: skip
    assert len(book.to_dict()["positions"]) == n - 20_000


def test_many_unmarked_names_are_listed_briefly():
    positions = {f"N{i}": 1 for i in range(50_000)}
    with pytest.raises(InputError, match=r"no price for N0, N1, .* and 49,992 more; add them") as info:
        Book.from_positions(positions, {}, equity=1e6)
    assert len(str(info.value)) < 200


def test_csv_book_cells(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("Quantity,TICKER\n1_000,aapl\n")  # any column order, case, underscores
    assert load_book(path, equity=1e6, price_loader=lambda names: ({n: 10.0 for n in names}, "test")).gross == 10_000
    for text, message in [
        ("ticker,quantity,price\nAAPL,1,abc\n", "line 2, column price: 'abc' is not a number"),
        ("ticker,quantity,price\nAAPL,1,0\n", "line 2, column price: 0 must be >= 1e-06"),
        ("ticker,quantity\nAAPL,1e13\n", "line 2, column quantity: 1e\\+13 must be <= 1e\\+12"),
        ("ticker,quantity\nAAPL,\n", "line 2, column quantity: empty cell"),
    ]:
        path.write_text(text)
        with pytest.raises(InputError, match=message):
            load_book(path, equity=1e6)


def test_in_a_batch_a_non_utf8_book_fails_alone(tmp_path):
    from astra.parallel import runner
    from astra.workflows.scale import funding_many

    good, bom, latin = tmp_path / "good.toml", tmp_path / "bom.toml", tmp_path / "latin.toml"
    good.write_text(ISSUE_BOOK)
    bom.write_bytes(b"\xef\xbb\xbf" + ISSUE_BOOK.encode())
    latin.write_bytes((ISSUE_BOOK + "# société\n").encode("latin-1"))
    with runner(None) as here:
        result = funding_many([good, latin, bom], here, rate=0.043, on="2022-12-23")
    assert list(result.table["status"]) == ["ok", "failed", "ok"]
    assert "not UTF-8 text" in result.table["error"].iloc[1]
    assert result.table["daily_carry"].iloc[0] == result.table["daily_carry"].iloc[2]  # BOM changes nothing
