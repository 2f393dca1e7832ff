"""SOQL built from configuration, Salesforce ids and dates, validated so nothing is injected."""

from __future__ import annotations

import re
from datetime import date, timedelta

from .._errors import DataError, UsageError

_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")
_OBJECT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")
_ID_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def check_field_name(name: str, what: str = "field") -> str:
    """`name` if it is a SOQL field path (letters, digits, underscores, dots), else UsageError.

    >>> check_field_name("SBQQ__Contract__r.BillingCountry")
    'SBQQ__Contract__r.BillingCountry'
    """
    if not isinstance(name, str) or not _FIELD.match(name) or len(name) > 255:
        raise UsageError(f"{what} {name!r} is not a Salesforce field name (letters, digits, underscores and dots only)")
    return name


def check_object_name(name: str) -> str:
    """`name` if it is an sObject API name, else UsageError."""
    if not isinstance(name, str) or not _OBJECT.match(name) or len(name) > 255:
        raise UsageError(f"object {name!r} is not a Salesforce object name (letters, digits and underscores only)")
    return name


def parse_day(text: str, what: str) -> date:
    """A `YYYY-MM-DD` day, else UsageError naming the option."""
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise UsageError(f"{what} must be a date YYYY-MM-DD; got {text!r}") from None


def date_range(year: int | None = None, since: str | None = None, until: str | None = None) -> tuple[date | None, date | None]:
    """[start, end) days from --year or --since/--until (until is inclusive).

    >>> date_range(year=2020)
    (datetime.date(2020, 1, 1), datetime.date(2021, 1, 1))
    >>> date_range(since="2020-03-01", until="2020-03-31")
    (datetime.date(2020, 3, 1), datetime.date(2020, 4, 1))
    """
    if year is not None and (since or until):
        raise UsageError("give either --year or --since/--until, not both")
    if year is not None:
        if not 1970 <= int(year) <= 2999:
            raise UsageError(f"--year must be between 1970 and 2999; got {year}")
        return date(int(year), 1, 1), date(int(year) + 1, 1, 1)
    start = parse_day(since, "--since") if since else None
    end = parse_day(until, "--until") + timedelta(days=1) if until else None
    if start and end and end <= start:
        raise UsageError(f"--until {until} is before --since {since}")
    return start, end


def _literal(day: date, is_datetime: bool) -> str:
    return f"{day.isoformat()}T00:00:00Z" if is_datetime else day.isoformat()


def build_query(
    object_name: str,
    fields: list[str] | tuple[str, ...],
    date_field: str | None = None,
    start: date | None = None,
    end: date | None = None,
    date_is_datetime: bool = True,
) -> str:
    """The SOQL of a pull: validated names, a half-open date window, no ORDER BY.

    >>> build_query("Account", ["Id", "Name"], "CreatedDate", date(2020, 1, 1), date(2021, 1, 1))
    'SELECT Id, Name FROM Account WHERE CreatedDate >= 2020-01-01T00:00:00Z AND CreatedDate < 2021-01-01T00:00:00Z'
    """
    check_object_name(object_name)
    if not fields:
        raise UsageError("the field list to pull is empty")
    for name in fields:
        check_field_name(name)
    lowered = [f.lower() for f in fields]
    duplicated = sorted({f for f in fields if lowered.count(f.lower()) > 1})
    if duplicated:
        raise UsageError(f"fields listed twice: {', '.join(duplicated)}")
    soql = f"SELECT {', '.join(fields)} FROM {object_name}"
    conditions = []
    if start or end:
        if not date_field:
            raise UsageError("a date filter needs a date field")
        check_field_name(date_field, "date field")
        if start:
            conditions.append(f"{date_field} >= {_literal(start, date_is_datetime)}")
        if end:
            conditions.append(f"{date_field} < {_literal(end, date_is_datetime)}")
    if conditions:
        soql += " WHERE " + " AND ".join(conditions)
    return soql


def id18(record_id: str) -> str:
    """The 18-character form of a Salesforce id (15-character ids are case-sensitive).

    >>> id18("001000000000001")
    '001000000000001AAA'
    """
    if len(record_id) == 18:
        return record_id
    suffix = ""
    for block in range(3):
        chunk = record_id[block * 5 : block * 5 + 5]
        bits = sum(1 << i for i, char in enumerate(chunk) if "A" <= char <= "Z")
        suffix += _ID_SUFFIX_CHARS[bits]
    return record_id + suffix


def check_record_id(value: object, where: str) -> str:
    """The 18-character id of `value`, else DataError naming `where` and the value.

    >>> check_record_id("001000000000001", "assignments.parquet, column customer_id")
    '001000000000001AAA'
    """
    text = "" if value is None else str(value).strip()
    if not _ID.match(text):
        raise DataError(f"{where}: {text!r} is not a Salesforce Id (15 or 18 letters and digits)")
    full = id18(text[:15])
    if len(text) == 18 and text[15:].upper() != full[15:]:
        recased = _recased(text)
        if recased:
            raise DataError(f"{where}: {text!r} has the wrong letter case: its last 3 characters say it is {recased!r} "
                            "(Salesforce ids are case-sensitive; a spreadsheet or database may have changed the case)")
        raise DataError(f"{where}: {text!r} is not a valid Salesforce Id (its last 3 characters should be {full[15:]})")
    return full


def _recased(text: str) -> str | None:
    """The id whose letter case matches the checksum of the 18-character `text`, if one exists and differs.

    >>> _recased("001ab0000000001qaa")
    '001aB0000000001QAA'
    """
    chars = list(text[:15].lower())
    for block, suffix in enumerate(text[15:].upper()):
        bits = _ID_SUFFIX_CHARS.find(suffix)
        for i in range(5):
            if bits >> i & 1:
                if not chars[block * 5 + i].isalpha():
                    return None
                chars[block * 5 + i] = chars[block * 5 + i].upper()
    recased = "".join(chars) + text[15:].upper()
    return recased if recased != text else None


def quote(value: str) -> str:
    """A SOQL string literal (for ids already checked by `check_record_id`)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
