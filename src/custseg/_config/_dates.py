"""Date formats and year bounds: the rules of the one date parser (`_prep._dates` applies them to columns).

The user's formats (`--date-format`, repeatable, or `date_format = [...]` in custseg.toml)
come first, then the ISO forms. A year before 1900 or after next year is a bad value.

>>> parse_date_text("2021-12-31", ())
datetime.date(2021, 12, 31)
"""

from __future__ import annotations

import datetime as dtm

ISO_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f")
MIN_YEAR = 1900


def max_year() -> int:
    """The latest plausible year of a sales line: next year."""
    return dtm.date.today().year + 1


def date_formats(user_formats: str | tuple[str, ...] | list[str] | None) -> list[str]:
    """The formats tried, in order: the user's, then the ISO ones.

    >>> date_formats("%d/%m/%Y")[:2]
    ['%d/%m/%Y', '%Y-%m-%d %H:%M:%S']
    """
    given = [user_formats] if isinstance(user_formats, str) else list(user_formats or ())
    return list(dict.fromkeys([*given, *ISO_FORMATS]))


def parse_date_text(text: str, formats) -> dtm.date:
    """One date written as text (e.g. --as-of), by the same formats and year bounds; ValueError if none fits."""
    for fmt in ["%Y-%m-%d", *date_formats(formats)]:
        try:
            day = dtm.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
        if MIN_YEAR <= day.year <= max_year():
            return day
    raise ValueError(text)
