"""The one date parser: text -> UTC timestamp, trying a list of strptime formats in order.

The user's formats (`--date-format`, repeatable, or `date_format = [...]` in custseg.toml)
come first, then the ISO forms, Salesforce date-times (`2023-05-04T23:30:00.000+0000`,
`...Z`: the offset is applied, so the date is the UTC date) and Excel serial day numbers.
A year before 1900 or after next year is a bad value (`03/01/23` read with `%Y` is year 23); the
first format that gives a plausible year wins.
The formats and year bounds are `_config._dates` (also used for --as-of, without ibis).
"""

from __future__ import annotations

import datetime as dtm

import ibis
import ibis.expr.datatypes as dt

from .._config._dates import MIN_YEAR, max_year
from .._engines._connect import parse_timestamp


OFFSET = r"^(.*[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?) ?(Z|[+-][0-9]{2}:?[0-9]{2})$"  # ...23:30:00.000+0000, ...Z

EXCEL_SERIAL = r"^[1-9][0-9]{4}(\.[0-9]+)?$"  # 10000..99999: 1927-05-18 to 2173-10-14
EXCEL_EPOCH = dtm.datetime(1899, 12, 30)


def _excel_serial(text: ibis.Value) -> ibis.Value:
    """An Excel serial day number written as text ('43831' is 2020-01-01), else NULL."""
    seconds = (text.try_cast(dt.float64) * 86400).round().cast(dt.int64)
    return ibis.ifelse(text.re_search(EXCEL_SERIAL), ibis.literal(EXCEL_EPOCH) + seconds.as_interval("s"),
                       ibis.null(dt.timestamp))


def parse_dates(text: ibis.Value, formats: list[str]) -> ibis.Value:
    """Text -> timestamp (UTC where the text has an offset); NULL where no format matches."""
    has_offset = text.re_search(OFFSET)
    base = ibis.ifelse(has_offset, text.re_extract(OFFSET, 1), text)
    offset = ibis.ifelse(has_offset, text.re_extract(OFFSET, 4).replace(":", ""), ibis.literal("Z"))
    minutes = ibis.ifelse(offset == "Z", 0,
                          ibis.ifelse(offset.substr(0, 1) == "-", -1, 1)
                          * (offset.substr(1, 2).cast(dt.int64) * 60 + offset.substr(3, 2).cast(dt.int64)))
    # the first format giving a plausible year wins ('03/01/23': %d/%m/%y before %d/%m/%Y's year 23);
    # failing that, the first that parses at all, so that the year check can name the value
    plausible = [ibis.ifelse(implausible_year(when), ibis.null(dt.timestamp), when)
                 for when in (parse_timestamp(base, [fmt]) for fmt in formats)]
    local = ibis.coalesce(*plausible, parse_timestamp(base, formats))
    return (local - minutes.as_interval("m")).coalesce(_excel_serial(text))


def implausible_year(when: ibis.Value) -> ibis.Value:
    """True where a parsed date's year is before 1900 or after next year (NULL where there is no date)."""
    year = when.year()
    return (year < MIN_YEAR) | (year > max_year())
