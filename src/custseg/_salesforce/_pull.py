"""Pull: a Bulk API 2.0 query streamed page by page to Parquet, CSV or XLSX."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from .._config._columns import CURRENCY_FIELD, SALESFORCE_CPQ_FIELDS
from .._errors import DataError, UsageError
from ._bulk import QueryJob
from ._client import SalesforceClient
from ._org_rates import check_rates_paths, fetch_rates, has_currencies, with_currency, write_rates
from ._soql import build_query, check_field_name, check_object_name, date_range
from ._writers import PageWriter, output_format

Progress = Callable[[str, int, "int | None"], None]
DEFAULT_OBJECT = "SBQQ__Subscription__c"
DEFAULT_DATE_FIELD = "CreatedDate"
DEFAULT_PAGE_SIZE = 50_000
DATE_TYPES = {"date": False, "datetime": True}


@dataclass(frozen=True)
class PullOptions:
    """What to pull: object, fields (SOQL names, also the output header), date window.

    >>> PullOptions().fields[-1]
    'SBQQ__Contract__r.BillingCountry'
    """

    object_name: str = DEFAULT_OBJECT
    fields: tuple[str, ...] = SALESFORCE_CPQ_FIELDS
    date_field: str = DEFAULT_DATE_FIELD
    start: date | None = None
    end: date | None = None
    page_size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        check_object_name(self.object_name)
        for name in self.fields:
            check_field_name(name)
        check_field_name(self.date_field, "date field")
        if not 1 <= int(self.page_size) <= 1_000_000:
            raise UsageError(f"page size must be an int in the range [1, 1000000]; got {self.page_size}")

    @classmethod
    def from_config(cls, config: Mapping | None) -> "PullOptions":
        """Defaults overridden by `[salesforce.pull]` (object, fields, date_field, page_size)."""
        table = dict(((config or {}).get("salesforce", {})).get("pull", {}))
        known = {"object", "fields", "date_field", "page_size"}
        unknown = sorted(set(table) - known)
        if unknown:
            raise UsageError(f"unknown key(s) in [salesforce.pull]: {', '.join(unknown)}; keys are {', '.join(sorted(known))}")
        kwargs = {}
        if "object" in table:
            kwargs["object_name"] = str(table["object"])
        if "fields" in table:
            if not isinstance(table["fields"], list):
                raise UsageError("[salesforce.pull] fields must be a list of field names")
            kwargs["fields"] = tuple(table["fields"])
        if "date_field" in table:
            kwargs["date_field"] = str(table["date_field"])
        if "page_size" in table:
            kwargs["page_size"] = int(table["page_size"])
        return cls(**kwargs)

    def with_window(self, year: int | None = None, since: str | None = None, until: str | None = None) -> "PullOptions":
        """Copy with the date window of --year or --since/--until."""
        start, end = date_range(year, since, until)
        return replace(self, start=start, end=end)


@dataclass
class PullReport:
    """What a pull did."""

    output: Path
    rows: int
    pages: int
    job_id: str
    soql: str
    server_rows: int
    page_rows: list[int] = field(default_factory=list)
    rates: list[Path] = field(default_factory=list)  # the org's rates files, beside the output (`_org_rates`)
    currency_note: str = ""


def _check_fields(describe: dict, options: PullOptions) -> bool:
    """Check the fields exist; return whether the date field is a datetime."""
    obj = options.object_name
    by_name = {f["name"].lower(): f for f in describe.get("fields", [])}
    relations = {str(f.get("relationshipName") or "").lower() for f in describe.get("fields", [])}
    missing = []
    for name in options.fields:
        head = name.split(".")[0].lower()
        if ("." in name and head not in relations) or ("." not in name and head not in by_name):
            missing.append(name)
    if missing:
        raise DataError(f"{obj} has no field {', '.join(missing)} visible to this user; fix the field list ([salesforce.pull] fields or --fields)")
    if options.start is None and options.end is None:
        return True
    date_field = by_name.get(options.date_field.lower()) if "." not in options.date_field else None
    if date_field is None:
        raise DataError(f"{obj} has no date field {options.date_field} visible to this user (--date-field)")
    kind = date_field.get("type")
    if kind not in DATE_TYPES:
        raise UsageError(f"date field {obj}.{options.date_field} is of type {kind}, not date or datetime (--date-field)")
    return DATE_TYPES[kind]


def _check_header(header: list[str], expected: list[str], page: int) -> None:
    if [h.lower() for h in header] != [e.lower() for e in expected]:
        raise DataError(f"page {page} of the Salesforce query has columns {header}, expected {expected}")


def pull_records(
    client: SalesforceClient,
    output: str | Path,
    options: PullOptions | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> PullReport:
    """Run the Bulk API 2.0 query of `options` and stream every page to `output`.

    The output has one column per field, named exactly as in the SOQL, all text, plus
    `CurrencyIsoCode` when the org has multi-currency; then the org's conversion rates are
    saved beside the output (`_org_rates`). The row count is checked against what
    Salesforce announced.

    >>> pull_records(client, "sales_2020.parquet", PullOptions().with_window(year=2020))  # doctest: +SKIP
    """
    options = options or PullOptions()
    output = Path(output)
    output_format(output)
    if output.exists() and (output.is_dir() or not overwrite):
        raise UsageError(f"output {output} already exists (use --overwrite to replace it)")
    if not output.parent.is_dir():
        raise UsageError(f"output folder {output.parent} does not exist")
    report_progress = progress or (lambda stage, done, total: None)
    obj = options.object_name

    describe = client.describe(obj)
    is_datetime = _check_fields(describe, options)
    fields = with_currency(options.fields, describe)
    multi_currency = has_currencies(describe)
    if multi_currency:
        check_rates_paths(output, overwrite)
    rates = fetch_rates(client) if multi_currency else {}  # before the lines: a refused query costs no pull
    soql = build_query(obj, fields, options.date_field, options.start, options.end, is_datetime)

    job = QueryJob(client, obj, soql).run()
    report_progress("pull", 0, job.server_rows)

    expected = list(fields)
    writer = PageWriter(output, expected)  # header: the SOQL names as configured
    try:
        for header, rows in job.pages(options.page_size):
            _check_header(header, expected, len(job.page_rows))
            width = len(expected)
            bad = next((i for i, row in enumerate(rows, start=2) if len(row) != width), None)
            if bad is not None:
                raise DataError(f"page {len(job.page_rows)} of query job {job.job_id}, line {bad}: wrong number of cells")
            writer.write(rows)
            report_progress("pull", writer.rows, job.server_rows)
        job.check_total(writer.rows)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    saved = write_rates(output, rates)
    return PullReport(output, writer.rows, len(job.page_rows), job.job_id, soql, job.server_rows, job.page_rows, saved,
                      _currency_note(obj, multi_currency, options.fields != fields, saved, output))


def _currency_note(obj: str, multi_currency: bool, added: bool, saved: list[Path], output: Path) -> str:
    """What the pull did about currencies, and how `custseg run` reads them (only when told: --rates)."""
    if not multi_currency:
        return f"{obj} has no {CURRENCY_FIELD}: the org has one currency, no rates file written"
    field_text = f"{CURRENCY_FIELD} added to the fields" if added else f"{CURRENCY_FIELD} in the fields"
    if not saved:
        return f"the org has multi-currency ({field_text}) but no conversion rates could be read"
    return (f"the org has multi-currency ({field_text}); its conversion rates written to {', '.join(map(str, saved))}: "
            f"give them to the run, e.g. custseg run {output} --preset salesforce-cpq --rates {saved[0]}")
