"""Test data shared by the Salesforce tests: the fake org's content and run directories."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from fake_salesforce import FakeOrg, describe_field

from custseg._config._columns import SALESFORCE_CPQ_FIELDS
from custseg._review import approval_record
from typer.testing import CliRunner

from custseg._salesforce import PushFields, push_segments
from custseg._cli._salesforce import app
from custseg._salesforce._soql import id18

SECRET = "00DSECRET!Zq9-distinctive-token-7781"
N_ACCOUNTS = 40
N_SUBSCRIPTIONS = 2_350


def account_id(n: int) -> str:
    return id18(f"001{n:012d}")


def subscription_rows(n: int) -> list[dict[str, str]]:
    """Rows keyed by SOQL field names, with awkward text (commas, quotes, newlines, formulas, empties)."""
    rows = []
    for i in range(n):
        year = 2019 + i % 3  # 2019, 2020, 2021
        rows.append({
            "Id": id18(f"a1X{i:012d}"),
            "Name": f"SUB-{i:07d}",
            "SBQQ__ProductName__c": ["SUPERBLANC 42,5 SAC 25KG", 'MULTIBAT "SAC"', "NATHURAL\nSAC", "=HYPERLINK(1)"][i % 4],
            "SBQQ__Quantity__c": ["1", "-1", "190", "2.5"][i % 4],
            "Description__c": "" if i % 7 == 0 else f"DESC-{i % 13}",
            "Code_Produit__c": f"{1402543 + i % 50}",
            "SBQQ__Account__c": account_id(i % N_ACCOUNTS),
            "SBQQ__Contract__c": id18(f"800{i // 10:012d}"),
            "SBQQ__ContractNumber__c": f"CON-{i // 10:09d}",
            "SBQQ__StartDate__c": f"{year}-03-01",
            "SBQQ__EndDate__c": f"{year}-11-28",
            "SBQQ__NetPrice__c": f"{(i % 97) * 4.5 + 0.25:.2f}",
            "SBQQ__Contract__r.BillingCountry": ["France", "Belgique", ""][i % 3],
            "CreatedDate": f"{year}-{1 + i % 12:02d}-15T10:00:00.000+0000",
        })
    return rows


def build_org(account_fields: list[dict] | None = None) -> FakeOrg:
    org = FakeOrg()
    plain = [f for f in SALESFORCE_CPQ_FIELDS if "." not in f]
    sub_fields = [describe_field(f) for f in plain] + [
        describe_field("Id", "id", updateable=False),
        describe_field("CreatedDate", "datetime", updateable=False),
        describe_field("SBQQ__Contract__c", "reference", relationship="SBQQ__Contract__r"),
    ]
    sub_fields = [f for f in sub_fields if not (f["name"] == "SBQQ__Contract__c" and f["relationshipName"] is None)]
    for f in sub_fields:
        if f["name"] in ("SBQQ__StartDate__c", "SBQQ__EndDate__c"):
            f["type"] = "date"
    org.add_object("SBQQ__Subscription__c", sub_fields, "a1X")
    for row in subscription_rows(N_SUBSCRIPTIONS):
        org.records["SBQQ__Subscription__c"][row["Id"]] = row
    if account_fields is None:
        account_fields = [
            describe_field("Segment__c", "string", length=80),
            describe_field("Segment_Id__c", "double"),
            describe_field("Segment_Action__c", "textarea", length=1000),
            describe_field("Segment_Score__c", "double", scale=4),
            describe_field("Segment_Date__c", "date"),
            describe_field("Segment_Model__c", "string", length=80),
        ]
    org.add_object("Account", [describe_field("Id", "id", updateable=False), describe_field("Name")] + account_fields, "001")
    for n in range(N_ACCOUNTS):
        org.records["Account"][account_id(n)] = {"Id": account_id(n), "Name": f"Client {n}", "Segment__c": ""}
    return org


SEGMENT_ONLY = PushFields(segment_id=None, action=None, date=None)  # the push of the segment's name alone


def action_of(name: str) -> str:
    return f"Call the {name} accounts"


def make_run_dir(path: Path, segments: dict[str, str], distance: float = 0.5, created: str = "2024-05-01T09:30:00+00:00",
                 approved: bool = True) -> Path:
    """A minimal run directory: assignments.parquet, profiles.csv (actions), run.json, model.json; approved unless told."""
    path.mkdir(parents=True, exist_ok=True)
    names = sorted(set(segments.values()))
    frame = pd.DataFrame({
        "customer_id": list(segments),
        "segment_id": [names.index(v) + 1 for v in segments.values()],
        "segment_name": list(segments.values()),
        "distance": [distance + i / 1000 for i in range(len(segments))],
    })
    frame.to_parquet(path / "assignments.parquet", index=False)
    pd.DataFrame({"segment_id": range(1, len(names) + 1), "name_en": names,
                  "action_en": [action_of(n) for n in names]}).to_csv(path / "profiles.csv", index=False)
    run = {"created": created, "features": ["TotalSales"], "k": {"chosen": len(names)}, "lang": "en"}
    (path / "model.json").write_text(json.dumps({"format_version": 1, "centroids": [[0.0]]}))
    if approved:
        run["approval"] = approval_record(path, "Test Approver", datetime(2024, 5, 2, tzinfo=timezone.utc))
    (path / "run.json").write_text(json.dumps(run))
    return path


CURRENCY_TYPES = [("EUR", 1.0, True), ("JPY", 161.2, False), ("USD", 1.08, False)]


def add_currencies(org: FakeOrg, dated: list[tuple[str, float, str, str]] | None = None) -> FakeOrg:
    """Multi-currency on `org`: CurrencyIsoCode on every subscription (EUR, then JPY every 5th, USD every 7th), the
    CurrencyType rates and, when given, DatedConversionRate periods (IsoCode, rate, StartDate, NextStartDate)."""
    org.objects["SBQQ__Subscription__c"]["fields"].append(describe_field("CurrencyIsoCode", "picklist"))
    for i, record in enumerate(org.records["SBQQ__Subscription__c"].values()):
        record["CurrencyIsoCode"] = "JPY" if i % 5 == 0 else "USD" if i % 7 == 0 else "EUR"
    org.add_object("CurrencyType", [describe_field(f) for f in ("Id", "IsoCode", "ConversionRate", "IsCorporate")])
    for n, (code, rate, corporate) in enumerate(CURRENCY_TYPES):
        org.records["CurrencyType"][f"ct{n}"] = {"IsoCode": code, "ConversionRate": rate, "IsCorporate": corporate}
    if dated is not None:
        org.add_object("DatedConversionRate", [describe_field(f) for f in ("Id", "IsoCode", "ConversionRate", "StartDate",
                                                                           "NextStartDate")])
        for n, (code, rate, start, end) in enumerate(dated):
            org.records["DatedConversionRate"][f"dr{n}"] = {"IsoCode": code, "ConversionRate": rate, "StartDate": start,
                                                           "NextStartDate": end}
    return org


def invoke(*args):
    """`custseg ARGS` in-process: the result and its whole output (stdout, then stderr)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result, result.stdout + (result.stderr or "")


def push(run_dir, client, **kwargs):
    """An applied push without retry waits."""
    kwargs.setdefault("retry_seconds", 0)
    return push_segments(run_dir, client, apply=True, **kwargs)


def segments(org) -> list[str]:
    """The org's segment field of every account, in account order."""
    return [org.records["Account"][account_id(n)].get("Segment__c", "") for n in range(N_ACCOUNTS)]
