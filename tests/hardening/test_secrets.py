"""Secrets never leak: every file, log record and message written during Salesforce pulls, runs
and pushes (token, password and client-credentials logins; successes and failures) is scanned
for the credentials used, and for the tokens the server issued."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

SF_TESTS = Path(__file__).resolve().parents[1] / "salesforce"
sys.path.insert(0, str(SF_TESTS))

from fake_salesforce import FakeSalesforce, LocalCA, RewriteAdapter  # noqa: E402
from sf_helpers import SECRET, build_org  # noqa: E402

from custseg._cli._salesforce import app as sf_app  # noqa: E402
from custseg._salesforce import _client  # noqa: E402
from custseg.cli import app  # noqa: E402

runner = CliRunner()
SF_VARIABLES = ("SF_USERNAME", "SF_PASSWORD", "SF_SECURITY_TOKEN", "SF_CONSUMER_KEY", "SF_CONSUMER_SECRET",
                "SF_PRIVATE_KEY_FILE", "SF_DOMAIN", "SF_API_VERSION", "SF_INSTANCE_URL", "SF_ACCESS_TOKEN")


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A fake org over TLS; every session custseg opens is routed to it; logs go to a file in the scanned folder."""
    (tmp_path / "ca").mkdir()
    ca = LocalCA(tmp_path / "ca")
    org = build_org()
    server = FakeSalesforce(org, ca).start()
    original = _client.TimeoutSession.__init__

    def routed(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.verify = str(ca.ca_file)
        self.mount("https://", RewriteAdapter(f"127.0.0.1:{server.port}"))

    monkeypatch.setattr(_client.TimeoutSession, "__init__", routed)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca.ca_file))
    for name in SF_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "custseg.toml").write_text("[salesforce]\npoll_seconds = 0\n\n[salesforce.push]\nretry_seconds = 0\n", encoding="utf-8")
    handler = logging.FileHandler(work / "debug.log", encoding="utf-8")
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    messages: list[str] = []
    yield org, server, work, messages
    root.removeHandler(handler)
    root.setLevel(old_level)
    handler.close()
    server.stop()


def secrets_of(org) -> set[str]:
    return {SECRET, org.static_token, org.password, org.consumer_secret, org.security_token,
            org.password + org.security_token, *org.tokens} - {""}


def scan(org, work: Path, messages: list[str]) -> int:
    found = []
    texts = [("message", m) for m in messages]
    texts += [(str(p.relative_to(work)), p.read_bytes().decode("utf-8", "replace")) for p in work.rglob("*") if p.is_file()]
    for where, text in texts:
        for secret in secrets_of(org):
            if secret in text:
                found.append((where, secret))
    assert found == [], found
    return len(texts)


def cli(messages, application, *args):
    result = runner.invoke(application, [str(a) for a in args])
    messages.append(result.output + repr(result.exception))
    return result


def round_trip(messages, work: Path, tag: str) -> None:
    pull = cli(messages, sf_app, "pull", "-o", f"{tag}.parquet", "--config", "custseg.toml")
    assert pull.exit_code == 0, pull.output
    assert cli(messages, sf_app, "pull", "-o", f"{tag}.xlsx", "--year", "2020", "--config", "custseg.toml").exit_code == 0
    run = cli(messages, app, "run", f"{tag}.parquet", "--preset", "salesforce-cpq", "--k", "3", "-o", f"run_{tag}")
    assert run.exit_code == 0, run.output
    assert cli(messages, app, "review", f"run_{tag}", "--approve", "--by", "Head of marketing").exit_code == 0
    for extra in ((), ("--apply",)):
        push = cli(messages, sf_app, "push", f"run_{tag}", *extra, "--config", "custseg.toml")
        assert push.exit_code == 0, push.output
    assert (work / f"run_{tag}" / "run.json").is_file()


def test_token_login_leaks_nothing(world, monkeypatch):
    org, server, work, messages = world
    org.tokens.add(SECRET)
    monkeypatch.setenv("SF_INSTANCE_URL", server.url)
    monkeypatch.setenv("SF_ACCESS_TOKEN", SECRET)
    round_trip(messages, work, "token")
    org.tokens.discard(SECRET)  # revoked: the next command fails, with one line and no token
    failed = cli(messages, sf_app, "pull", "-o", "again.parquet", "--config", "custseg.toml")
    assert failed.exit_code != 0 and failed.output.strip().startswith("Error:")
    debug = cli(messages, sf_app, "pull", "-o", "again.parquet", "--config", "custseg.toml", "--debug")
    assert debug.exit_code != 0
    messages.append("".join(__import__("traceback").format_exception(debug.exception)))
    org.tokens.add(SECRET)
    assert scan(org, work, messages) > 10


def test_password_login_leaks_nothing(world, monkeypatch):
    org, server, work, messages = world
    monkeypatch.setenv("SF_USERNAME", org.username)
    monkeypatch.setenv("SF_PASSWORD", org.password)
    monkeypatch.setenv("SF_SECURITY_TOKEN", org.security_token)
    round_trip(messages, work, "password")
    monkeypatch.setenv("SF_PASSWORD", SECRET)  # wrong password: one line, without it
    failed = cli(messages, sf_app, "pull", "-o", "again.parquet", "--config", "custseg.toml")
    assert failed.exit_code != 0 and "INVALID_LOGIN" in failed.output
    assert org.issued >= 1
    assert scan(org, work, messages) > 10


def test_client_credentials_login_leaks_nothing(world, monkeypatch):
    org, server, work, messages = world
    org.consumer_secret = SECRET
    monkeypatch.setenv("SF_CONSUMER_KEY", org.consumer_key)
    monkeypatch.setenv("SF_CONSUMER_SECRET", SECRET)
    monkeypatch.setenv("SF_DOMAIN", "acme.my")
    round_trip(messages, work, "client")
    org.refuse_at = {org.authenticated + 1}  # REQUEST_LIMIT_EXCEEDED on the next call
    limited = cli(messages, sf_app, "pull", "-o", "again.parquet", "--config", "custseg.toml")
    assert limited.exit_code != 0
    assert scan(org, work, messages) > 10
