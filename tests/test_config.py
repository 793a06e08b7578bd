"""TOML loading and validation pattern (astra.config)."""

import pytest

from astra.config import Table, parse_source, read_toml
from astra.errors import InputError


def test_read_toml_errors(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_toml(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[account\nequity = 1\n")
    with pytest.raises(InputError, match="not valid TOML"):
        read_toml(bad)


def test_table_fields_name_the_path():
    t = Table({"account": {"equity": "lots", "neg": -1}}, "")
    acct = t.table("account")
    with pytest.raises(InputError, match=r"account.equity: expected a number, got 'lots'"):
        acct.number("equity")
    with pytest.raises(InputError, match=r"account.neg: -1 must be >= 0"):
        acct.number("neg", minimum=0)
    with pytest.raises(InputError, match=r"account.cash: required field is missing"):
        acct.number("cash")
    assert acct.number("cash", 5.0) == 5.0
    with pytest.raises(InputError, match="not a finite number"):
        Table({"x": float("nan")}, "t").number("x")


def test_parse_source():
    assert parse_source("sample").kind == "sample"
    spec = parse_source("csv:/tmp/p.csv")
    assert spec.kind == "csv" and str(spec.path) == "/tmp/p.csv"
    for bad in ("csv", "sample:x", "ftp:/x"):
        with pytest.raises(InputError):
            parse_source(bad)


def test_read_toml_encodings(tmp_path):
    path = tmp_path / "b.toml"
    path.write_bytes(b'\xef\xbb\xbf[account]\nname = "x"\n')  # a byte-order mark, as Windows editors write
    assert read_toml(path) == {"account": {"name": "x"}}
    path.write_bytes('[account]\nname = "Société"\n'.encode("latin-1"))
    # '[account]\n' is 10 bytes, 'name = "Soci' 12 more: é (0xe9 in Latin-1) is byte 22
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 22 is 0xe9\)"):
        read_toml(path)


def test_unknown_fields_suggest_the_closest_name():
    account = Table({"margn": "portfolio", "equity": 1}, "account")
    with pytest.raises(InputError, match=r"account.margn: unknown field; did you mean 'margin'\? \(known: equity, "):
        account.check_fields(("equity", "margin", "name"))
    with pytest.raises(InputError, match=r"account.zzz: unknown field \(known"):
        Table({"zzz": 1}, "account").check_fields(("equity",))


def test_numbers_beyond_float_range_and_long_values_are_short():
    with pytest.raises(InputError, match=r"t.x: 10+… is too large"):
        Table({"x": 10**400}, "t").number("x")
    with pytest.raises(InputError) as info:
        Table({"x": "y" * 10_000}, "t").number("x")
    assert len(str(info.value)) < 100
