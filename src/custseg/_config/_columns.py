"""Column roles, presets and the mapping from a user's columns to those roles."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

from .._errors import UsageError

CANCELLATION_RULES = ("net", "signed", "drop")
ROLES = ("customer", "order", "product", "product_label", "quantity", "price", "amount", "date", "end_date", "country",
         "currency")
NUMERIC_ROLES = ("quantity", "price", "amount")
DATE_ROLES = ("date", "end_date")
FILL_DOWN_ON_SPARK = ("--fill-down follows the row order of the file, which the Spark engine does not keep; "
                      "run it with --engine duckdb")


@dataclass(frozen=True)
class ColumnMapping:
    """Which input column plays which role, and how to read it.

    `price` is a unit price multiplied by `quantity`; `amount` is a line amount used as is.
    `date_format`: one strptime format or several, tried in order before the ISO forms.
    `salesforce_ids`: customer ids are Salesforce ids, normalised to their 18-character form.
    `currency`: the column of each line's currency code (Salesforce's CurrencyIsoCode); its
    amounts are converted to the corporate currency with `RunConfig.rates` (`_prep._currency`).
    `when_present`: roles mapped only when the input has their column (a preset's optional
    columns, see `present_in`); a role given explicitly (`with_overrides`) is required.
    `cancellations`: "net" (a line with a negative quantity, or amount, is matched to the
    earlier purchase it cancels and netted; unmatched ones are dropped), "signed" (every line
    kept with its sign: a negative quantity is an amendment, as in a CPQ export; a customer
    with a negative total or amendments only is dropped) or "drop" (the study's rule: every
    line with quantity <= 0, and every order with the cancellation prefix, dropped).
    `fill_down`: a report grouped by customer names each customer on its group's first row only; a
    line whose customer cell is blank takes the customer of the nearest row above (`_prep._grouped`).

    >>> ColumnMapping(customer="CustomerID", quantity="Quantity", price="UnitPrice").roles()["customer"]
    'CustomerID'
    """

    customer: str
    order: str | None = None
    product: str | None = None
    product_label: str | None = None
    quantity: str | None = None
    price: str | None = None
    amount: str | None = None
    date: str | None = None
    end_date: str | None = None
    country: str | None = None
    currency: str | None = None
    date_format: str | tuple[str, ...] | None = None
    cancellation_prefix: str | None = None
    fields: tuple[str, ...] = field(default=())
    salesforce_ids: bool = False
    cancellations: str = "net"
    when_present: tuple[str, ...] = field(default=())
    fill_down: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "when_present", tuple(self.when_present))
        unknown = [role for role in self.when_present if role not in ROLES]
        if unknown:
            raise UsageError(f"when_present names unknown role(s): {', '.join(unknown)}; roles are {', '.join(ROLES)}")
        if isinstance(self.date_format, list | tuple):
            formats = tuple(self.date_format)
            object.__setattr__(self, "date_format", formats[0] if len(formats) == 1 else formats or None)
        if self.cancellations not in CANCELLATION_RULES:
            raise UsageError(f"cancellations must be one of {', '.join(CANCELLATION_RULES)}; got {self.cancellations!r}")

    def roles(self) -> dict[str, str]:
        """Role -> column name, for the roles that are mapped."""
        return {role: getattr(self, role) for role in ROLES if getattr(self, role)}

    def column_kinds(self) -> dict[str, str]:
        """Mapped column -> "number", "date" or "text": the type its role takes (text for a column in two kinds of role).

        >>> ColumnMapping(customer="Account", price="Net", date="Day").column_kinds()
        {'Account': 'text', 'Net': 'number', 'Day': 'date'}
        """
        kinds: dict[str, str] = {}
        for role, name in self.roles().items():
            kind = "number" if role in NUMERIC_ROLES else "date" if role in DATE_ROLES else "text"
            kinds[name] = kind if kinds.get(name, kind) == kind else "text"
        return kinds

    def with_overrides(self, **overrides: str | None) -> "ColumnMapping":
        """Copy with the given roles/options replaced (None values are ignored); a role given is required.

        >>> preset("salesforce-cpq").with_overrides(currency="Devise").when_present
        ()
        """
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise UsageError(f"unknown column role(s): {', '.join(unknown)}; roles are {', '.join(ROLES)}")
        given = {k: v for k, v in overrides.items() if v is not None}
        if "when_present" not in given:
            given["when_present"] = tuple(role for role in self.when_present if role not in given)
        return replace(self, **given)

    def present_in(self, columns: list[str]) -> "ColumnMapping":
        """The mapping an input with `columns` is read with: each `when_present` role whose column the
        input lacks is unmapped; every other mapped column stays required (`_prep._parse.require_columns`).

        >>> preset("salesforce-cpq").present_in(["Name"]).currency is None
        True
        >>> preset("salesforce-cpq").present_in(["Name", "CurrencyIsoCode"]).currency
        'CurrencyIsoCode'
        """
        absent = {role: None for role in self.when_present if getattr(self, role) not in columns}
        return replace(self, **absent, when_present=())

    def optional_columns(self) -> list[str]:
        """The columns of the `when_present` roles: a reader does not ask for them."""
        return [getattr(self, role) for role in self.when_present if getattr(self, role)]

    def to_dict(self) -> dict:
        """Plain dict for run.json / model.json."""
        out = asdict(self)
        out["fields"] = list(self.fields)
        out["when_present"] = list(self.when_present)
        if isinstance(self.date_format, tuple):
            out["date_format"] = list(self.date_format)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "ColumnMapping":
        """Inverse of `to_dict`."""
        data = dict(data)
        data["fields"] = tuple(data.get("fields", ()))
        data["when_present"] = tuple(data.get("when_present", ()))
        return cls(**data)


SALESFORCE_CPQ_FIELDS = (
    "Name",
    "SBQQ__ProductName__c",
    "SBQQ__Quantity__c",
    "Description__c",
    "Code_Produit__c",
    "SBQQ__Account__c",
    "SBQQ__Contract__c",
    "SBQQ__ContractNumber__c",
    "SBQQ__StartDate__c",
    "SBQQ__EndDate__c",
    "SBQQ__NetPrice__c",
    "SBQQ__Contract__r.BillingCountry",
)

CURRENCY_FIELD = "CurrencyIsoCode"  # on every record of an org with multi-currency (Salesforce's standard field)

PRESETS: dict[str, ColumnMapping] = {
    "salesforce-cpq": ColumnMapping(
        customer="SBQQ__Account__c",
        order="Name",
        product="SBQQ__ProductName__c",
        product_label="Description__c",
        quantity="SBQQ__Quantity__c",
        price="SBQQ__NetPrice__c",
        date="SBQQ__StartDate__c",
        end_date="SBQQ__EndDate__c",
        country="SBQQ__Contract__r.BillingCountry",
        currency=CURRENCY_FIELD,
        date_format="%d/%m/%Y",
        fields=SALESFORCE_CPQ_FIELDS,
        salesforce_ids=True,
        cancellations="signed",
        when_present=("currency",),  # a multi-currency org's records have it; a single-currency org's do not
    ),
    "online-retail": ColumnMapping(
        customer="CustomerID",
        order="InvoiceNo",
        product="StockCode",
        product_label="Description",
        quantity="Quantity",
        price="UnitPrice",
        date="InvoiceDate",
        country="Country",
        date_format="%Y-%m-%d %H:%M:%S",
        cancellation_prefix="C",
        fields=("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"),
    ),
}


def preset(name: str) -> ColumnMapping:
    """The mapping of a named preset.

    >>> preset("online-retail").cancellation_prefix
    'C'
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise UsageError(f"unknown preset {name!r}; presets are {', '.join(sorted(PRESETS))}") from None


def mapping_from_config(config: dict, base: ColumnMapping | None = None) -> ColumnMapping:
    """Build a mapping from a config's [columns] table, starting from `base` (or a preset it names)."""
    columns = dict(config.get("columns", {}))
    preset_name = columns.pop("preset", None)
    if preset_name:
        base = preset(preset_name)
    if "fields" in columns:
        columns["fields"] = tuple(columns["fields"])
    if base is None:
        if "customer" not in columns:
            raise UsageError("no column mapping: give --preset, --id/--customer or a [columns] table with 'customer'")
        return ColumnMapping(**columns)
    return base.with_overrides(**columns)
