"""Fixtures: a fake Salesforce org over TLS, clients pointed at it, run directories."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import requests
import trustme

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_salesforce import FakeOrg, FakeSalesforce, RewriteAdapter, describe_field  # noqa: E402

from custseg._columns import SALESFORCE_CPQ_FIELDS  # noqa: E402
from custseg._salesforce import SalesforceSettings, connect  # noqa: E402
from custseg._salesforce._soql import id18  # noqa: E402

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
            describe_field("Segment_Score__c", "double", scale=4),
            describe_field("Segment_Date__c", "date"),
            describe_field("Segment_Model__c", "string", length=80),
        ]
    org.add_object("Account", [describe_field("Id", "id", updateable=False), describe_field("Name")] + account_fields, "001")
    for n in range(N_ACCOUNTS):
        org.records["Account"][account_id(n)] = {"Id": account_id(n), "Name": f"Client {n}", "Segment__c": ""}
    return org


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(autouse=True)
def trust_test_ca(monkeypatch, ca_file):
    """requests prefers REQUESTS_CA_BUNDLE to a session's `verify`: point it at the test CA."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture
def org() -> FakeOrg:
    return build_org()


@pytest.fixture
def server(org, ca):
    fake = FakeSalesforce(org, ca).start()
    yield fake
    fake.stop()


@pytest.fixture
def http_session(server, ca_file) -> requests.Session:
    session = requests.Session()
    session.verify = ca_file
    session.mount("https://", RewriteAdapter(f"127.0.0.1:{server.port}"))
    return session


@pytest.fixture
def token_settings(server, org) -> SalesforceSettings:
    org.tokens.add(SECRET)
    return SalesforceSettings(auth="token", instance_url=server.url, access_token=SECRET)


@pytest.fixture
def client(token_settings, http_session):
    return connect(token_settings, session=http_session, poll_seconds=0)


@pytest.fixture
def login_client(server, org, http_session):
    """A client that logs in with client credentials (new token on each login)."""
    org.consumer_secret = SECRET
    settings = SalesforceSettings(auth="client_credentials", consumer_key=org.consumer_key, consumer_secret=SECRET, domain="acme.my")
    return connect(settings, session=http_session, poll_seconds=0)


@pytest.fixture
def sf_env(monkeypatch, server, org, ca_file, tmp_path):
    """Environment of a user with an access token; run from tmp_path."""
    org.tokens.add(SECRET)
    for name in ("SF_USERNAME", "SF_PASSWORD", "SF_SECURITY_TOKEN", "SF_CONSUMER_KEY", "SF_CONSUMER_SECRET",
                 "SF_PRIVATE_KEY_FILE", "SF_DOMAIN", "SF_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SF_INSTANCE_URL", server.url)
    monkeypatch.setenv("SF_ACCESS_TOKEN", SECRET)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "custseg.toml").write_text("[salesforce]\npoll_seconds = 0\n\n[salesforce.push]\nretry_seconds = 0\n", encoding="utf-8")
    return tmp_path


def make_run_dir(path: Path, segments: dict[str, str], distance: float = 0.5, created: str = "2024-05-01T09:30:00+00:00") -> Path:
    """A minimal run directory: assignments.parquet, run.json, model.json."""
    path.mkdir(parents=True, exist_ok=True)
    names = sorted(set(segments.values()))
    frame = pd.DataFrame({
        "customer_id": list(segments),
        "segment_id": [names.index(v) + 1 for v in segments.values()],
        "segment_name": list(segments.values()),
        "distance": [distance + i / 1000 for i in range(len(segments))],
    })
    frame.to_parquet(path / "assignments.parquet", index=False)
    (path / "run.json").write_text(json.dumps({"created": created, "features": ["TotalSales"], "k": {"chosen": len(names)}}))
    (path / "model.json").write_text(json.dumps({"format_version": 1, "centroids": [[0.0]]}))
    return path


@pytest.fixture
def run_dir(tmp_path) -> Path:
    names = ["Champions", "Loyal", "At risk"]
    return make_run_dir(tmp_path / "out", {account_id(n): names[n % 3] for n in range(N_ACCOUNTS)})
