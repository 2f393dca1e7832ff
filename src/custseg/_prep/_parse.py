"""Give the mapped columns their types: ids (`_ids`), numbers (`_numbers`) and dates (`_dates`).

Every value that does not convert is an error naming the file, column, value and row.
"""

from __future__ import annotations

import functools
import re
import operator

import ibis
import ibis.expr.datatypes as dt

from .._config._columns import DATE_ROLES, NUMERIC_ROLES, ColumnMapping
from .._engines._read import ROW_KEY  # a hash of the whole input row: duplicates are judged on every column
from .._errors import DataError
from .._config._dates import ISO_FORMATS, MIN_YEAR, date_formats, max_year
from .._engines._connect import parse_timestamp
from ._dates import implausible_year, parse_dates
from ._ids import blank_to_null, case_from_checksum, id_text, lost_digits, salesforce_forms, space_counts
from ._rows import DATA_ROW, RowName, data_row, data_rows
from ._numbers import choose_readings, marked_columns, number_of, number_probes, weighted_count

ID_ROLES = ("customer", "order", "product")
TEXT_ROLES = (*ID_ROLES, "product_label", "country", "currency")
EXAMPLES = 3
CURRENCY_CODE = re.compile(r"'[A-Z]{3} ?[-(]?[0-9]|[0-9)] ?[A-Z]{3}'")  # 'EUR 149.24', '149.24 EUR' among the examples
CODE_HINT = ("; amounts written with a currency code are not read: export them as numbers, with the code in a column "
             "of its own (--currency)")
REPEATED_HEADER = "_repeated_header"  # flags a header line repeated among the data rows (rule repeated_header)


def flag_repeated_headers(table: ibis.Table, names: list[str]) -> ibis.Table:
    """`table` with `REPEATED_HEADER` true on the rows whose every cell is its column's name, and the cells of
    `names` NULL there, so that typing never reads them (rule repeated_header of `_clean` drops them).

    Such a row is a header line repeated inside the data, as when two CSV exports are joined
    with `cat` (the second file's byte order mark aside). The row keeps its place, so data rows
    are numbered as in the file. Only a table of text columns can hold one.
    """
    cells = [c for c in table.columns if c not in (ROW_KEY, DATA_ROW)]
    schema = table.schema()
    if not cells or not all(schema[c].is_string() for c in cells):
        return table
    first, *rest = cells  # the cheap exact comparisons first: DuckDB evaluates the next ones on the rows that pass
    same = [table[c] == c for c in rest] + [table[first].replace("\ufeff", "") == first]
    flag = functools.reduce(operator.and_, same).fill_null(False)
    return table.mutate(**{name: ibis.ifelse(flag, ibis.null(dt.string), table[name]) for name in dict.fromkeys(names)},
                        **{REPEATED_HEADER: flag})


def text_type(role: str):
    """How a text role's column is typed: ids by `id_text`, other text trimmed with blanks NULL."""
    return id_text if role in ID_ROLES else lambda column: blank_to_null(column.cast(dt.string))


def _changed(raw: ibis.Value, typed: ibis.Value) -> ibis.Value:
    """How many values typing changes (NULL to a value or back, or another text)."""
    return ((raw.isnull() != typed.isnull()) | (raw != typed)).fill_null(False).sum()


def one_row(aggregates: list[ibis.Table]) -> dict[str, int]:
    """Several one-row aggregates (of different tables) in one query, as integers."""
    if not aggregates:
        return {}
    found = functools.reduce(lambda left, right: left.cross_join(right), aggregates).execute().iloc[0]
    return {key: int(value or 0) for key, value in found.items()}


def _raw_values(table: ibis.Table, raw_text: dict[str, ibis.Value]) -> ibis.Table:
    """The distinct values of columns read as text, with their line counts (`_role`, `_raw`, `_n`), held in
    memory, from one query (each column's branch reads that column).

    Numbers and dates are typed once per distinct value and joined back to the lines (3M CSV
    lines: 366 start dates, 119k prices; typing them line by line took 17 s a query); text
    columns are probed once per distinct value (800k customer ids rather than 30M lines; the
    order id, about one a line, is probed line by line).
    """
    # each branch groups `table` itself: a select shared by the branches is a CTE that DuckDB materialises (30M
    # lines: 3.5 of the query's 4.1 s), where each branch reads its own column
    parts = [table.group_by(_raw=raw.cast(dt.string))  # one type for the union (a workbook's is NOT NULL)
             .aggregate(_n=table.count()).mutate(_role=ibis.literal(role)) for role, raw in raw_text.items()]
    return functools.reduce(lambda left, right: left.union(right), parts).cache()


def _text_probes(role: str, raw: ibis.Value, trimmed: ibis.Value, weight: ibis.Value | None = None) -> dict[str, ibis.Value]:
    """Aggregates over a text role's values (each counting `weight` when given; `trimmed` is `blank_to_null(raw)`):
    those with spaces around them (and Unicode ones), and for an id those whose digits are lost (`_ids.lost_digits`)."""
    spaced, unicode = space_counts(raw, trimmed, weight)
    probes = {f"{role}|spaced": spaced, f"{role}|unicode": unicode}
    lost = lost_digits(raw) if role in ID_ROLES else None
    if lost is not None:
        probes[f"{role}|lost"] = lost.fill_null(False).sum() if weight is None else weighted_count(lost, weight)
    return probes


def lost_digits_error(table: ibis.Table, column: ibis.Value, label: str, count: int, source: str,
                      row_name: RowName | None = None) -> DataError:
    """The stop for ids whose digits are lost (`_ids.lost_digits`), naming the first ones and their rows."""
    found = examples(table, column, lost_digits(column), None, row_name)
    if column.type().is_floating():
        return DataError(f"{source}: column {label} has {count:,} id(s) held as floating-point numbers of 16 digits or "
                         f"more, e.g. {found}: their last digits may be lost (a float keeps 15 to 17 significant digits, "
                         "Excel 15); give the column as text or whole numbers")
    return DataError(f"{source}: column {label} has {count:,} id(s) in Excel's scientific notation, e.g. {found}: "
                     "their digits are lost; export the column formatted as text and read it again")


def _value_probes(text: dict[str, ibis.Table], roles: dict[str, str], value_dates: dict[str, ibis.Value],
                  text_roles: list[str], first_format: str) -> list[ibis.Table]:
    """One-row aggregates over the distinct values (`_raw_values`, filtered per role in `text`): the
    number readings' and the dates' failures counted in lines, the distinct dates that `first_format`
    alone reads otherwise (`_plain_date`), and how many distinct values of the text columns
    `text_roles` typing changes, with `_text_probes` counted in lines."""
    aggregates = [number_probes(text[r], {roles[r]: text[r]._raw}, weight=text[r]._n) for r in text if r in NUMERIC_ROLES]
    aggregates += [text[r].aggregate(**{f"{r}|fail": weighted_count(text[r]._raw.notnull() & parsed.isnull(), text[r]._n),
                                        f"{r}|year": weighted_count(implausible_year(parsed), text[r]._n),
                                        f"{r}|plain": _changed(parsed, _plain_date(text[r]._key, first_format, parsed))})
                   for r, parsed in value_dates.items()]
    for r in text_roles:  # typed values as columns of a subquery: expressions repeated in each count make long SQL
        values = text[r].mutate(_typed=text_type(r)(text[r]._raw), _trimmed=blank_to_null(text[r]._raw))
        aggregates.append(values.aggregate(**{f"{r}|changed": _changed(values._raw, values._typed)},
                                           **_text_probes(r, values._raw, values._trimmed, values._n)))
    return aggregates


def _plain_date(raw: ibis.Value, first_format: str, parsed: ibis.Value) -> ibis.Value:
    """`raw` (as read: spaces not trimmed, blanks not NULL) read by `first_format` alone, as `parsed` (`parse_dates`)
    is typed.

    When this gives what `parse_dates` gives on every distinct value of a column (the usual
    export: one format, plausible years), the lines are typed by it directly: a cheap
    expression on each line instead of a join to the typed distinct values, which every later
    query would run again (30M lines: 5-8 s a query for two date columns).
    """
    return parse_timestamp(raw, [first_format]).cast(parsed.type())


def _typed_by_value(typed: ibis.Table, text: dict[str, ibis.Table], typed_values: dict[str, ibis.Value]) -> ibis.Table:
    """`typed` with each `_raw_<role>` column (as read) replaced by `role`, its value typed once per distinct value
    (a join on `_key`, the value as read)."""
    for role, value in typed_values.items():
        key = f"_raw_{role}"
        lookup = text[role].select(**{key: text[role]._key, role: value})
        typed = typed.left_join(lookup, key).drop(key)
    return typed


def _counted_ids(values: ibis.Table, typed: bool) -> ibis.Table:
    """The distinct customer ids with their line counts (`customer`, `_lines`) from the customer column's
    distinct values (`_raw_values`), typed by `id_text` first when `typed` (some value changes)."""
    ids = text_type("customer")(values._raw) if typed else values._raw
    return values.group_by(customer=ids).aggregate(_lines=values._n.sum())


def date_per_line(column: ibis.Value, formats: list[str]) -> ibis.Value:
    """A date column typed line by line, as `typed_lines` types it (text by `parse_dates`): for messages naming rows."""
    return parse_dates(blank_to_null(column), formats) if column.type().is_string() else column.cast(dt.timestamp)


def _rest_key(table: ibis.Table, used: set[str]) -> ibis.Value:
    """A hash of the columns no role uses (the reader's, if it made one: it kept the run's columns only)."""
    if ROW_KEY in table.columns:
        return table[ROW_KEY]
    rest = {name: table[name] for name in table.columns if name not in used and name not in (DATA_ROW, REPEATED_HEADER)}
    return ibis.struct(rest).hash() if rest else ibis.literal(0, type="int64")


def row_key(table: ibis.Table) -> ibis.Value:
    """The reader's hash of the whole row if it made one (it kept only some columns), else one over every column."""
    if ROW_KEY in table.columns:
        return table[ROW_KEY]
    return ibis.struct({name: table[name] for name in table.columns if name != DATA_ROW}).hash()


def require_columns(table: ibis.Table, mapping: ColumnMapping, source: str) -> None:
    """Stop with a message listing the expected and the available columns when one is missing."""
    have = [c for c in table.columns if c not in (ROW_KEY, DATA_ROW)]
    missing = [f"{column} ({role})" for role, column in mapping.roles().items() if column not in have]
    if missing:
        hint = ""
        if len(have) == 1 and any(mark in have[0] for mark in ",;\t|"):
            hint = " (read as a single column: is the delimiter right, or do some lines have more fields than the header?)"
        raise DataError(
            f"{source}: missing column(s) {', '.join(missing)}; the file has: {', '.join(have) or '(no columns)'}{hint}"
        )


def examples(table: ibis.Table, raw: ibis.Value, bad: ibis.Value, shown: ibis.Value | None = None,
             row_name: RowName | None = None) -> str:
    """Up to three raw values where `bad` holds, with their data row (and how they were read)."""
    numbered = table.mutate(_raw=raw, _bad=bad.fill_null(False), _row=data_rows(table),
                            _shown=shown.cast(dt.string) if shown is not None else ibis.null(dt.string))
    found = numbered.filter(numbered._bad).select("_row", "_raw", "_shown").order_by("_row").limit(EXAMPLES).execute()
    return ", ".join(f"{value!r}" + (f" (read as {str(read)[:10]})" if shown is not None else "") + f" at {data_row(row, row_name)}"
                     for row, value, read in found.itertuples(index=False))


def _check_dates(table, roles, raw_text, columns, counts, mapping, source, row_name) -> None:
    for role in (r for r in DATE_ROLES if r in roles):
        raw = raw_text.get(role, table[roles[role]].cast(dt.string))
        if counts.get(f"{role}|fail"):
            formats = " or ".join(f for f in date_formats(mapping.date_format) if f not in ISO_FORMATS) or "YYYY-MM-DD"
            raise DataError(f"{source}: column {roles[role]!r} ({role}) has {counts[f'{role}|fail']:,} dates that do not "
                            f"parse (expected {formats}), e.g. {examples(table, raw, raw.notnull() & columns[role].isnull(), None, row_name)}")
        if counts[f"{role}|year"]:
            raise DataError(f"{source}: column {roles[role]!r} ({role}) has {counts[f'{role}|year']:,} date(s) outside the "
                            f"years {MIN_YEAR} to {max_year()}, e.g. "
                            f"{examples(table, raw, implausible_year(columns[role]), columns[role].date(), row_name)}; "
                            "is the date format right (%Y is a four-digit year, %y a two-digit one)?")


def typed_lines(table: ibis.Table, mapping: ColumnMapping, source: str, decimal: str = "auto",
                delimiter: str | None = None, row_name: RowName | None = None) -> tuple[ibis.Table, dict]:
    """Select the mapped columns, renamed to their roles and typed; return it with notes on every decision.

    `delimiter` is the file's (a semicolon file reads an ambiguous '1.250' as 1250, see `_numbers`).
    `row_name` names a data row in messages (several files: the file and its own row).
    Header lines repeated among the rows are flagged (`flag_repeated_headers`), not typed.
    """
    require_columns(table, mapping, source)
    roles = mapping.roles()
    table = flag_repeated_headers(table, list(roles.values()))
    schema = table.schema()
    columns: dict[str, ibis.Value] = {}
    raw_text: dict[str, ibis.Value] = {}
    for role, name in roles.items():
        column = table[name]
        if role in TEXT_ROLES:
            columns[role] = text_type(role)(column)
        elif schema[name].is_string():
            raw_text[role] = blank_to_null(column)
        elif role in NUMERIC_ROLES:
            columns[role] = column.cast(dt.float64)
        else:
            columns[role] = column.cast(dt.timestamp)
    formats = date_formats(mapping.date_format)
    # numbers and dates read as text are typed per distinct value (`_raw_values`); the per-line
    # expressions below only name bad values in messages
    as_read = [r for r in TEXT_ROLES if r in roles and schema[roles[r]].is_string()]
    distinct = {r: table[roles[r]] for r in [*raw_text, *(r for r in as_read if r != "order")]}
    values = _raw_values(table, distinct) if distinct else None
    text = {role: values.filter(values._role == role) for role in distinct}
    # numbers and dates as text: spaces trimmed and blanks NULL once per distinct value (`_key`: the value as read),
    # not on each line of each query (30M lines: 1.7 CPU-seconds a date column a query)
    text |= {role: text[role].mutate(_key=text[role]._raw, _raw=blank_to_null(text[role]._raw)) for role in raw_text}
    value_dates = {role: parse_dates(text[role]._raw, formats) for role in raw_text if role in DATE_ROLES}
    line_dates = {role: date_per_line(table[roles[role]], formats) for role in raw_text if role in DATE_ROLES}
    aggregates = _value_probes(text, roles, value_dates, [r for r in as_read if r != "order"], formats[0])
    probes = {f"{r}|year": implausible_year(columns[r]).fill_null(False).sum() for r in DATE_ROLES if r in columns}
    probes |= {f"{r}|lost": lost_digits(table[roles[r]]).sum() for r in ID_ROLES
               if r in roles and schema[roles[r]].is_floating()}
    if "order" in as_read:  # probed line by line (about one a line), its typed forms as columns of a subquery
        lined = table.mutate(_typed=columns["order"], _trimmed=blank_to_null(table[roles["order"]]))
        order = lined[roles["order"]]
        probes |= {"order|changed": _changed(order, lined._typed), **_text_probes("order", order, lined._trimmed)}
        aggregates.append(lined.aggregate(**probes))
    elif probes:
        aggregates.append(table.aggregate(**probes))
    counts = one_row(aggregates)
    formatted = [r for r in raw_text if r in NUMERIC_ROLES and roles[r] in marked_columns(counts)]
    if formatted:  # numbers with currency symbols, %, parentheses...: probed again, their marks counted
        counts |= one_row([number_probes(text[r], {roles[r]: text[r]._raw}, text[r]._n, formatted=True) for r in formatted])
    for role in (r for r in ID_ROLES if counts.get(f"{r}|lost")):
        raise lost_digits_error(table, table[roles[role]], f"{roles[role]!r} ({role})", counts[f"{role}|lost"], source,
                                row_name)
    # A text column that typing leaves unchanged (no surrounding spaces, no blanks, no '10001.0':
    # the usual export) is used as read, so that later queries do not type it again (30M lines:
    # ~8 s a query for one id column).
    columns |= {r: table[roles[r]] for r in as_read if not counts[f"{r}|changed"]}
    labels = {roles[r]: f"{roles[r]!r} ({r})" for r in NUMERIC_ROLES if r in roles}
    numeric_text = {roles[r]: raw for r, raw in raw_text.items() if r in NUMERIC_ROLES}
    parsed, decisions, failures = choose_readings(table, numeric_text, counts, decimal, delimiter, source, labels, row_name)
    for role, raw in raw_text.items():
        if role in NUMERIC_ROLES and failures[roles[role]]:
            found = examples(table, raw, raw.notnull() & parsed[roles[role]].isnull(), None, row_name)
            hint = CODE_HINT if CURRENCY_CODE.search(found) else ""
            raise DataError(f"{source}: column {roles[role]!r} ({role}) has {failures[roles[role]]:,} non-numeric "
                            f"values, e.g. {found}{hint}")
    _check_dates(table, roles, raw_text, columns | line_dates, counts, mapping, source, row_name)
    notes = {"decimal_marks": {name: d["decimal"] for name, d in decisions.items()}, "number_formats": decisions,
             "spaces_trimmed": {roles[r]: {"values": counts[f"{r}|spaced"], "unicode": counts[f"{r}|unicode"]}
                                for r in as_read if counts[f"{r}|spaced"]}}
    columns[ROW_KEY] = _rest_key(table, set(roles.values()))
    if REPEATED_HEADER in table.columns:
        columns[REPEATED_HEADER] = table[REPEATED_HEADER]
    plain = {role: _plain_date(table[roles[role]], formats[0], value_dates[role]) for role in value_dates
             if not counts[f"{role}|plain"]}  # typed line by line, by one format: no join
    typed_values = {role: value_dates[role] if role in value_dates else number_of(text[role]._raw, decisions[roles[role]])
                    for role in raw_text if role not in plain}
    rows = {DATA_ROW: table[DATA_ROW]} if DATA_ROW in table.columns else {}  # for salesforce_customers' message
    typed = table.select(**columns, **{f"_raw_{role}": table[roles[role]] for role in raw_text if role not in plain},
                         **plain, **rows)
    if mapping.salesforce_ids:  # before the joins: its data rows are the file's, and its count needs no join
        counted = _counted_ids(text["customer"], bool(counts["customer|changed"])) if "customer" in text else None
        typed, notes["salesforce_ids"] = salesforce_customers(typed, "customer", roles["customer"], source, counted, row_name)
    typed = _typed_by_value(typed, text, typed_values)
    order = [*(c for c in columns if c != ROW_KEY), *(r for r in raw_text if r in DATE_ROLES),
             *(r for r in raw_text if r in NUMERIC_ROLES), ROW_KEY]  # the columns' order before typing by value
    # a line's key: its typed values and the rest of its row, so that '12748\u00a0' and '12748', or '$1,234.50' and
    # '1234.5', are the same line (duplicates), while lines that differ in any column stay apart
    typed = typed.mutate(**{ROW_KEY: ibis.struct({c: typed[c] for c in order}).hash()})
    return typed.select(*order), notes


def salesforce_customers(table: ibis.Table, column: str, name: str, source: str,
                         counted: ibis.Table | None = None, row_name: RowName | None = None) -> tuple[ibis.Table, dict]:
    """`table` with its Salesforce ids in `column` in 18-character form, and the counts (of lines); an error for a bad checksum.

    Checksums are computed once per distinct id (30M lines: 800k ids), in `_ids.salesforce_forms`;
    the lines are joined to the converted ids only when some id had 15 characters. `counted`: the
    distinct ids and their line counts (`column`, `_lines`) when already at hand, else counted here.
    """
    if counted is None:
        counted = table.group_by(column).aggregate(_lines=table.count())
    values = counted.to_pyarrow()
    flags, id18 = salesforce_forms(values[column].combine_chunks())
    lines = values["_lines"].to_numpy()
    counts = {key: int(lines[flag].sum()) for key, flag in flags.items()}
    bad_count = counts.pop("bad_checksum")
    if bad_count:
        bad = ibis.memtable({"_bad": values[column].filter(flags["bad_checksum"])})
        numbered = table.mutate(_row=data_rows(table))
        found = numbered.semi_join(bad, numbered[column] == bad._bad).order_by("_row").limit(1).execute()
        value, row = found[column].iloc[0], int(found["_row"].iloc[0])
        raise DataError(f"{source}: column {name!r} (customer) has {bad_count:,} "
                        f"Salesforce id(s) whose letter case does not match their checksum, e.g. {value!r} at "
                        f"{data_row(row, row_name)} (its checksum says {case_from_checksum(value)!r}); was the case changed by a spreadsheet? "
                        "Export the ids again")
    if counts["converted_15_to_18"]:
        converted = ibis.memtable({"_id15": values[column].filter(flags["converted_15_to_18"]), "_id18": id18})
        joined = table.left_join(converted, table[column] == converted._id15)
        table = joined.mutate(**{column: joined._id18.coalesce(joined[column])}).drop("_id15", "_id18")
    return table, {"column": name, **counts}
