"""TOML loading and validation pattern (astra.config)."""

import pytest

from astra.config import Table, load_desk, parse_source, read_toml
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


def test_load_desk(tmp_path):
    path = tmp_path / "astra.toml"
    path.write_text('[desk]\ncache_dir = "/tmp/c"\nsource = "yahoo"\nbenchmark_rate = "irx"\n')
    desk = load_desk(path)
    assert str(desk.cache_dir) == "/tmp/c" and desk.default_source.kind == "yahoo"
    path.write_text('[desk]\nsource = "ftp"\n')
    with pytest.raises(InputError, match="--source 'ftp'"):
        load_desk(path)
