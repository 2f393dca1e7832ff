"""Reports grouped by customer (a Salesforce report exported as "Formatted Report"): their subtotal, total and
group-header rows are dropped and counted; the blank customer cells below each group's first line are filled
from the line above (`--fill-down`) or refused in one line.

Each row of the table as read is one of (cells trimmed; "blank" is empty or spaces only):

- a total row (`subtotal_row`): the date cells are blank and the order cell, or the customer or product cell
  while the customer cell is blank or that label, reads `Subtotal`, `Total`, `Grand Totals (7 records)`,
  `Sous-total`, `Total général`, `Sum` or `Count` (alone, or followed by `: ...`, `(...)` or a number);
- a line: its line cells are filled, the line cells being the order id if mapped, else the product, else
  the dates (with none of these mapped, the numbers);
- in a grouped report, a summary row with no label (`subtotal_row`): no line cell, some number; and a group
  header (`group_header`): a customer cell and every other mapped cell blank;
- an orphan line: a line whose customer cell is blank.

The file is a grouped report when it has total rows or `(N records)` cells, or at least two orphan lines
while no customer value is on two rows (each customer named once, on its group's first row).
"""

from __future__ import annotations

import functools
import re

import ibis
import ibis.expr.datatypes as dt

from .._config._columns import DATE_ROLES, FILL_DOWN_ON_SPARK, NUMERIC_ROLES, ColumnMapping
from .._errors import DataError, UsageError
from ._parse import require_columns
from ._rows import DATA_ROW, RowName, data_row, data_rows

LABEL = (r"(?i)^\s*(grand\s+totals?|sub[-\s]?totals?|sous[-\s]totals?|totals?\s+g[ée]n[ée]ra(l|ux)|totaux\s+g[ée]n[ée]raux"
         r"|totals?|sum|somme|count)\s*(:.*|\(.*\)|[0-9][0-9.,\s]*)?$")
RECORDS = r"(?i)\(\s*[0-9][0-9.,\s]*\s+(records?|enregistrements?)\s*\)\s*$"
GROUP_VALUE = r"(?i)^\s*(?:[^:]*:\s*)?(.*?)\s*\(\s*[0-9][0-9.,\s]*\s+(?:records?|enregistrements?)\s*\)\s*$"
GRAND_TOTAL = re.compile(r"(?i)^\s*(grand\s+totals?|totals?\s+g[ée]n[ée]ra(l|ux)|totaux\s+g[ée]n[ée]raux)\s*"
                         r"\(\s*([0-9][0-9.,\s]*?)\s+(records?|enregistrements?)\s*\)")
LINE_TIERS = (("order",), ("product",), DATE_ROLES)  # the first tier with a mapped role holds the line cells
LABEL_ROLES = ("customer", "order", "product")
MIN_ORPHANS = 2  # without total rows, one blank customer cell is a missing customer, not a group
RULE_TEXT = {
    "subtotal_row": "a subtotal, total or grand total row of a grouped report (Subtotal, Total, Grand Totals, Sum, "
                    "Count; or no line id with numbers)",
    "group_header": "a group header of a grouped report (a customer and nothing else, or 'Account: X (N records)')",
}


def _filled(column: ibis.Value) -> ibis.Value:
    """Whether a cell holds something: not NULL and, for text, not blank (trimmed only when it begins with a space
    or a control character: TRIM is slow on DuckDB)."""
    if column.type().is_string():
        return ibis.ifelse(column.ascii_str() > 32, True, column.strip() != "").fill_null(False)
    return column.notnull()


def _any(values: list[ibis.Value]) -> ibis.Value:
    return functools.reduce(lambda a, b: a | b, values, ibis.literal(False))


def _kinds(table: ibis.Table, mapping: ColumnMapping) -> dict[str, ibis.Value]:
    """Boolean expressions per row: label, line, summary, header, records, orphan and giver (see the module's text)."""
    roles = mapping.roles()
    filled = {role: _filled(table[name]) for role, name in roles.items()}
    text = {role: table[roles[role]].cast(dt.string) for role in LABEL_ROLES if role in roles}
    customer = filled["customer"]
    dated = _any([filled[r] for r in DATE_ROLES if r in roles])
    is_label = {role: value.re_search(LABEL).fill_null(False) for role, value in text.items()}
    # the regular expressions only where the dates are blank (CASE evaluates a branch on its rows only)
    # an order (line) id that reads as a label is one whatever the customer cell (a group's value may be repeated)
    label = ibis.ifelse(dated, False, is_label.get("order", ibis.literal(False))
                        | (_any([is_label[r] for r in ("customer", "product") if r in is_label])
                           & (~customer | is_label["customer"])))
    tier = next(([r for r in t if r in roles] for t in LINE_TIERS if any(r in roles for r in t)), [])
    numbers = _any([filled[r] for r in NUMERIC_ROLES if r in roles])
    line = ~label & (_any([filled[r] for r in tier]) if tier else numbers)
    others = _any([filled[r] for r in roles if r != "customer"])
    records = ibis.ifelse(dated, False, _any([value.re_search(RECORDS).fill_null(False) for value in text.values()]))
    return {"label": label, "line": line, "summary": ~label & ~line & numbers if tier else ibis.literal(False),
            "header": ~label & customer & ~others, "records": ~label & records, "orphan": line & ~customer,
            "giver": ~label & customer}


def _group_value(column: ibis.Value, header: ibis.Value) -> ibis.Value:
    """The customer a row gives to the lines below it: a header's 'Account Name: Acme (3 records)' gives 'Acme'."""
    if not column.type().is_string():
        return column
    return ibis.ifelse(header & column.re_search(GROUP_VALUE), column.re_extract(GROUP_VALUE, 1), column.strip())


def _grand_totals(marked: ibis.Table) -> list[tuple[int, str, int]]:
    """(data row, text, records) of each 'Grand Totals (N records)' row among the total rows (`_label`)."""
    found = marked.filter(marked._label).select(DATA_ROW, "_text").order_by(DATA_ROW).execute()
    out = []
    for row, text in found.itertuples(index=False):
        match = GRAND_TOTAL.match(text or "")
        if match:
            out.append((int(row), text.strip(), int(re.sub(r"[^0-9]", "", match.group(3)))))
    return out


def _label_text(table: ibis.Table, mapping: ColumnMapping) -> ibis.Value:
    """The first customer, order or product cell of a row that reads as a total label."""
    roles = mapping.roles()
    texts = [table[roles[r]].cast(dt.string) for r in LABEL_ROLES if r in roles]
    return ibis.coalesce(*(ibis.ifelse(t.re_search(LABEL), t, ibis.null(dt.string)) for t in texts))


def _refuse_blank_customers(table: ibis.Table, kinds: dict, counts: dict, mapping: ColumnMapping, source: str,
                            row_name: RowName | None) -> None:
    """Stop when the orphan lines are those of a grouped report (read without --fill-down)."""
    evidence = [f"{counts[key]:,} {what}" for key, what in (("label", "subtotal or total row(s)"),
                                                           ("records", "'(N records)' group header(s)")) if counts[key]]
    if not evidence and counts["orphan"] >= MIN_ORPHANS:
        value = _group_value(table[mapping.customer], kinds["header"])
        once = table.aggregate(n=kinds["giver"].sum(), distinct=value.nunique(where=kinds["giver"]))
        n, distinct = (int(v or 0) for v in once.execute().iloc[0])
        evidence = ["each customer named on one row only"] if n == distinct else []
    if not evidence:
        return  # blank customer cells in a plain export: dropped under missing_customer
    first = int(table.mutate(_row=data_rows(table)).filter(kinds["orphan"]).aggregate(first=ibis._._row.min())
                .execute().iloc[0, 0])
    raise DataError(f"{source}: column {mapping.customer!r} (customer) is blank on {counts['orphan']:,} of "
                    f"{counts['line']:,} lines (first at {data_row(first, row_name)}) in what looks like a report grouped by "
                    f"customer ({' and '.join(evidence)}); use --fill-down to give each blank cell the customer "
                    "above it, or export the report again as \"Details Only\"")


def grouped_lines(table: ibis.Table, mapping: ColumnMapping, source: str,
                  row_name: RowName | None = None) -> tuple[ibis.Table, dict, dict]:
    """`table` without the total and group-header rows of a grouped report, its blank customer cells filled down
    with `mapping.fill_down`; the rows dropped per rule; notes for cleaning.json (none for a plain export).

    Stops on the orphan lines of a grouped report without `fill_down`, and on a grand total whose
    record count is not the number of lines read. A report's rows keep their data row (`DATA_ROW`, the
    row's number in the file as read, 1 below the header), so that later messages name the file's rows.
    Fill-down follows that order: DuckDB reads a file's rows in order (`ibis.row_number()` numbers them
    so, checked in tests/prep/test_grouped.py); Spark does not keep it, so fill-down is refused there.
    """
    require_columns(table, mapping, source)
    kinds = _kinds(table, mapping)
    counts = {key: int(value or 0) for key, value in table.aggregate(
        **{key: kinds[key].sum() for key in ("label", "records", "orphan", "line")}).execute().iloc[0].items()}
    fill = mapping.fill_down and counts["orphan"] > 0
    notes = {"grouped_report": {"column": mapping.customer, "fill_down": True, "customer_filled_down": 0}}
    if counts["orphan"] and not mapping.fill_down:
        _refuse_blank_customers(table, kinds, counts, mapping, source, row_name)
    if not (counts["label"] or counts["records"] or fill):
        return table, {}, notes if mapping.fill_down else {}
    if fill and table.get_backend().name != "duckdb":
        raise UsageError(FILL_DOWN_ON_SPARK)  # a Spark table given with the default engine
    numbered = table.mutate(**{DATA_ROW: ibis.row_number() + 1})
    kinds = _kinds(numbered, mapping)
    name = mapping.customer
    giver = ibis.ifelse(kinds["giver"] & ~kinds["summary"], _group_value(numbered[name], kinds["header"]),
                        ibis.null(numbered[name].type()))
    marked = numbered.mutate(_rule=ibis.ifelse(kinds["label"] | kinds["summary"], "subtotal_row",
                                               ibis.ifelse(kinds["header"], "group_header", ibis.null(dt.string))),
                             _label=kinds["label"], _text=ibis.ifelse(kinds["label"], _label_text(numbered, mapping),
                                                                       ibis.null(dt.string)), _orphan=kinds["orphan"],
                             _giver=giver)
    if fill:  # each line's group: how many rows above it (itself included) give a customer
        marked = marked.mutate(_group=marked._giver.notnull().cast(dt.int64).sum().over(
            ibis.cumulative_window(order_by=marked[DATA_ROW])))
        marked = marked.mutate(_fill=marked._giver.max().over(group_by=marked._group))
    else:
        marked = marked.mutate(_fill=ibis.null(giver.type()))
    marked = marked.cache()
    totals = _grand_totals(marked)
    for row, text, records in totals:
        if records != counts["line"]:
            raise DataError(f"{source}: the grand total row at {data_row(row, row_name)} ({text!r}) counts {records:,} records, "
                            f"but {counts['line']:,} lines were read; was the report cut short or were rows removed? "
                            "Export the report again")
    tally = marked.aggregate(subtotal_row=(marked._rule == "subtotal_row").sum(),
                             group_header=(marked._rule == "group_header").sum(),
                             filled=(marked._orphan & marked._fill.notnull()).sum(),
                             top=(marked._orphan & marked._fill.isnull()).sum()).execute().iloc[0]
    kept = marked.filter(marked._rule.isnull())
    if fill:
        kept = kept.mutate(**{name: ibis.ifelse(kept._orphan, kept._fill, kept[name])})
    notes["grouped_report"] |= {"fill_down": mapping.fill_down, "customer_filled_down": int(tally["filled"] or 0),
                                "left_blank_at_top": int(tally["top"] or 0),
                                "grand_total_records": totals[-1][2] if totals else None}
    return kept.select(*table.columns, DATA_ROW), {rule: int(tally[rule] or 0) for rule in RULE_TEXT}, notes


def record_grouped(cleaning: dict, dropped: dict[str, int]) -> dict:
    """The cleaning summary with a grouped report's dropped rows: counted first, and in rows_in."""
    if not dropped:
        return cleaning
    return cleaning | {"rows_in": cleaning["rows_in"] + sum(dropped.values()), "dropped": dropped | cleaning["dropped"],
                       "rules": {rule: RULE_TEXT[rule] for rule in dropped} | cleaning["rules"]}
