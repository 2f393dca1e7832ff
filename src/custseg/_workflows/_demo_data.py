"""Synthetic Salesforce CPQ subscription exports shaped like the real one, for demos and tests.

One row per subscription line (`SBQQ__Subscription__c`), in the export's column order.
The generator first draws a small "universe" (products, accounts, contracts and how many
lines each contract holds: O(accounts + contracts) memory), then builds any slice of lines
from it. Per-line randomness is a hash of (seed, line number), so a slice is the same
whichever chunk it is built in: chunked files hold exactly the rows of a single chunk.
"""

from __future__ import annotations

import datetime as dt
import numbers
import os
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from .._config._columns import PRESETS, SALESFORCE_CPQ_FIELDS
from .._errors import UsageError
from .._prep._ids import checksum_letters

CPQ = PRESETS["salesforce-cpq"]
# The three export fields that play no role, in export order.
PRODUCT_CODE, CONTRACT_ID, CONTRACT_NUMBER = (f for f in SALESFORCE_CPQ_FIELDS if f not in CPQ.roles().values())
DATE_FIELDS = (CPQ.date, CPQ.end_date)
FLOAT_FIELDS = (CPQ.quantity, CPQ.price)

DEFAULT_N_LINES = 287_879
DEFAULT_N_ACCOUNTS = 7_747
DEFAULT_N_PRODUCTS = 300
DEFAULT_CHUNK_LINES = 2_000_000
XLSX_MAX_LINES = 1_048_575  # Excel's 1,048,576 rows minus the header
XLSX_SHEET = "Sales"
EXCEL_DATE_FORMAT = "dd/mm/yyyy"
EXCEL_EPOCH_OFFSET_DAYS = 25_569  # 1970-01-01 as an Excel serial day number
FORMATS = (".csv", ".parquet", ".xlsx")


@dataclass(frozen=True)
class Behaviour:
    """A latent way of buying; accounts of one behaviour form a cluster."""

    name: str
    account_share: float
    lines_factor: float  # multiplies the account's heavy-tailed activity
    price_affinity: float  # exponent of the list price in the product choice
    bulk_rate: float  # share of lines with a quantity of 2..200
    discount: float  # mean contract discount


BEHAVIOURS = (
    Behaviour("volume", 0.25, 3.0, -1.2, 0.010, 0.10),
    Behaviour("premium", 0.15, 0.3, 1.5, 0.002, 0.03),
    Behaviour("regular", 0.45, 1.0, 0.0, 0.005, 0.05),
    Behaviour("bulk", 0.15, 0.8, -0.3, 0.100, 0.08),
)
NEGATIVE_RATE = 0.01  # lines with quantity -1 (credits), as in the real export
MAX_BULK_QUANTITY = 200
ACTIVITY_SIGMA = 1.6  # lognormal spread of lines per account
YEARLY_ACTIVITY_SIGMA = 0.3
BEHAVIOUR_SWITCH_RATE = 0.05  # per later year
NEW_ACCOUNT_RATE = 0.12  # share of accounts first seen in each later year
CHURN_RATE = 0.10  # share of active accounts that leave after each year
PRICE_DRIFT = 0.03  # list prices rise 3% a year
SHIFTED_START_RATE = 0.15  # lines added to a running contract start later than it
COUNTRIES = {
    "France": 0.800,
    "Belgium": 0.060,
    "Switzerland": 0.040,
    "Luxembourg": 0.025,
    "Germany": 0.020,
    "Spain": 0.015,
    "Italy": 0.015,
    "Morocco": 0.010,
    "Netherlands": 0.008,
    "United Kingdom": 0.007,
}
BRANDS = (
    "SUPRABLANC", "TRACHIMUR", "ULTRACEM", "BLANCOR", "MAXIROC", "PROMPTIS", "CALCIFORT", "HYDROLIT",
    "GRANULEX", "BETOMIX", "CHAUXAL", "PLATRIX", "RAPIDUR", "SILIMAR", "FONDALIT", "ECOCEM", "MORTIX",
    "ENDUIRO", "GENAMUR", "DURALIS",
)  # fmt: skip
GRADES = ("42,5", "52,5 N", "32,5 R", "CEM II/A 42,5 R", "CEM I 52,5 N", "PLUS", "PM-ES", "CE+", "MULTI", "")
PACKS = ("SAC 25KG", "SAC 35KG", "SAC 5KG", "VRAC", "BIG BAG 1,5T", "SILO", "PALETTE")
PALLETS = ("P 1,470T", "P 1,575T", "P 1,050T", "", "", "")
BASE62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)
ACCOUNT_ID_PREFIX = "0011r0"  # key prefix 001 (Account), pod 1r, reserved 0
CONTRACT_ID_PREFIX = "800690"  # key prefix 800 (Contract)
ACCOUNT_ID_BASE = (2 * 62 + 22) * 62**4  # "0002M0000" in base 62, like 0011r00002M4hxDAAR
CONTRACT_ID_BASE = 10 * 62**4  # "0000A0000", like 8006900000AnAntAAN
N_LINE_STREAMS = 4  # independent uniforms per line: product, quantity, bulk size, start shift
BLOCK_LINES = 1 << 17  # lines built at once inside a chunk: bounds the temporary arrays


def generate_cpq_export(
    n_lines: int = DEFAULT_N_LINES,
    n_accounts: int = DEFAULT_N_ACCOUNTS,
    n_products: int = DEFAULT_N_PRODUCTS,
    years: Sequence[int] = (2020,),
    seed: int = 0,
) -> pd.DataFrame:
    """A synthetic CPQ subscription export: exactly `n_lines` rows and `n_accounts` accounts.

    Columns are `SALESFORCE_CPQ_FIELDS` in order; ids and dates (``dd/mm/yyyy``) are text,
    quantity and net price float64. `n_lines` and `n_accounts` are totals over `years`.

    >>> frame = generate_cpq_export(n_lines=1_000, n_accounts=50, seed=1)
    >>> frame.shape, frame[CPQ.customer].nunique()
    ((1000, 12), 50)
    """
    n_lines, n_accounts, n_products, years, seed = _validate(n_lines, n_accounts, n_products, years, seed)
    universe = _universe(n_lines, n_accounts, n_products, years, seed)
    return _arrow_chunk(universe, 0, n_lines, dates_as_text=True).to_pandas()


def write_cpq_export(
    path: str | Path,
    n_lines: int = DEFAULT_N_LINES,
    n_accounts: int = DEFAULT_N_ACCOUNTS,
    n_products: int = DEFAULT_N_PRODUCTS,
    years: Sequence[int] = (2020,),
    seed: int = 0,
    chunk_lines: int = DEFAULT_CHUNK_LINES,
) -> Path:
    """Write the export of `generate_cpq_export` to .csv, .parquet or .xlsx, `chunk_lines` at a time.

    CSV: comma, UTF-8, '.' decimals, dates as ``dd/mm/yyyy`` text. Parquet: dates as date32.
    Excel: sheet "Sales", dates as date cells. The file appears only once complete.

    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "sales.parquet"
    >>> write_cpq_export(target, n_lines=1_000, n_accounts=50) == target
    True
    """
    n_lines, n_accounts, n_products, years, seed = _validate(n_lines, n_accounts, n_products, years, seed)
    chunk_lines = _check_int("chunk_lines", chunk_lines, minimum=1)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"cannot write {path}: unknown extension {path.suffix!r}, use one of {', '.join(FORMATS)}")
    if suffix == ".xlsx" and n_lines > XLSX_MAX_LINES:
        raise UsageError(
            f"n_lines={n_lines} does not fit in an .xlsx sheet (at most {XLSX_MAX_LINES} lines); write .csv or .parquet"
        )
    universe = _universe(n_lines, n_accounts, n_products, years, seed)
    slices = _slices(0, n_lines, chunk_lines)
    with _staged_file(path) as partial:
        WRITERS[suffix](partial, universe, slices)
    return path


# --------------------------------------------------------------------------- validation


def _check_int(name: str, value: object, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise UsageError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < minimum:
        raise UsageError(f"{name}={value} must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise UsageError(f"{name}={value} must be <= {maximum}")
    return value


def _validate(n_lines, n_accounts, n_products, years, seed) -> tuple[int, int, int, tuple[int, ...], int]:
    n_lines = _check_int("n_lines", n_lines, minimum=1)
    n_accounts = _check_int("n_accounts", n_accounts, minimum=1)
    if n_accounts > n_lines:
        raise UsageError(f"n_accounts={n_accounts} must be <= n_lines={n_lines}")
    n_products = _check_int("n_products", n_products, minimum=1)
    if isinstance(years, (str, bytes)) or not isinstance(years, Iterable) or not len(years := tuple(years)):
        raise UsageError(f"years must be a non-empty sequence of years, got {years!r}")
    checked = tuple(sorted(_check_int("year", year, minimum=1901, maximum=9998) for year in years))
    if len(set(checked)) != len(checked):
        raise UsageError(f"years={list(years)} must not repeat a year")
    seed = _check_int("seed", seed, minimum=0)
    return n_lines, n_accounts, n_products, checked, seed


def _slices(start: int, stop: int, size: int) -> list[tuple[int, int]]:
    """[start, stop) cut into consecutive ranges of at most `size` lines."""
    return [(first, min(first + size, stop)) for first in range(start, stop, size)]


# --------------------------------------------------------------------------- the universe


@dataclass(frozen=True)
class _Universe:
    years: tuple[int, ...]
    n_products: int
    line_key: np.uint64
    first_name_number: int
    name_width: int
    product_cdf: np.ndarray  # (behaviours * products,): row b holds b + cumulative probabilities
    product_price: np.ndarray
    product_name: pa.Array
    product_label: pa.Array
    product_code: pa.Array
    first_day: int  # 1 January of the first year, days since 1970-01-01
    day_text: pa.Array  # dd/mm/yyyy of every day from first_day to 31 December of the last year
    account_id: pa.Array
    contract_stop: np.ndarray  # cumulative line count: contract k holds lines [stop[k-1], stop[k])
    contract_account: np.ndarray
    contract_year: np.ndarray  # index into `years`
    contract_behaviour: np.ndarray
    contract_start: np.ndarray  # days since 1970-01-01
    contract_end: np.ndarray
    contract_discount: np.ndarray
    contract_country: np.ndarray  # index into COUNTRIES
    contract_id: pa.Array
    contract_number: pa.Array


def _universe(n_lines: int, n_accounts: int, n_products: int, years: tuple[int, ...], seed: int) -> _Universe:
    universe_seed, line_seed = np.random.SeedSequence(seed).spawn(2)
    rng = np.random.default_rng(universe_seed)
    products = _products(rng, n_products)
    accounts = _accounts(rng, n_accounts, len(years))
    slot_lines = _lines_per_slot(rng, n_lines, accounts)
    contracts = _contracts(rng, slot_lines, accounts, years)
    first_name_number = int(rng.integers(100_000, 700_000))
    return _Universe(
        years=years,
        n_products=n_products,
        line_key=line_seed.generate_state(1, dtype=np.uint64)[0],
        first_name_number=first_name_number,
        name_width=max(7, len(str(first_name_number + n_lines - 1))),
        **products,
        first_day=int(np.datetime64(f"{years[0]}-01-01", "D").astype(np.int64)),
        day_text=pa.array(pd.date_range(f"{years[0]}-01-01", f"{years[-1]}-12-31").strftime("%d/%m/%Y"), pa.string()),
        account_id=accounts["id"],
        **contracts,
    )


def _products(rng: np.random.Generator, n_products: int) -> dict:
    log_price = np.log(180.0) + 0.8 * rng.standard_normal(n_products)
    expensive = rng.random(n_products) < 0.06
    log_price[expensive] += rng.uniform(1.5, 3.0, expensive.sum())
    price = np.maximum(np.round(np.exp(log_price), 2), 1.0)
    popularity = (rng.permutation(n_products) + 1.0) ** -1.1  # Zipf over a random ranking
    affinity = np.array([b.price_affinity for b in BEHAVIOURS])
    weights = popularity * (price / np.median(price)) ** affinity[:, None]
    cdf = np.minimum(np.cumsum(weights, axis=1) / weights.sum(axis=1, keepdims=True), 1.0)
    cdf[:, -1] = 1.0
    product_cdf = (cdf + np.arange(len(BEHAVIOURS))[:, None]).ravel()

    codes = 1_400_000 + np.cumsum(rng.integers(1, 40, n_products))
    lettered = rng.random(n_products) < 0.08
    brand = rng.integers(0, len(BRANDS), n_products)
    grade = rng.integers(0, len(GRADES), n_products)
    pack = rng.integers(0, len(PACKS), n_products)
    pallet = rng.integers(0, len(PALLETS), n_products)
    coded_name = rng.random(n_products) < 0.15
    letters = rng.integers(ord("A"), ord("Z") + 1, (n_products, 3))
    variant = np.zeros(n_products, dtype=np.int64)
    for b in range(len(BRANDS)):  # a brand's products are its variants 01, 02, ...
        mask = brand == b
        variant[mask] = np.arange(1, mask.sum() + 1)
    names, labels, code_texts = [], [], []
    for i in range(n_products):  # O(n_products), once
        brand_code = BRANDS[brand[i]][:4]
        code = str(codes[i]) + ("".join(map(chr, letters[i])) if lettered[i] else "")
        if coded_name[i]:
            names.append(f"{brand_code}PRD{codes[i]}")
        else:
            words = (BRANDS[brand[i]], GRADES[grade[i]], PACKS[pack[i]], PALLETS[pallet[i]])
            names.append(" ".join(word for word in words if word))
        labels.append(f"{brand_code}{variant[i]:02d}")
        code_texts.append(code)
    return {
        "product_cdf": product_cdf,
        "product_price": price,
        "product_name": pa.array(names, pa.string()),
        "product_label": pa.array(labels, pa.string()),
        "product_code": pa.array(code_texts, pa.string()),
    }


def _accounts(rng: np.random.Generator, n_accounts: int, n_years: int) -> dict:
    activity = rng.lognormal(0.0, ACTIVITY_SIGMA, n_accounts)
    shares = np.array([b.account_share for b in BEHAVIOURS])
    behaviour = np.empty((n_years, n_accounts), dtype=np.int8)
    behaviour[0] = rng.choice(len(BEHAVIOURS), n_accounts, p=shares / shares.sum())
    for year in range(1, n_years):  # a few accounts change behaviour each year
        switch = rng.random(n_accounts) < BEHAVIOUR_SWITCH_RATE
        redrawn = rng.choice(len(BEHAVIOURS), n_accounts, p=shares / shares.sum())
        behaviour[year] = np.where(switch, redrawn, behaviour[year - 1])
    new_share = min(NEW_ACCOUNT_RATE * (n_years - 1), 0.5)
    first_year = np.where(rng.random(n_accounts) < new_share, rng.integers(1, max(n_years, 2), n_accounts), 0)
    first_year = np.minimum(first_year, n_years - 1)
    last_year = np.minimum(first_year + rng.geometric(CHURN_RATE, n_accounts) - 1, n_years - 1)
    countries = np.array(list(COUNTRIES.values()))
    country = rng.choice(len(countries), n_accounts, p=countries / countries.sum())
    # Ids increase with creation: accounts first seen later were created later.
    creation_order = np.lexsort((rng.random(n_accounts), first_year))
    id_numbers = np.empty(n_accounts, dtype=np.int64)
    id_numbers[creation_order] = ACCOUNT_ID_BASE + np.cumsum(rng.integers(1, 2_000, n_accounts))
    return {
        "activity": activity,
        "behaviour": behaviour,
        "first_year": first_year,
        "last_year": last_year,
        "country": country,
        "id": _salesforce_ids(ACCOUNT_ID_PREFIX, id_numbers),
    }


def _lines_per_slot(rng: np.random.Generator, n_lines: int, accounts: dict) -> np.ndarray:
    """Lines of each (year, account) slot, shape (years, accounts): sums to n_lines, >= 1 per account."""
    n_years, n_accounts = accounts["behaviour"].shape
    year = np.arange(n_years)[:, None]
    active = (accounts["first_year"] <= year) & (year <= accounts["last_year"])
    lines_factor = np.array([b.lines_factor for b in BEHAVIOURS])[accounts["behaviour"]]
    noise = rng.lognormal(0.0, YEARLY_ACTIVITY_SIGMA, active.shape)
    weight = np.where(active, accounts["activity"] * lines_factor * noise, 0.0)
    if n_lines >= active.sum():
        floor = active.astype(np.int64)  # every active year has a line
    else:
        floor = np.zeros(active.shape, dtype=np.int64)
        floor[accounts["first_year"], np.arange(n_accounts)] = 1
    extra = rng.multinomial(n_lines - floor.sum(), (weight / weight.sum()).ravel())
    return floor + extra.reshape(active.shape)


def _contracts(rng: np.random.Generator, slot_lines: np.ndarray, accounts: dict, years: tuple[int, ...]) -> dict:
    """Each slot's lines split over 1..several contracts of that year, every contract >= 1 line."""
    n_accounts = slot_lines.shape[1]
    lines = slot_lines.ravel()
    wanted = 1 + rng.poisson(0.5 * np.log1p(lines))
    per_slot = np.where(lines > 0, np.minimum(np.minimum(wanted, 12), lines), 0)
    slot = np.repeat(np.arange(lines.size), per_slot)
    share = rng.exponential(1.0, slot.size)
    share /= np.bincount(slot, weights=share, minlength=lines.size)[slot]
    contract_lines = 1 + np.floor(share * (lines - per_slot)[slot]).astype(np.int64)
    first_of_slot = np.flatnonzero(np.r_[True, slot[1:] != slot[:-1]])
    contract_lines[first_of_slot] += lines[per_slot > 0] - np.add.reduceat(contract_lines, first_of_slot)

    n = slot.size
    year_index, account = np.divmod(slot, n_accounts)
    behaviour = accounts["behaviour"].ravel()[slot]
    start, end = _contract_dates(rng, np.asarray(years)[year_index])
    discount = np.array([b.discount for b in BEHAVIOURS])[behaviour] * rng.uniform(0.5, 1.5, n)
    moved = rng.random(n) < 0.03  # a few contracts billed to another country
    country = np.where(moved, rng.integers(0, len(COUNTRIES), n), accounts["country"][account])
    id_numbers = CONTRACT_ID_BASE + np.cumsum(rng.integers(1, 500, n))
    contract_numbers = 171_000 + np.cumsum(rng.integers(1, 4, n))
    return {
        "contract_stop": np.cumsum(contract_lines),
        "contract_account": account.astype(np.int32),
        "contract_year": year_index.astype(np.int16),
        "contract_behaviour": behaviour,
        "contract_start": start,
        "contract_end": end,
        "contract_discount": discount,
        "contract_country": country.astype(np.int8),
        "contract_id": _salesforce_ids(CONTRACT_ID_PREFIX, id_numbers),
        "contract_number": _numbered("CON-", contract_numbers, 9),
    }


def _contract_dates(rng: np.random.Generator, year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (days since 1970-01-01) within `year`: a few months to a year, end >= start."""
    n = year.size
    month = np.where(rng.random(n) < 0.35, 0, rng.integers(0, 12, n))
    day = np.where(rng.random(n) < 0.85, 0, rng.integers(0, 28, n))
    months = rng.choice(np.array([3, 6, 9, 12]), n, p=[0.15, 0.30, 0.15, 0.40])
    first_month = (year - 1970) * 12 + month
    start = first_month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + day
    end = (first_month + months).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + day - 1
    year_end = (year - 1970 + 1).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64) - 1
    end = np.minimum(end, year_end) - np.where(rng.random(n) < 0.3, rng.integers(0, 6, n), 0)
    return start.astype(np.int32), np.maximum(end, start).astype(np.int32)


# --------------------------------------------------------------------------- lines


def _uniform(key: np.uint64, lines: np.ndarray, stream: int) -> np.ndarray:
    """Uniform [0, 1) numbers depending only on (key, line, stream): splitmix64 of a counter."""
    x = lines.astype(np.uint64) * np.uint64(N_LINE_STREAMS) + np.uint64(stream) + key
    x += np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _line_columns(u: _Universe, start: int, stop: int) -> dict[str, object]:
    """Lines [start, stop) as field -> array; dates are int32 days since 1970-01-01."""
    lines = np.arange(start, stop, dtype=np.int64)
    contract = np.searchsorted(u.contract_stop, lines, side="right")
    behaviour = u.contract_behaviour[contract].astype(np.int64)
    product = np.searchsorted(u.product_cdf, behaviour + _uniform(u.line_key, lines, 0), side="right")
    product = np.clip(product - behaviour * u.n_products, 0, u.n_products - 1)

    draw = _uniform(u.line_key, lines, 1)
    bulk_rate = np.array([b.bulk_rate for b in BEHAVIOURS])[behaviour]
    size = 2 + np.floor((MAX_BULK_QUANTITY - 1) * _uniform(u.line_key, lines, 2) ** 3)
    quantity = np.where(draw < NEGATIVE_RATE, -1.0, np.where(draw < NEGATIVE_RATE + bulk_rate, size, 1.0))

    drift = (1.0 + PRICE_DRIFT) ** u.contract_year[contract]
    price = np.round(u.product_price[product] * drift * (1.0 - u.contract_discount[contract]), 2)

    contract_start, end = u.contract_start[contract], u.contract_end[contract]
    shift = _uniform(u.line_key, lines, 3)
    later = shift < SHIFTED_START_RATE
    offset = np.floor(shift / SHIFTED_START_RATE * (end - contract_start + 1)).astype(np.int32)
    line_start = np.where(later, contract_start + offset, contract_start)

    names = _numbered("SUB-", u.first_name_number + lines, u.name_width)
    country_names = pa.array(list(COUNTRIES), pa.string())
    columns = {
        CPQ.order: names,
        CPQ.product: u.product_name.take(product),
        CPQ.quantity: quantity,
        CPQ.product_label: u.product_label.take(product),
        PRODUCT_CODE: u.product_code.take(product),
        CPQ.customer: u.account_id.take(u.contract_account[contract]),
        CONTRACT_ID: u.contract_id.take(contract),
        CONTRACT_NUMBER: u.contract_number.take(contract),
        CPQ.date: line_start,
        CPQ.end_date: end,
        CPQ.price: price,
        CPQ.country: country_names.take(u.contract_country[contract]),
    }
    return {field: columns[field] for field in SALESFORCE_CPQ_FIELDS}


def _arrow_chunk(u: _Universe, start: int, stop: int, dates_as_text: bool) -> pa.Table:
    """Lines [start, stop) as an Arrow table, built BLOCK_LINES at a time; dates as text or date32."""
    blocks = []
    for first, last in _slices(start, stop, BLOCK_LINES):
        columns = _line_columns(u, first, last)
        for field in DATE_FIELDS:
            days = columns[field]
            columns[field] = u.day_text.take(days - u.first_day) if dates_as_text else pa.array(days, pa.date32())
        blocks.append(pa.table(list(columns.values()), names=list(columns)))
    return pa.concat_tables(blocks)


# --------------------------------------------------------------------------- text helpers


def _ascii(text: str, n: int) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(text.encode("ascii"), np.uint8), (n, len(text)))


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) ASCII decimal digits, zero padded."""
    out = np.empty((len(values), width), dtype=np.uint8)
    rest = np.asarray(values, dtype=np.int64).copy()
    for position in range(width - 1, -1, -1):
        out[:, position] = ord("0") + rest % 10
        rest //= 10
    return out


def _numbered(prefix: str, values: np.ndarray, width: int) -> pa.Array:
    """Strings like "CON-000171454": `prefix` then `values` zero padded to `width` digits."""
    return _fixed_width_strings(np.hstack([_ascii(prefix, len(values)), _digits(values, width)]))


def _base62(values: np.ndarray, width: int) -> np.ndarray:
    out = np.empty((len(values), width), dtype=np.uint8)
    rest = np.asarray(values, dtype=np.int64).copy()
    for position in range(width - 1, -1, -1):
        out[:, position] = BASE62[rest % 62]
        rest //= 62
    return out


def _salesforce_ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    """18-character Salesforce ids: 6-char prefix, 9 base-62 digits of `numbers`, checksum."""
    body = np.hstack([_ascii(prefix, len(numbers)), _base62(numbers, 15 - len(prefix))])
    return _fixed_width_strings(np.hstack([body, checksum_letters(body)]))


def _fixed_width_strings(chars: np.ndarray) -> pa.Array:
    """Arrow strings from an (n, width) uint8 matrix, without a Python object per row."""
    n, width = chars.shape
    offsets = np.arange(n + 1, dtype=np.int64) * width
    data = pa.py_buffer(np.ascontiguousarray(chars, dtype=np.uint8))
    if offsets[-1] < 2**31:
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), data)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), data)


# --------------------------------------------------------------------------- writers


@contextmanager
def _staged_file(path: Path) -> Iterator[Path]:
    """Yield a hidden temporary path beside `path`; it replaces `path` only on success."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create directory {path.parent}: {exc.strerror or exc}") from None
    partial = path.with_name(f".{path.stem}.partial-{secrets.token_hex(4)}{path.suffix}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _write_arrow(target: Path, u: _Universe, slices: list[tuple[int, int]], writer_class, dates_as_text: bool) -> None:
    writer = None
    try:
        for start, stop in slices:
            chunk = _arrow_chunk(u, start, stop, dates_as_text=dates_as_text)
            if writer is None:
                writer = writer_class(str(target), chunk.schema)
            writer.write_table(chunk)
    finally:
        if writer is not None:
            writer.close()


def _write_csv(target: Path, u: _Universe, slices: list[tuple[int, int]]) -> None:
    _write_arrow(target, u, slices, pa_csv.CSVWriter, dates_as_text=True)


def _write_parquet(target: Path, u: _Universe, slices: list[tuple[int, int]]) -> None:
    _write_arrow(target, u, slices, pq.ParquetWriter, dates_as_text=False)


def _write_xlsx(target: Path, u: _Universe, slices: list[tuple[int, int]]) -> None:
    import xlsxwriter

    inert = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    workbook = xlsxwriter.Workbook(str(target), {"constant_memory": True, **inert})
    workbook.set_properties({"created": dt.datetime(u.years[-1] + 1, 1, 1)})  # same bytes on every run
    sheet = workbook.add_worksheet(XLSX_SHEET)
    date_format = workbook.add_format({"num_format": EXCEL_DATE_FORMAT})
    sheet.write_row(0, 0, SALESFORCE_CPQ_FIELDS)
    writers = []
    for field in SALESFORCE_CPQ_FIELDS:
        if field in DATE_FIELDS:
            writers.append(lambda row, col, value: sheet.write_number(row, col, value, date_format))
        elif field in FLOAT_FIELDS:
            writers.append(sheet.write_number)
        else:
            writers.append(sheet.write_string)
    try:
        blocks = [block for start, stop in slices for block in _slices(start, stop, BLOCK_LINES)]
        for start, stop in blocks:  # one block's cells as Python objects at a time
            columns = _line_columns(u, start, stop)
            values = [
                (columns[f] + EXCEL_EPOCH_OFFSET_DAYS).tolist() if f in DATE_FIELDS else _to_list(columns[f])
                for f in SALESFORCE_CPQ_FIELDS
            ]
            for row, cells in enumerate(zip(*values), start=start + 1):
                for col, (write, value) in enumerate(zip(writers, cells)):
                    write(row, col, value)
    finally:
        workbook.close()


def _to_list(values: object) -> list:
    return values.to_pylist() if isinstance(values, pa.Array) else values.tolist()


WRITERS = {".csv": _write_csv, ".parquet": _write_parquet, ".xlsx": _write_xlsx}  # keys are FORMATS


def write_yearly_exports(folder: str | Path, years: Sequence[int], file_format: str = "xlsx", n_lines: int = DEFAULT_N_LINES,
                         n_accounts: int = DEFAULT_N_ACCOUNTS, seed: int = 0) -> list[Path]:
    """One export per year (`sales_2020.xlsx`, ...) from a single multi-year account universe.

    >>> write_yearly_exports("demo", [2020, 2021], "csv", n_lines=2_000, n_accounts=100)  # doctest: +SKIP
    [PosixPath('demo/sales_2020.csv'), PosixPath('demo/sales_2021.csv')]
    """
    years = tuple(years)
    folder = Path(folder)
    if f".{file_format}" not in FORMATS:
        raise UsageError(f"unknown format {file_format!r}, use one of {', '.join(f[1:] for f in FORMATS)}")
    if len(years) == 1:
        return [write_cpq_export(folder / f"sales_{years[0]}.{file_format}", n_lines=n_lines, n_accounts=n_accounts,
                                 years=years, seed=seed)]
    frame = generate_cpq_export(n_lines=n_lines, n_accounts=n_accounts, years=years, seed=seed)
    year_of_line = frame[CPQ.date].str[-4:].astype(int)
    paths = []
    for year in years:
        part = frame[year_of_line == year].reset_index(drop=True)
        with _staged_file(folder / f"sales_{year}.{file_format}") as tmp:
            if file_format == "csv":
                part.to_csv(tmp, index=False)
            elif file_format == "parquet":
                part.to_parquet(tmp, index=False)
            else:
                part.to_excel(tmp, index=False, sheet_name=XLSX_SHEET, engine="xlsxwriter")
        paths.append(folder / f"sales_{year}.{file_format}")
    return paths
