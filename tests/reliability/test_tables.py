"""Small ticker tables (astra.data.tables) and the message helpers (astra.errors) under bad input."""

import time

import pytest

from astra.data.tables import check_ticker, read_csv_table, read_ticker_list, read_ticker_table
from astra.errors import InputError, did_you_mean, excerpt, listing

SECRET = "SECRET-TOKEN-0123456789abcdefghijklmnopqrstuvwxyz"


def test_listing_names_a_few_and_counts_the_rest():
    assert listing([]) == ""
    assert listing(["A", "B", "C"]) == "A, B, C"
    # 3,300,000 names, 8 shown: 3,300,000 − 8 = 3,299,992 more (hand count)
    text = listing(f"T{i}" for i in range(3_300_000))
    assert text == "T0, T1, T2, T3, T4, T5, T6, T7 and 3,299,992 more"
    assert listing(["x" * 500], limit=1) == "x" * 24 + "…"  # one long item is cut too


def test_excerpt_is_short_and_printable():
    assert excerpt(SECRET) == repr(SECRET[:24] + "…")
    assert excerpt("a\x00b\x1b[31mc") == repr("a?b?[31mc")
    assert did_you_mean("margn", ["equity", "margin", "name", "group"]) == "; did you mean 'margin'?"
    assert (
        did_you_mean("long_sprad_bps", ["long_spread_bps", "short_spread_bps"]) == "; did you mean 'long_spread_bps'?"
    )


def _write(tmp_path, data, name="t.csv"):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
def test_alphas_with_or_without_a_byte_order_mark(tmp_path, bom):
    path = _write(tmp_path, bom + b"Ticker, Alpha\r\naapl, 0.05\n\n MSFT ,-1_000e-5\n")
    assert read_ticker_table(path, "alpha") == {"AAPL": 0.05, "MSFT": -0.01}


def test_non_utf8_names_the_file_and_the_byte(tmp_path):
    # "ticker,group\nBNP,Société": the header is 13 bytes, "BNP,Soci" 8 more, so é (0xe9 in Latin-1) is byte 21
    path = _write(tmp_path, "ticker,group\nBNP,Société\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"t.csv'?: not UTF-8 text \(byte 21 is 0xe9\)"):
        read_ticker_table(path, "group", numeric=False)
    utf16 = _write(tmp_path, "ticker,group\nBNP,banks\n".encode("utf-16"), "u.csv")
    with pytest.raises(InputError, match="looks like UTF-16"):
        read_ticker_table(utf16, "group", numeric=False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file; the header must be ticker,shares"),
        ("\n\n", "empty file"),
        ("ticker\nAAPL\n", r"no shares column in the header 'ticker'"),
        ("ticker,shares,price\nAAPL,1,2\n", r"unknown column\(s\) 'price'; the header must be ticker,shares"),
        ("ticker,ticker\nAAPL,1\n", "column 'ticker' appears twice"),
        ("ticker,shares\nAAPL,1\nMSFT,2,3\n", "line 3: 3 fields, but the header has 2"),
        ("ticker,shares\nAAPL,1\nMSFT\n", "line 3: 1 fields, but the header has 2"),
        ("\n\nticker,shares\n\n \nAAPL,1\n,\nMSFT,x\n", "line 8, column shares: 'x' is not a number"),
        ("ticker,shares\nAAPL,1\n\nMSFT,\n", "line 4, column shares: empty cell"),
        ("ticker,shares\nAAPL,1\nMSFT,ten\n", "line 3, column shares: 'ten' is not a number"),
        ("ticker,shares\nAAPL,inf\n", "line 2, column shares: 'inf' is not finite"),
        ("ticker,shares\nAAPL,nan\n", "line 2, column shares: 'nan' is not finite"),
        ("ticker,shares\nAAPL,-5\n", "line 2, column shares: -5 must be >= 0"),
        ("ticker,shares\nAAPL!,5\n", r"line 2, column ticker: 'AAPL!' is not a ticker"),
        ("ticker,shares\n,5\n", r"line 2, column ticker: '' is not a ticker"),
        ("ticker,shares\nAAPL,1\naapl,2\n", r"1 ticker\(s\) appear more than once \(AAPL; first repeat on line 3\)"),
    ],
)
def test_bad_tables_are_one_clear_line(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(InputError, match=message) as info:
        read_ticker_table(path, "shares", minimum=0)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_upper_bound_only(tmp_path):
    path = _write(tmp_path, "ticker,fee_bps\nGME,200000\n")
    with pytest.raises(InputError, match="line 2, column fee_bps: 200000 must be <= 100000"):
        read_ticker_table(path, "fee_bps", maximum=100_000)


def test_messages_never_echo_more_than_an_excerpt_of_the_file(tmp_path):
    path = _write(tmp_path, f"ticker,alpha\nAAPL,{SECRET}\n")
    with pytest.raises(InputError) as info:
        read_ticker_table(path, "alpha")
    assert SECRET[:24] in str(info.value) and SECRET[:25] not in str(info.value)
    path = _write(tmp_path, f"ticker,{SECRET}\nAAPL,1\n")
    with pytest.raises(InputError) as info:
        read_ticker_table(path, "alpha")
    assert SECRET[:40] not in str(info.value)
    path = _write(tmp_path, f"{SECRET}\x1b[2J,alpha\nAAPL,1\n")  # a terminal escape in the header
    with pytest.raises(InputError) as info:
        read_ticker_table(path, "alpha")
    assert "\x1b" not in str(info.value)


def test_a_huge_table_with_every_ticker_twice_gives_a_short_message_fast(tmp_path):
    rows = "".join(f"T{i},{i}\n" for i in range(200_000))
    path = _write(tmp_path, "ticker,shares\n" + rows + rows)
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"200,000 ticker\(s\) appear more than once \(T0, T1.* and 199,992 more"):
        read_ticker_table(path, "shares")
    assert time.perf_counter() - start < 10  # 400,000 rows, vectorised (≈0.5 s on a quiet machine)


def test_groups_as_text_and_universe_lists(tmp_path):
    groups = _write(tmp_path, 'ticker,group\nAAPL,"Tech, hardware"\nJPM,Banks\n')
    assert read_ticker_table(groups, "group", numeric=False) == {"AAPL": "Tech, hardware", "JPM": "Banks"}
    universe = _write(tmp_path, "name,Ticker,sector\nApple,aapl,Tech\nJPMorgan,JPM,Banks\n", "u.csv")
    assert read_ticker_list(universe) == ["AAPL", "JPM"]
    with pytest.raises(InputError, match="no ticker column"):
        read_ticker_list(_write(tmp_path, "symbol\nAAPL\n", "s.csv"))


def test_missing_or_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_ticker_table(tmp_path / "nope.csv", "alpha")
    with pytest.raises(InputError, match="is a directory"):
        read_ticker_table(tmp_path, "alpha")


def test_optional_columns_and_blank_cells(tmp_path):
    path = _write(tmp_path, "quantity,ticker\n5,AAPL\n-3,MSFT\n")
    table = read_csv_table(path, ["ticker", "quantity"], ["price"])
    assert list(table.tickers()) == ["AAPL", "MSFT"] and list(table.numbers("quantity")) == [5.0, -3.0]
    assert "price" not in table.columns and [table.line(0), table.line(1)] == [2, 3]
    assert check_ticker(" brk.b ", "x") == "BRK.B"
