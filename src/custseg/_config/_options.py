"""The option types and value checks every stage shares, light enough for the command line's start-up.

>>> parse_k_range("3..8")
(3, 8)
>>> expand_feature_sets(["rfm", "AvgOrderValue"])
('RecencyDays', 'OrderCount', 'TotalSales', 'AvgOrderValue')
"""

from __future__ import annotations

import codecs
import datetime as dtm
import re
from dataclasses import dataclass

from .._errors import UsageError
from ._dates import parse_date_text

DEFAULT_SEED = 42
MIN_CUSTOMERS = 3  # two segments and a silhouette
DEFAULT_FEATURES = ("TotalSales", "OrderCount", "AvgOrderValue")
RFM_FEATURES = ("RecencyDays", "OrderCount", "TotalSales")
"""The RFM feature set for K-means: recency, frequency, monetary (`features = ["rfm"]`)."""
SCALINGS = ("rank", "rank-first", "log", "robust", "standard", "none")
"""`rank`: tied values share their average rank; `rank-first`: the study's ranks, ties by row order."""
K_RULES = ("vote", "silhouette")
"""How k is chosen: the panel of indices votes (default), or the highest silhouette (the previous rule)."""
K_RULE_MIN_SHARE = {"vote": 0.05, "silhouette": 0.02}
"""Each rule's default smallest segment share for a k to be eligible."""
BUSINESS_MIN_K = 3
"""The fewest segments advised for a marketing partition (`--business-min-k`): no k under it is chosen when the range
holds a larger one, and no warning suggests fewer."""
ENGINES = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[*]"  # when neither --spark-master, spark-submit nor spark-defaults.conf names one
DEFAULT_SPARK_WAIT = 120.0  # seconds the Spark engine waits for a master, or for executors, before it stops
INPUT_FORMATS = ("csv", "parquet")
ENCODING_EXAMPLES = "utf-8, cp1252, latin-1, utf-16, shift_jis"
ALL_SHEETS = "all"
"""`--sheet all`: every sheet whose column names are those of the first sheet holding the run's columns."""
SIZE_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$", re.IGNORECASE)
MEMORY_LIMIT = re.compile(r"^\s*[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")  # a scheme of 2+ letters: 'C:/' is a Windows drive


def is_url(text) -> bool:
    """A path with a scheme (hdfs://, s3a://, dbfs:/, file://): a cluster input, read by the Spark engine only.

    >>> is_url("hdfs:///sales/2021"), is_url("dbfs:/sales"), is_url("C:/sales.csv"), is_url("sales.csv")
    (True, True, False, False)
    """
    return isinstance(text, str) and bool(URL.match(text))


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file: sheet for xlsx; delimiter, encoding, decimal mark and longest line for csv.

    `decimal` is "auto" (detect a decimal comma per column), "." or ",". `header_row` is the
    1-based row holding the column names (default 1), for a title block above the table.
    `sheet` is a name, an index or "all" (every sheet with the same column names).
    `encoding` is any Python text codec name (default: detected). `max_line_size` is the
    longest CSV line the reader takes, in bytes or as a size such as "8MB" (default: DuckDB's).
    `input_format` is csv or parquet: the format of a cluster input's parts on the Spark engine
    (default: their suffix).
    """

    sheet: str | int | None = None
    delimiter: str | None = None
    encoding: str | None = None
    decimal: str = "auto"
    header_row: int | None = None
    max_line_size: int | str | None = None
    input_format: str | None = None

    def __post_init__(self) -> None:
        if self.input_format is not None and self.input_format not in INPUT_FORMATS:
            raise UsageError(f"--input-format must be {' or '.join(INPUT_FORMATS)}; got {self.input_format!r}")
        if self.header_row is not None and (isinstance(self.header_row, bool) or not isinstance(self.header_row, int)
                                            or self.header_row < 1):
            raise UsageError(f"header row must be a row number >= 1; got {self.header_row!r}")
        if self.decimal not in ("auto", ".", ","):
            raise UsageError(f"decimal must be 'auto', '.' or ','; got {self.decimal!r}")
        if self.encoding:
            check_encoding(self.encoding)
        if self.max_line_size is not None:
            object.__setattr__(self, "max_line_size", parse_size(self.max_line_size, "max line size"))


def check_encoding(name: str) -> str:
    """A Python text codec name (`codecs.lookup`), as given.

    >>> check_encoding("cp1252")
    'cp1252'
    """
    try:
        codecs.lookup(name)
        b"a".decode(name, errors="replace")  # a bytes-to-bytes codec (base64, zlib) is not a text encoding
    except LookupError:
        raise UsageError(f"encoding {name!r} is not a text encoding Python knows; "
                         f"give a codec name such as {ENCODING_EXAMPLES}") from None
    return name


def parse_size(value: int | str, what: str) -> int:
    """A positive size in bytes, from a number of bytes or a text such as '8MB' or '4MiB'.

    >>> parse_size("8MB", "max line size")
    8000000
    """
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    found = SIZE.match(str(value)) if isinstance(value, str) else None
    size = int(float(found.group(1)) * SIZE_UNITS[(found.group(2) or "B").upper()]) if found else 0
    if size <= 0:
        raise UsageError(f"{what} must be a size like 4MB or 8000000 (bytes); got {value!r}")
    return size


@dataclass(frozen=True)
class CleaningRules:
    """Which rules apply. Each line is counted under the first rule (in `_prep._clean.RULES` order) that drops it.

    How cancellations are handled is the mapping's `cancellations` ("net", "signed" or "drop").
    With "net", a line with quantity < 0 that cancels no earlier purchase is dropped and counted
    under `quantity_not_positive`; a matched one is kept. With "signed", every line is kept
    with its sign, and a customer with a negative total or amendments only is dropped and
    counted under `negative_customer` (see `_prep._netting`).
    """

    drop_duplicates: bool = True
    drop_negative_price: bool = True
    drop_zero_price: bool = False

    def to_dict(self) -> dict:
        return {"drop_duplicates": self.drop_duplicates, "drop_negative_price": self.drop_negative_price,
                "drop_zero_price": self.drop_zero_price}


def parse_k_range(text: str) -> tuple[int, int]:
    """'4..8' -> (4, 8)."""
    try:
        low, high = (int(part) for part in text.split(".."))
    except ValueError:
        raise UsageError(f"k range must look like 2..10; got {text!r}") from None
    if not 2 <= low <= high:
        raise UsageError(f"k range must satisfy 2 <= low <= high; got {low}..{high}")
    return low, high


def parse_as_of(text: str, formats=None) -> dtm.date:
    """The reference date of recency: ISO (YYYY-MM-DD) or one of the lines' date formats, same year bounds.

    >>> parse_as_of("31/12/2021", "%d/%m/%Y")
    datetime.date(2021, 12, 31)
    """
    try:
        return parse_date_text(text, formats)
    except ValueError:
        raise UsageError(f"--as-of must be a date like 2021-01-01; got {text!r}") from None


def expand_feature_sets(names) -> tuple[str, ...]:
    """Replace the name `rfm` in a feature list by the RFM features (duplicates dropped)."""
    out: list[str] = []
    for name in names:
        out.extend(RFM_FEATURES if name.lower() == "rfm" else (name,))
    return tuple(dict.fromkeys(out))


def check_engine(name: str) -> str:
    """'duckdb' or 'spark'."""
    if name not in ENGINES:
        raise UsageError(f"engine must be one of {', '.join(ENGINES)}; got {name!r}")
    return name


def check_scaling(name: str) -> str:
    """One of `SCALINGS`."""
    if name not in SCALINGS:
        raise UsageError(f"scaling must be one of {', '.join(SCALINGS)}; got {name!r}")
    return name


def check_k_rule(name: str) -> str:
    """One of `K_RULES`."""
    if name not in K_RULES:
        raise UsageError(f"k rule must be one of {', '.join(K_RULES)}; got {name!r}")
    return name


def parse_spark_conf(items) -> tuple[tuple[str, str], ...]:
    """KEY=VALUE texts (or pairs) -> ((key, value), ...), checked.

    >>> parse_spark_conf(["spark.driver.memory=4g"])
    (('spark.driver.memory', '4g'),)
    """
    pairs = []
    for item in items or ():
        if isinstance(item, str):
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise UsageError(f"--spark-conf must look like KEY=VALUE (e.g. spark.driver.memory=4g); got {item!r}")
            item = (key.strip(), value.strip())
        pairs.append((str(item[0]), str(item[1])))
    return tuple(pairs)


def parse_labels(labels) -> tuple[tuple[str, str, str], ...]:
    """[labels] of custseg.toml ({column: "words"} or {column: {en, fr}}), or saved triples -> ((column, en, fr), ...).

    >>> parse_labels({"PURCHASES_FREQUENCY": "purchase frequency", "TENURE": {"en": "tenure", "fr": "ancienneté"}})
    (('PURCHASES_FREQUENCY', 'purchase frequency', 'purchase frequency'), ('TENURE', 'tenure', 'ancienneté'))
    """
    if isinstance(labels, dict):
        labels = [(column, *((words.get("en"), words.get("fr") or words.get("en")) if isinstance(words, dict)
                             else (words, words))) for column, words in labels.items()]
    out = []
    for item in labels or ():
        if len(item) != 3 or not all(isinstance(part, str) and part for part in item):
            raise UsageError(f"labels must map a column to words, or to {{en = ..., fr = ...}}; got {item!r}")
        out.append(tuple(item))
    return tuple(out)


def check_memory_limit(text: str) -> str:
    """A DuckDB memory size such as '2GB' or '512MiB', validated.

    >>> check_memory_limit("2GB")
    '2GB'
    """
    if not MEMORY_LIMIT.match(str(text)):
        raise UsageError(f"max memory must be a size like 512MB or 4GB; got {text!r}")
    return str(text).strip().replace(" ", "")
