"""Fixtures: a fake Salesforce org over TLS, clients pointed at it, run directories."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_salesforce import FakeOrg, FakeSalesforce, RewriteAdapter, LocalCA  # noqa: E402
from sf_helpers import N_ACCOUNTS, SECRET, account_id, build_org, make_run_dir  # noqa: E402

from custseg._salesforce import SalesforceSettings, connect  # noqa: E402


@pytest.fixture(scope="session")
def ca(tmp_path_factory) -> LocalCA:
    return LocalCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="session")
def ca_file(ca) -> str:
    return str(ca.ca_file)


@pytest.fixture(autouse=True)
def trust_test_ca(monkeypatch, ca_file):
    """requests prefers REQUESTS_CA_BUNDLE to a session's `verify`: point it at the test CA."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("CUSTSEG_SF_RETRY_SECONDS", "0.001")  # backoff of repeated reads: tiny waits in tests


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
def client_for(ca, ca_file, request):
    """A function: FakeOrg -> token client on a server of its own (for orgs built with other fields)."""

    def make(other: FakeOrg):
        fake = FakeSalesforce(other, ca).start()
        request.addfinalizer(fake.stop)
        other.tokens.add(SECRET)
        session = requests.Session()
        session.verify = ca_file
        return connect(SalesforceSettings(auth="token", instance_url=fake.url, access_token=SECRET), session=session, poll_seconds=0)

    return make


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


@pytest.fixture
def run_dir(tmp_path) -> Path:
    names = ["Champions", "Loyal", "At risk"]
    return make_run_dir(tmp_path / "out", {account_id(n): names[n % 3] for n in range(N_ACCOUNTS)})
