"""Connection settings: which login to use, from environment variables and custseg.toml.

Secrets (tokens, passwords, keys) come only from environment variables; the
`[salesforce]` table of custseg.toml holds the non-secret settings. Secret values
never appear in a repr, a message or a file: `redact` removes them from any text.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus, urlparse

from .._errors import UsageError

DEFAULT_API_VERSION = "64.0"
# Salesforce removes the SOAP login() call from API 65.0: password login is pinned below it.
PASSWORD_LOGIN_MAX_VERSION = 64.0
DEFAULT_TIMEOUT_SECONDS = 120.0

AUTH_KINDS = ("token", "jwt", "client_credentials", "password")
SECRET_CONFIG_KEYS = frozenset(
    {"access_token", "token", "password", "security_token", "consumer_secret", "client_secret", "private_key", "session_id"}
)
CONNECTION_CONFIG_KEYS = frozenset(
    {"instance_url", "domain", "api_version", "timeout_seconds", "poll_seconds", "http_retries", "http_retry_seconds",
     "job_timeout_minutes", "http_retry_after_max_seconds", "state_dir"}
)
DEFAULT_POLL_SECONDS = 2.0
DEFAULT_HTTP_RETRIES = 3
DEFAULT_JOB_TIMEOUT_MINUTES = 30.0  # the longest wait for one Bulk job (--job-timeout)
DEFAULT_RETRY_AFTER_MAX_SECONDS = 120.0  # the longest Retry-After (429/503) waited for before a read is repeated
# first wait before repeating a read that met a 5xx or a dropped connection (doubled each time)
RETRY_SECONDS_VARIABLE = "CUSTSEG_SF_RETRY_SECONDS"
STATE_DIR_VARIABLE = "CUSTSEG_STATE_DIR"  # where the list of push folders is kept (`_registry`)


def _default_retry_seconds() -> float:
    try:
        return float(os.environ.get(RETRY_SECONDS_VARIABLE) or 1.0)
    except ValueError:
        raise UsageError(f"{RETRY_SECONDS_VARIABLE} must be a number of seconds") from None


def default_state_dir() -> str:
    """Where custseg keeps what outlives a run folder: CUSTSEG_STATE_DIR, else XDG_STATE_HOME/custseg, else ~/.local/state/custseg."""
    if os.environ.get(STATE_DIR_VARIABLE):
        return os.environ[STATE_DIR_VARIABLE]
    return str(Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "custseg")


MISSING_CREDENTIALS = (
    "no Salesforce credentials: set SF_INSTANCE_URL and SF_ACCESS_TOKEN, or SF_USERNAME, SF_CONSUMER_KEY and "
    "SF_PRIVATE_KEY_FILE (JWT), or SF_CONSUMER_KEY, SF_CONSUMER_SECRET and SF_DOMAIN (client credentials), "
    "or SF_USERNAME, SF_PASSWORD and SF_SECURITY_TOKEN (password login)"
)

_DOMAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")
_SHOWABLE = re.compile(r"^[A-Za-z0-9.:/_ -]*$")  # a wrong domain shown in its message: no query, user or encoded text
_VERSION = re.compile(r"^\d{2,3}\.0$")


@dataclass(frozen=True)
class SalesforceSettings:
    """How to log in to one Salesforce org; secret fields are hidden from repr.

    >>> s = SalesforceSettings(auth="token", instance_url="https://acme.my.salesforce.com", access_token="00Dxx!secret")
    >>> "secret" in repr(s), s.redact("token=00Dxx!secret")
    (False, 'token=***')
    """

    auth: str
    instance_url: str | None = None
    domain: str = "login"
    api_version: str = DEFAULT_API_VERSION
    username: str | None = None
    consumer_key: str | None = field(default=None, repr=False)
    private_key_file: str | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    poll_seconds: float = DEFAULT_POLL_SECONDS
    http_retries: int = DEFAULT_HTTP_RETRIES
    http_retry_seconds: float = field(default_factory=_default_retry_seconds)
    job_timeout_minutes: float = DEFAULT_JOB_TIMEOUT_MINUTES
    http_retry_after_max_seconds: float = DEFAULT_RETRY_AFTER_MAX_SECONDS
    state_dir: str = field(default_factory=default_state_dir)
    access_token: str | None = field(default=None, repr=False)
    consumer_secret: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    security_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.auth not in AUTH_KINDS:
            raise UsageError(f"unknown Salesforce login kind {self.auth!r}; kinds are {', '.join(AUTH_KINDS)}")
        if not _VERSION.match(self.api_version):
            raise UsageError(f"Salesforce API version must look like '64.0'; got {self.api_version!r}")
        if self.auth == "password" and float(self.api_version) > PASSWORD_LOGIN_MAX_VERSION:
            raise UsageError(
                f"password login needs API version <= {PASSWORD_LOGIN_MAX_VERSION} (Salesforce removed the SOAP login "
                f"from 65.0); got {self.api_version}: use a token, JWT or client credentials instead"
            )
        if self.auth == "client_credentials" and self.domain in ("login", "test"):
            raise UsageError("client credentials login needs the org's My Domain in SF_DOMAIN (e.g. acme.my), not 'login' or 'test'")
        if self.timeout_seconds <= 0:
            raise UsageError(f"timeout_seconds must be > 0; got {self.timeout_seconds}")
        if self.poll_seconds < 0:
            raise UsageError(f"poll_seconds must be >= 0; got {self.poll_seconds}")
        if not self.job_timeout_minutes > 0:
            raise UsageError(f"job timeout must be > 0 minutes (--job-timeout, job_timeout_minutes); got {self.job_timeout_minutes}")
        if not 0 <= self.http_retries <= 10 or self.http_retry_seconds < 0:
            raise UsageError(f"http_retries must be in [0, 10] and http_retry_seconds >= 0; got {self.http_retries}, {self.http_retry_seconds}")
        if self.http_retry_after_max_seconds < 0:
            raise UsageError(f"http_retry_after_max_seconds must be >= 0; got {self.http_retry_after_max_seconds}")

    def secrets(self) -> list[str]:
        """The secret values, longest first, for redaction."""
        values = (self.access_token, self.consumer_secret, self.password, self.security_token, self.consumer_key)
        return sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` with every secret value, raw, URL-encoded or in base64, replaced by `***`."""
        forms = {form for secret in self.secrets() for form in _encoded_forms(secret)}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "***")
        return text

    @property
    def host(self) -> str:
        """The instance (or login) host, for messages and the audit record."""
        if self.instance_url:
            return urlparse(self.instance_url).netloc
        return f"{self.domain}.salesforce.com"


def _encoded_forms(secret: str) -> set[str]:
    """`secret` as it may appear in a message: raw, URL-encoded, and in base64 at any of the 3 alignments of a longer
    text (the part of the encoding that does not depend on the bytes around it; e.g. a `Basic`/`Bearer` header)."""
    forms = {secret, quote(secret), quote(secret, safe=""), quote_plus(secret)}
    raw = secret.encode("utf-8")
    for start in range(3):
        core = raw[start : start + (len(raw) - start) // 3 * 3]
        if len(core) >= 6:
            forms |= {base64.b64encode(core).decode(), base64.urlsafe_b64encode(core).decode()}
    return forms


def _clean_domain(value: str) -> str:
    """'https://acme.my.salesforce.com/' -> 'acme.my'; 'test' stays 'test'."""
    domain = value.strip()
    domain = re.sub(r"^https?://", "", domain).rstrip("/")
    domain = re.sub(r"\.salesforce\.com$", "", domain, flags=re.IGNORECASE)
    if not _DOMAIN.match(domain):
        shown = repr(value) if _SHOWABLE.match(value) else "an address with more than a host (not shown: it may hold a session id)"
        raise UsageError(f"Salesforce domain must be 'login', 'test' or a My Domain such as 'acme.my'; got {shown}")
    return domain


def _clean_instance_url(value: str) -> str:
    """The instance URL, `https://host[:port]` and nothing else.

    Anything after the host (a path, a query, a user) is refused without being shown: a
    `frontdoor.jsp?sid=...` address holds a session id, which is as secret as a token.
    """
    url = value.strip().rstrip("/")
    parsed = urlparse(url)
    try:
        host = parsed.hostname
        parsed.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        host = None
    extra = parsed.path or parsed.params or parsed.query or parsed.fragment or parsed.username or parsed.password
    shown = f"the address of {host}" if host and not (parsed.username or parsed.password) else "the address"
    if parsed.scheme != "https" or not host:
        problem = "is not an https:// address"
    elif extra:
        problem = "has something after the host (not shown: it may hold a session id)"
    else:
        return url
    raise UsageError(f"SF_INSTANCE_URL (or instance_url) must be the org's address alone, like https://acme.my.salesforce.com; "
                     f"{shown} {problem}")


def connection_config(config: Mapping | None) -> dict:
    """The `[salesforce]` table of a loaded custseg.toml, checked for secrets and unknown keys."""
    table = dict((config or {}).get("salesforce", {}))
    found = sorted(SECRET_CONFIG_KEYS & set(table))
    if found:
        raise UsageError(
            f"custseg.toml [salesforce] must not hold secrets (found {', '.join(found)}): use environment variables such as SF_ACCESS_TOKEN"
        )
    unknown = sorted(set(table) - CONNECTION_CONFIG_KEYS - {"pull", "push", "fields"})
    if unknown:
        known = ", ".join(sorted(CONNECTION_CONFIG_KEYS | {"pull", "push", "fields"}))
        raise UsageError(f"unknown key(s) in [salesforce]: {', '.join(unknown)}; keys are {known}")
    return table


def settings_from_env(config: Mapping | None = None, environ: Mapping[str, str] | None = None) -> SalesforceSettings:
    """Connection settings from environment variables, with non-secret defaults from custseg.toml.

    The first complete set wins: token, JWT, client credentials, password.

    >>> env = {"SF_INSTANCE_URL": "https://acme.my.salesforce.com", "SF_ACCESS_TOKEN": "00D!abc"}
    >>> settings_from_env(environ=env).auth
    'token'
    """
    env = os.environ if environ is None else environ
    table = connection_config(config)

    def get(name: str) -> str | None:
        value = env.get(name)
        return value if value not in (None, "") else None

    common = {
        "domain": _clean_domain(get("SF_DOMAIN") or str(table.get("domain", "login"))),
        "api_version": get("SF_API_VERSION") or str(table.get("api_version", DEFAULT_API_VERSION)),
    }
    try:
        common["timeout_seconds"] = float(table.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS))
        common["poll_seconds"] = float(table.get("poll_seconds", DEFAULT_POLL_SECONDS))
        common["http_retries"] = int(table.get("http_retries", DEFAULT_HTTP_RETRIES))
        common["job_timeout_minutes"] = float(table.get("job_timeout_minutes", DEFAULT_JOB_TIMEOUT_MINUTES))
        if "http_retry_seconds" in table:
            common["http_retry_seconds"] = float(table["http_retry_seconds"])
        if table.get("state_dir"):
            common["state_dir"] = str(table["state_dir"])
        common["http_retry_after_max_seconds"] = float(table.get("http_retry_after_max_seconds", DEFAULT_RETRY_AFTER_MAX_SECONDS))
    except (TypeError, ValueError):
        raise UsageError("[salesforce] timeout_seconds, poll_seconds, http_retries, http_retry_seconds, "
                         "http_retry_after_max_seconds and job_timeout_minutes must be numbers") from None
    instance_url = get("SF_INSTANCE_URL") or table.get("instance_url")
    username = get("SF_USERNAME")
    consumer_key = get("SF_CONSUMER_KEY")

    if get("SF_ACCESS_TOKEN"):
        if not instance_url:
            raise UsageError("SF_ACCESS_TOKEN is set but SF_INSTANCE_URL is not (e.g. https://acme.my.salesforce.com)")
        return SalesforceSettings(
            auth="token", instance_url=_clean_instance_url(str(instance_url)), access_token=get("SF_ACCESS_TOKEN"), **common
        )
    if username and consumer_key and get("SF_PRIVATE_KEY_FILE"):
        key_file = get("SF_PRIVATE_KEY_FILE")
        if not os.path.isfile(key_file):
            raise UsageError(f"SF_PRIVATE_KEY_FILE {key_file} is not a file")
        return SalesforceSettings(auth="jwt", username=username, consumer_key=consumer_key, private_key_file=key_file, **common)
    if consumer_key and get("SF_CONSUMER_SECRET"):
        return SalesforceSettings(
            auth="client_credentials", consumer_key=consumer_key, consumer_secret=get("SF_CONSUMER_SECRET"), **common
        )
    if username and get("SF_PASSWORD"):
        if "SF_SECURITY_TOKEN" not in env:
            raise UsageError("password login needs SF_SECURITY_TOKEN too (set it empty if the org trusts your IP address)")
        return SalesforceSettings(
            auth="password", username=username, password=get("SF_PASSWORD"), security_token=env.get("SF_SECURITY_TOKEN", ""), **common
        )
    partial = sorted(name for name in env if name.startswith("SF_") and get(name))
    if partial:
        raise UsageError(f"{MISSING_CREDENTIALS}; only {', '.join(partial)} found")
    raise UsageError(MISSING_CREDENTIALS)
