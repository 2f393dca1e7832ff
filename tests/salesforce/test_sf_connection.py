"""Connection: settings from the environment and custseg.toml, every login kind, bad credentials."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sf_helpers import SECRET

from custseg._errors import DataError, UsageError
from custseg._salesforce import SalesforceSettings, connect, settings_from_env

URL = "https://acme.my.salesforce.com"


@pytest.mark.parametrize("env, auth", [
    ({"SF_INSTANCE_URL": URL, "SF_ACCESS_TOKEN": "t0ken"}, "token"),
    ({"SF_USERNAME": "u@x", "SF_CONSUMER_KEY": "ck", "SF_PRIVATE_KEY_FILE": "__KEY__"}, "jwt"),
    ({"SF_CONSUMER_KEY": "ck", "SF_CONSUMER_SECRET": "cs", "SF_DOMAIN": "acme.my"}, "client_credentials"),
    ({"SF_USERNAME": "u@x", "SF_PASSWORD": "pw", "SF_SECURITY_TOKEN": "st", "SF_DOMAIN": "test"}, "password"),
])
def test_login_kind_from_environment(env, auth, tmp_path):
    key = tmp_path / "server.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    env = {k: (str(key) if v == "__KEY__" else v) for k, v in env.items()}
    settings = settings_from_env(environ=env)
    assert settings.auth == auth
    for secret in ("t0ken", "cs", "pw", "st"):
        assert f"'{secret}'" not in repr(settings)


def test_password_login_pins_the_api_version():
    env = {"SF_USERNAME": "u@x", "SF_PASSWORD": "pw", "SF_SECURITY_TOKEN": ""}
    assert settings_from_env(environ=env).api_version == "64.0"
    with pytest.raises(UsageError, match="password login needs API version <= 64.0"):
        settings_from_env({"salesforce": {"api_version": "65.0"}}, environ=env)


def test_toml_gives_non_secret_settings():
    config = {"salesforce": {"domain": "https://acme--uat.sandbox.my.salesforce.com", "api_version": "62.0", "poll_seconds": 0.5}}
    settings = settings_from_env(config, environ={"SF_CONSUMER_KEY": "ck", "SF_CONSUMER_SECRET": "cs"})
    assert (settings.domain, settings.api_version, settings.poll_seconds) == ("acme--uat.sandbox.my", "62.0", 0.5)


@pytest.mark.parametrize("env, config, message", [
    ({}, {}, "no Salesforce credentials: set SF_INSTANCE_URL and SF_ACCESS_TOKEN"),
    ({"SF_ACCESS_TOKEN": "x"}, {}, "SF_ACCESS_TOKEN is set but SF_INSTANCE_URL is not"),
    ({"SF_INSTANCE_URL": "http://acme.my.salesforce.com", "SF_ACCESS_TOKEN": "x"}, {}, "the address of acme.my.salesforce.com is not an https:// address"),
    ({"SF_CONSUMER_KEY": "ck", "SF_CONSUMER_SECRET": "cs"}, {}, "needs the org's My Domain"),
    ({"SF_USERNAME": "u", "SF_PASSWORD": "p"}, {}, "needs SF_SECURITY_TOKEN too"),
    ({"SF_USERNAME": "u"}, {}, "only SF_USERNAME found"),
    ({}, {"salesforce": {"password": "x"}}, "must not hold secrets"),
    ({}, {"salesforce": {"domian": "test"}}, "unknown key.*domian"),
    ({"SF_INSTANCE_URL": URL, "SF_ACCESS_TOKEN": "x", "SF_API_VERSION": "v60"}, {}, "API version must look like"),
])
def test_configuration_errors(env, config, message):
    with pytest.raises(UsageError, match=message):
        settings_from_env(config, environ=env)


def _describe(client):
    return client.describe("Account")["name"]


def test_client_credentials_login(login_client, org):
    assert _describe(login_client) == "Account"
    assert org.issued == 1 and "/services/oauth2/token" in org.paths("POST")


def test_jwt_login(server, org, http_session, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "server.key"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    org.public_key = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    env = {"SF_USERNAME": org.username, "SF_CONSUMER_KEY": org.consumer_key, "SF_PRIVATE_KEY_FILE": str(path)}
    client = connect(settings_from_env(environ=env), session=http_session, poll_seconds=0)
    assert _describe(client) == "Account"
    wrong = connect(settings_from_env(environ={**env, "SF_USERNAME": "someone@else"}), session=http_session)
    with pytest.raises(DataError, match="Salesforce login failed .*invalid_client.*check SF_USERNAME, SF_CONSUMER_KEY"):
        _describe(wrong)


def test_password_login_to_a_sandbox(server, org, http_session):
    env = {"SF_USERNAME": org.username, "SF_PASSWORD": org.password, "SF_SECURITY_TOKEN": org.security_token, "SF_DOMAIN": "test"}
    client = connect(settings_from_env(environ=env), session=http_session, poll_seconds=0)
    assert _describe(client) == "Account"
    assert any(p.startswith("/services/Soap/u/64.0") for p in org.paths("POST"))


def test_bad_password_is_one_line_without_the_password(server, org, http_session):
    env = {"SF_USERNAME": org.username, "SF_PASSWORD": SECRET, "SF_SECURITY_TOKEN": "nope"}
    client = connect(settings_from_env(environ=env), session=http_session)
    with pytest.raises(DataError) as info:
        _describe(client)
    text = str(info.value)
    assert "INVALID_LOGIN" in text and "SF_PASSWORD" in text and SECRET not in text and "\n" not in text


def test_bad_client_secret(server, org, http_session):
    settings = SalesforceSettings(auth="client_credentials", consumer_key=org.consumer_key, consumer_secret=SECRET, domain="acme.my")
    with pytest.raises(DataError, match=r"Salesforce login failed at acme.my.salesforce.com \(invalid_client"):
        _describe(connect(settings, session=http_session))


def test_expired_token_reconnects_once_then_gives_up(client, org):
    org.tokens.discard(SECRET)  # revoked for good: the new client gets the same refusal
    with pytest.raises(DataError, match="rejected the session .*INVALID_SESSION_ID.*set a valid SF_ACCESS_TOKEN"):
        _describe(client)
    assert client.reconnects == 1


def test_unreachable_instance(http_session):
    settings = SalesforceSettings(auth="token", instance_url="https://127.0.0.1:9", access_token=SECRET, timeout_seconds=2)
    with pytest.raises(DataError, match="cannot reach Salesforce at 127.0.0.1:9") as info:
        connect(settings).describe("Account")
    assert SECRET not in str(info.value)
