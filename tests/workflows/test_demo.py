"""The synthetic Salesforce CPQ export: exact sizes, realistic shape, files in three formats."""

from __future__ import annotations

import doctest
import re

import fastexcel
import numpy as np
import pandas as pd
import pytest

import custseg._workflows._demo_data as demo
from custseg._config._columns import PRESETS, SALESFORCE_CPQ_FIELDS
from custseg._workflows._demo_data import CONTRACT_ID, CONTRACT_NUMBER, PRODUCT_CODE, generate_cpq_export, write_cpq_export
from custseg._errors import UsageError
from custseg._prep._ids import checksum_letters

CPQ = PRESETS["salesforce-cpq"]
DATE_FORMAT = CPQ.date_format
SMALL = {"n_lines": 3_000, "n_accounts": 200, "n_products": 40, "seed": 7}


@pytest.fixture(scope="module")
def full() -> pd.DataFrame:
    """The default size, the size of the real 2020 export."""
    return generate_cpq_export()


@pytest.fixture(scope="module")
def two_years() -> pd.DataFrame:
    return generate_cpq_export(n_lines=60_000, n_accounts=3_000, years=(2020, 2021), seed=5)


def salesforce_checksum(body: str) -> str:
    """Reference implementation of the 18-character id suffix."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    blocks = (body[i : i + 5] for i in range(0, 15, 5))
    return "".join(alphabet[sum(1 << j for j, c in enumerate(block) if "A" <= c <= "Z")] for block in blocks)


# --------------------------------------------------------------------------- sizes and columns


@pytest.mark.parametrize(
    ("n_lines", "n_accounts", "years"),
    [(1, 1, (2020,)), (5, 5, (2020,)), (10, 1, (2020,)), (1_000, 50, (2020,)), (5_000, 800, (2020,)),
     (3, 3, (2020, 2021, 2022)), (2_000, 700, (2019, 2020, 2021))],
)  # fmt: skip
def test_exact_line_and_account_counts(n_lines, n_accounts, years):
    frame = generate_cpq_export(n_lines=n_lines, n_accounts=n_accounts, n_products=20, years=years, seed=1)
    assert len(frame) == n_lines
    assert frame[CPQ.customer].nunique() == n_accounts
    assert frame[CPQ.order].is_unique


@pytest.mark.parametrize("years", [range(2021, 2023), np.array([2022, 2021]), [2021, 2022]])
def test_years_accept_any_collection_in_any_order(years):
    frame = generate_cpq_export(n_lines=500, n_accounts=40, years=years)
    start_years = pd.to_datetime(frame[CPQ.date], format=DATE_FORMAT).dt.year
    assert set(start_years) == {2021, 2022}
    pd.testing.assert_frame_equal(frame, generate_cpq_export(n_lines=500, n_accounts=40, years=(2021, 2022)))


def test_full_size_counts_and_columns(full):
    assert len(full) == 287_879
    assert full[CPQ.customer].nunique() == 7_747
    assert tuple(full.columns) == SALESFORCE_CPQ_FIELDS
    assert full[CPQ.quantity].dtype == np.float64 and full[CPQ.price].dtype == np.float64
    text_fields = [f for f in SALESFORCE_CPQ_FIELDS if f not in (CPQ.quantity, CPQ.price)]
    for field in text_fields:
        assert pd.api.types.is_string_dtype(full[field]), field
        assert full[field].notna().all(), field


def test_same_seed_same_frame_other_seed_other_frame():
    first = generate_cpq_export(**SMALL)
    pd.testing.assert_frame_equal(first, generate_cpq_export(**SMALL))
    other = generate_cpq_export(**{**SMALL, "seed": 8})
    assert len(other) == len(first)
    assert not other[CPQ.customer].equals(first[CPQ.customer])
    assert not other[CPQ.price].equals(first[CPQ.price])


# --------------------------------------------------------------------------- realism


def test_about_one_percent_of_lines_are_negative(full):
    quantity = full[CPQ.quantity]
    assert 0.005 < (quantity < 0).mean() < 0.02
    assert set(quantity[quantity < 0]) == {-1.0}
    assert (quantity == 1).mean() > 0.9
    assert quantity.max() > 100 and quantity.max() <= demo.MAX_BULK_QUANTITY
    assert (quantity == np.round(quantity)).all() and (quantity != 0).all()


def test_lines_per_account_are_heavy_tailed(full):
    lines = full[CPQ.customer].value_counts()
    top = lines.iloc[: len(lines) // 100]
    assert top.sum() > 0.10 * len(full)
    assert lines.median() < 30
    assert lines.max() > 1_000


def test_prices_are_lognormal_with_expensive_products(full):
    price = full.drop_duplicates(CPQ.product)[CPQ.price]
    assert (full[CPQ.price] > 0).all()
    assert 50 < full[CPQ.price].median() < 500
    assert price.max() > 10 * price.median()


def test_product_popularity_is_skewed(full):
    shares = full[PRODUCT_CODE].value_counts(normalize=True)
    assert 100 < len(shares) <= 300
    assert shares.iloc[:10].sum() > 0.4


def test_behaviours_make_cheap_busy_and_expensive_quiet_accounts(full):
    per_account = full.groupby(CPQ.customer)[CPQ.price].agg(["size", "mean"])
    busy = per_account["size"] >= per_account["size"].quantile(0.9)
    quiet = per_account["size"] <= per_account["size"].quantile(0.3)
    assert per_account.loc[busy, "mean"].median() < per_account.loc[quiet, "mean"].median()
    assert per_account["mean"].quantile(0.9) > 3 * per_account["mean"].quantile(0.1)


def test_dates_are_text_within_the_year_and_end_after_start(full):
    start = pd.to_datetime(full[CPQ.date], format=DATE_FORMAT)
    end = pd.to_datetime(full[CPQ.end_date], format=DATE_FORMAT)
    assert (end >= start).all()
    assert (start.dt.year == 2020).all() and (end.dt.year == 2020).all()
    assert full[CPQ.date].str.fullmatch(r"\d\d/\d\d/\d{4}").all()
    assert start.dt.month.nunique() == 12


def test_ids_look_like_salesforce_ids(full):
    assert full[CPQ.order].str.fullmatch(r"SUB-\d{7}").all()
    assert full[CONTRACT_NUMBER].str.fullmatch(r"CON-\d{9}").all()
    for field, prefix in ((CPQ.customer, "001"), (CONTRACT_ID, "800")):
        ids = pd.Series(full[field].unique())
        assert ids.str.fullmatch(prefix + r"[0-9A-Za-z]{15}").all()
        assert ids.str.upper().is_unique  # 18-character ids are case-insensitively unique
        sample = ids.sample(200, random_state=0)
        assert all(salesforce_checksum(i[:15]) == i[15:] for i in sample)
    assert full[PRODUCT_CODE].str.fullmatch(r"\d{7}[A-Z]{0,3}").all()


def test_salesforce_checksum_matches_a_real_id():
    body = np.frombuffer(b"0011r00002M4hxD", np.uint8).reshape(1, 15)
    assert bytes(checksum_letters(body)[0]) == b"AAR"
    assert salesforce_checksum("0011r00002M4hxD") == "AAR"


def test_each_line_belongs_to_one_of_its_accounts_contracts(full):
    assert full.groupby(CONTRACT_ID)[CPQ.customer].nunique().max() == 1
    assert full.groupby(CONTRACT_ID)[CONTRACT_NUMBER].nunique().max() == 1
    assert full.groupby(CONTRACT_NUMBER)[CONTRACT_ID].nunique().max() == 1
    contracts = full.groupby(CPQ.customer)[CONTRACT_ID].nunique()
    assert contracts.min() == 1 and contracts.max() > 3
    dates = full.groupby(CONTRACT_ID)[CPQ.end_date].nunique()
    assert dates.max() == 1


def test_billing_countries_are_mostly_france(full):
    countries = full[CPQ.country].value_counts(normalize=True)
    assert countries.index[0] == "France" and countries.iloc[0] > 0.6
    assert {"Belgium", "Switzerland", "Luxembourg"} <= set(countries.index)


def test_product_names_labels_and_codes(full):
    products = full.drop_duplicates(PRODUCT_CODE)
    assert products[CPQ.product].str.contains(r"SAC \d+KG").any()
    assert products[CPQ.product].str.contains(r"PRD\d{7}").any()
    assert products[CPQ.product_label].str.fullmatch(r"[A-Z]{4}\d{2}").all()
    assert products.groupby(PRODUCT_CODE)[CPQ.product_label].nunique().max() == 1


def test_several_years_share_accounts_with_churn_and_new_accounts(two_years):
    assert len(two_years) == 60_000
    assert two_years[CPQ.customer].nunique() == 3_000
    assert two_years[CPQ.order].is_unique
    year = pd.to_datetime(two_years[CPQ.date], format=DATE_FORMAT).dt.year
    end_year = pd.to_datetime(two_years[CPQ.end_date], format=DATE_FORMAT).dt.year
    assert (year == end_year).all()
    accounts = {y: set(two_years.loc[year == y, CPQ.customer]) for y in (2020, 2021)}
    kept = accounts[2020] & accounts[2021]
    assert len(kept) > 0.6 * len(accounts[2020])
    assert len(accounts[2020] - accounts[2021]) > 0.02 * len(accounts[2020])  # churned
    assert len(accounts[2021] - accounts[2020]) > 0.02 * len(accounts[2021])  # new
    assert 0.3 < (year == 2020).mean() < 0.7


# --------------------------------------------------------------------------- files


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return generate_cpq_export(**SMALL)


def test_csv_round_trip(tmp_path, small):
    path = write_cpq_export(tmp_path / "sales.csv", **SMALL)
    text_fields = {f: str for f in SALESFORCE_CPQ_FIELDS if f not in (CPQ.quantity, CPQ.price)}
    back = pd.read_csv(path, dtype=text_fields, encoding="utf-8")
    assert tuple(back.columns) == SALESFORCE_CPQ_FIELDS
    pd.testing.assert_frame_equal(back, small, check_dtype=False)
    assert back[CPQ.date].str.fullmatch(r"\d\d/\d\d/\d{4}").all()


def test_parquet_round_trip_has_date32_columns(tmp_path, small):
    import pyarrow.parquet as pq

    path = write_cpq_export(tmp_path / "sales.parquet", **SMALL)
    table = pq.read_table(path)
    assert str(table.schema.field(CPQ.date).type) == "date32[day]"
    assert str(table.schema.field(CPQ.quantity).type) == "double"
    back = pd.read_parquet(path)
    assert len(back) == len(small) and back[CPQ.customer].nunique() == small[CPQ.customer].nunique()
    for field in (CPQ.date, CPQ.end_date):
        back[field] = pd.to_datetime(back[field]).dt.strftime(DATE_FORMAT)
    pd.testing.assert_frame_equal(back, small, check_dtype=False)


def test_xlsx_round_trip_has_real_date_cells(tmp_path, small):
    path = write_cpq_export(tmp_path / "sales.xlsx", **SMALL)
    reader = fastexcel.read_excel(str(path))
    assert reader.sheet_names == [demo.XLSX_SHEET]
    back = reader.load_sheet_by_name(demo.XLSX_SHEET).to_pandas()
    assert tuple(back.columns) == SALESFORCE_CPQ_FIELDS
    assert len(back) == len(small) and back[CPQ.customer].nunique() == small[CPQ.customer].nunique()
    for field in (CPQ.date, CPQ.end_date):
        assert pd.api.types.is_datetime64_any_dtype(back[field]), back[field].dtype
        assert (back[field].dt.strftime(DATE_FORMAT) == small[field]).all()
    assert back[PRODUCT_CODE].tolist() == small[PRODUCT_CODE].tolist()  # digit-only codes stay text
    np.testing.assert_array_equal(back[CPQ.price].to_numpy(), small[CPQ.price].to_numpy())


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_files_are_deterministic(tmp_path, suffix):
    first = write_cpq_export(tmp_path / f"a{suffix}", **SMALL)
    second = write_cpq_export(tmp_path / f"b{suffix}", **SMALL)
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_chunked_writing_gives_the_same_rows(tmp_path, suffix):
    args = {"n_lines": 1_000, "n_accounts": 90, "years": (2020, 2021), "seed": 3}
    whole = write_cpq_export(tmp_path / f"whole{suffix}", **args)
    chunked = write_cpq_export(tmp_path / f"chunked{suffix}", chunk_lines=7, **args)
    if suffix == ".parquet":
        pd.testing.assert_frame_equal(pd.read_parquet(chunked), pd.read_parquet(whole))
    else:
        assert chunked.read_bytes() == whole.read_bytes()


def test_blocks_inside_a_chunk_do_not_change_rows(monkeypatch):
    args = {"n_lines": 2_000, "n_accounts": 100, "seed": 4}
    whole = generate_cpq_export(**args)
    monkeypatch.setattr(demo, "BLOCK_LINES", 13)
    pd.testing.assert_frame_equal(generate_cpq_export(**args), whole)


def test_write_leaves_only_the_finished_file(tmp_path):
    path = write_cpq_export(tmp_path / "new" / "sales.csv", n_lines=100, n_accounts=10)
    assert [p.name for p in path.parent.iterdir()] == ["sales.csv"]


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def fail_midway(target, universe, slices):
        target.write_text("partial")
        raise RuntimeError("killed")

    monkeypatch.setitem(demo.WRITERS, ".csv", fail_midway)
    with pytest.raises(RuntimeError, match="killed"):
        write_cpq_export(tmp_path / "sales.csv", n_lines=100, n_accounts=10)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n_lines": 5, "n_accounts": 10}, "n_accounts=10 must be <= n_lines=5"),
        ({"n_lines": 0, "n_accounts": 1}, "n_lines=0 must be >= 1"),
        ({"n_lines": 10, "n_accounts": 0}, "n_accounts=0 must be >= 1"),
        ({"n_lines": 10, "n_accounts": 2, "n_products": 0}, "n_products=0 must be >= 1"),
        ({"n_lines": 10.5, "n_accounts": 2}, "n_lines must be an integer, got 10.5"),
        ({"n_lines": True, "n_accounts": 1}, "n_lines must be an integer, got True"),
        ({"n_lines": 10, "n_accounts": 2, "years": ()}, "years must be a non-empty sequence of years, got ()"),
        ({"n_lines": 10, "n_accounts": 2, "years": "2020"}, "years must be a non-empty sequence of years, got '2020'"),
        ({"n_lines": 10, "n_accounts": 2, "years": (2020, 2020)}, "years=[2020, 2020] must not repeat a year"),
        ({"n_lines": 10, "n_accounts": 2, "years": (20,)}, "year=20 must be >= 1901"),
        ({"n_lines": 10, "n_accounts": 2, "seed": -1}, "seed=-1 must be >= 0"),
    ],
)
def test_invalid_arguments_raise_usage_error(tmp_path, arguments, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        generate_cpq_export(**arguments)
    with pytest.raises(UsageError, match=re.escape(message)):
        write_cpq_export(tmp_path / "sales.csv", **arguments)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("sales.txt", {}, "unknown extension '.txt', use one of .csv, .parquet, .xlsx"),
        ("sales", {}, "unknown extension '', use one of .csv, .parquet, .xlsx"),
        ("sales.csv", {"chunk_lines": 0}, "chunk_lines=0 must be >= 1"),
        ("sales.xlsx", {"n_lines": 1_048_576, "n_accounts": 10}, "n_lines=1048576 does not fit in an .xlsx sheet"),
    ],
)
def test_invalid_files_raise_usage_error(tmp_path, name, arguments, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        write_cpq_export(tmp_path / name, **{"n_lines": 10, "n_accounts": 2, **arguments})
    assert list(tmp_path.iterdir()) == []


def test_docstring_examples_run():
    failures, tried = doctest.testmod(demo, raise_on_error=False)
    assert tried >= 4 and failures == 0
