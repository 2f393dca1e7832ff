"""How to read an input and map its columns: one set of options for every command that reads data.

`run`, `score`, `refresh`, `rfm` and `compare-methods` take the same column, date-format and
reading options (next year's file often changes format): `with_input_options` adds them to a
command, which receives them as one `InputOptions`.
"""

from __future__ import annotations

import functools
import inspect
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Optional

import typer

from .._config import ReadOptions, build_run_config
from .._config._options import is_url
from .._errors import UsageError


def _option(kind, help: str, *names: str, default=None):
    """A dataclass field that is also a Typer option."""
    option = typer.Option(*names, help=help, rich_help_panel="Columns and reading")
    return field(default=default, metadata={"option": Annotated[kind, option]})


TEXT = Optional[str]
ROLES = ("customer", "order", "product", "product_label", "quantity", "price", "amount", "date", "end_date", "country",
         "currency", "date_format", "cancellations", "fill_down")
READING = ("sheet", "delimiter", "encoding", "max_line_size", "decimal", "header_row", "input_format")


@dataclass(frozen=True)
class InputOptions:
    """The column and reading options as given on the command line (None: not given)."""

    preset: str | None = _option(TEXT, "Column preset: salesforce-cpq or online-retail.")
    config: Path | None = _option(Optional[Path], "custseg.toml with \\[columns] and \\[run] tables.")
    customer: str | None = _option(TEXT, "Column of the customer id (sales lines).")
    order: str | None = _option(TEXT, "Column of the order / line id.")
    product: str | None = _option(TEXT, "Column of the product code.")
    product_label: str | None = _option(TEXT, "Column of the product's name (shown beside its code).")
    quantity: str | None = _option(TEXT, "Column of the quantity.")
    price: str | None = _option(TEXT, "Column of the unit / net price.")
    amount: str | None = _option(TEXT, "Column of the line amount (instead of quantity x price).")
    date: str | None = _option(TEXT, "Column of the line date.")
    end_date: str | None = _option(TEXT, "Column of the line's end date (subscriptions).")
    country: str | None = _option(TEXT, "Column of the customer's country.")
    currency: str | None = _option(TEXT, "Column of the line's currency code (the salesforce-cpq preset reads "
                                         "CurrencyIsoCode when present).")
    rates: Path | None = _option(Optional[Path], "CSV of conversion rates to the corporate currency: Salesforce's "
                                 "CurrencyType or DatedConversionRate export, or currency,rate[,start,end]; amount / rate.")
    date_format: list[str] | None = _option(
        Optional[list[str]], "strptime format of text dates, e.g. %d/%m/%Y (repeatable: tried in order).")
    salesforce_ids: bool = _option(bool, "Customer ids are Salesforce ids: 15-character ids become 18 (on with "
                                   "--preset salesforce-cpq).", "--salesforce-ids", default=False)
    cancellations: str | None = _option(
        TEXT, "net (match each cancellation or refund to an earlier purchase), signed (keep every line with its sign: "
              "a negative quantity is an amendment; the salesforce-cpq default) or drop (drop quantity <= 0, the "
              "study's rule).")
    fill_down: bool = _option(bool, "A report grouped by customer (customer on each group's first row only): a blank "
                              "customer cell takes the customer above it.", "--fill-down", default=False)
    id_column: str | None = _option(TEXT, "Customer id column (--customers mode).", "--id")
    sheet: str | None = _option(TEXT, "Excel sheet name or index, or all: every sheet with the same column names.")
    delimiter: str | None = _option(TEXT, "CSV delimiter (default: detected).")
    encoding: str | None = _option(TEXT, "CSV encoding, any Python codec name: utf-8, cp1252, latin-1, utf-16, shift_jis... "
                                         "(default: UTF-8 if the file is valid UTF-8, else cp1252).")
    max_line_size: str | None = _option(TEXT, "Longest CSV line the reader takes, e.g. 8MB (default 2 MiB, DuckDB's).")
    decimal: str | None = _option(TEXT, "Decimal mark: auto (default), '.' or ','.")
    header_row: int | None = _option(Optional[int], "Row number of the column names (default 1), for a title block "
                                                    "above the table.")
    input_format: str | None = _option(TEXT, "csv or parquet: the format of a cluster input's parts (--engine spark; "
                                              "default: their suffix).")

    def roles(self) -> dict:
        """The column roles and their options, None where not given."""
        roles = {name: getattr(self, name) for name in ROLES}
        roles["date_format"] = tuple(self.date_format) if self.date_format else None
        roles["fill_down"] = self.fill_down or None
        return roles

    def reading(self) -> dict:
        """The reading options given."""
        return {name: getattr(self, name) for name in READING if getattr(self, name) is not None}

    def run_config(self, customers: bool = False, settings: dict | None = None, **fixed):
        """A RunConfig as `custseg run` builds it: custseg.toml, then the preset, then these options."""
        settings = {**(settings or {}), "salesforce_ids": self.salesforce_ids or None, "rates": self._rates()}
        return build_run_config(self.config, preset=self.preset, customers=customers,
                                roles={} if customers else self.roles(), settings=settings,
                                id_column=self.id_column, read=ReadOptions(**self.reading()), **fixed)

    def model_changes(self) -> dict:
        """What `custseg.score` / `custseg.refresh` change of a saved model's config: how the new file is read."""
        return {"read": self.reading(), "preset": self.preset, "config_file": self.config, "roles": self.roles(),
                "id_column": self.id_column, "salesforce_ids": self.salesforce_ids or None, "rates": self._rates()}

    def _rates(self) -> str | None:
        return str(self.rates) if self.rates else None


def local_output(text: str) -> Path:
    """The output folder as a local path; a URL (s3a://, hdfs://) is refused: outputs are written on the driver."""
    if is_url(text) or re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:$", text.split("/", 1)[0]):
        raise UsageError(f"-o {text}: outputs are written on the driver's local disk; give a local folder and copy it "
                         "to the cluster's storage afterwards (e.g. hadoop fs -put)")
    return Path(text)


def one_or_several(paths: list[Path]) -> Path | list[Path]:
    """The input argument as the library takes it: a path, or a list of them (stacked by column name)."""
    return paths[0] if len(paths) == 1 else list(paths)


def with_input_options(command):
    """Add the `InputOptions` to a Typer command; it receives them as its `inputs` argument."""
    signature = inspect.signature(command, eval_str=True)
    added = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.metadata["option"])
             for f in fields(InputOptions)]
    own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) if p.default is not p.empty else p
           for p in signature.parameters.values() if p.name != "inputs"]
    positional = [p for p in own if p.kind != inspect.Parameter.KEYWORD_ONLY]

    @functools.wraps(command)
    def with_inputs(*args, **options):
        inputs = InputOptions(**{f.name: options.pop(f.name, f.default) for f in fields(InputOptions)})
        return command(*args, inputs=inputs, **options)

    with_inputs.__signature__ = signature.replace(parameters=[*positional, *(p for p in own if p not in positional), *added])
    return with_inputs

