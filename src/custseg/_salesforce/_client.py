"""A simple-salesforce connection that logs in again once when the session expires.

Every call to Salesforce goes through `SalesforceClient.call`, which turns
simple-salesforce's exceptions into one-line `DataError`s (with secrets removed) and,
on an expired session, rebuilds the client and repeats the call that was refused. A
refused call changed nothing on the server, so repeating it is safe: the bulk job ids
are kept by the caller, and the work goes on where it was. Calls marked idempotent
(polls, result pages, describe) are also repeated, a bounded number of times with a
doubling wait, after a 5xx answer, a 429, a dropped connection or a cut answer (`IncompleteAnswer`);
a `Retry-After` header is honoured up to `http_retry_after_max_seconds`. Job creation is never repeated.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceOperationError,
    SalesforceRefusedRequest,
)

from .._errors import DataError
from ._plain import plain_text
from ._settings import SalesforceSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

AUTH_HINTS = {
    "token": "set a valid SF_ACCESS_TOKEN (e.g. from `sf org display`) and SF_INSTANCE_URL",
    "jwt": "check SF_USERNAME, SF_CONSUMER_KEY, SF_PRIVATE_KEY_FILE and SF_DOMAIN",
    "client_credentials": "check SF_CONSUMER_KEY, SF_CONSUMER_SECRET and SF_DOMAIN",
    "password": "check SF_USERNAME, SF_PASSWORD, SF_SECURITY_TOKEN and SF_DOMAIN (test for a sandbox)",
}

# Salesforce counts API requests over a rolling 24 hours: capacity comes back as the oldest requests age out.
DAILY_LIMIT_HINT = (
    "the org's daily API request limit is reached; Salesforce counts requests over the last 24 hours, so capacity "
    "comes back gradually as the oldest ones age out (Setup > System Overview shows the use): run again in a few hours"
)


class TimeoutSession(requests.Session):
    """A requests session with a default timeout (simple-salesforce sets none)."""

    def __init__(self, timeout_seconds: float) -> None:
        super().__init__()
        self.timeout_seconds = timeout_seconds

    def request(self, method, url, **kwargs):  # noqa: D102 - same contract as requests
        kwargs.setdefault("timeout", self.timeout_seconds)
        return super().request(method, url, **kwargs)


def error_text(exc: SalesforceError) -> str:
    """'CODE: message' from a Salesforce error body, or the body text."""
    content = exc.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        parts = [f"{c.get('errorCode', '?')}: {c.get('message', '')}".strip() for c in content if isinstance(c, dict)]
        return "; ".join(parts)
    if isinstance(content, dict):
        return f"{content.get('errorCode') or content.get('error', '?')}: {content.get('message') or content.get('error_description', '')}"
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    return " ".join(str(content).split())[:300]


class IncompleteAnswer(Exception):
    """An answer that arrived cut or short (a result page): reading it again may give it whole."""


def _transient(exc: Exception) -> bool:
    """A 5xx or 429 answer, a cut answer, or a connection that failed, dropped or timed out."""
    if isinstance(exc, SalesforceError):
        status = getattr(exc, "status", None)
        return isinstance(status, int) and (status >= 500 or status == 429)
    return isinstance(exc, (IncompleteAnswer, requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError))


def _retry_after_seconds(value: str | None) -> float | None:
    """Seconds of a `Retry-After` header (a number of seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class SalesforceClient:
    """One Salesforce org, logged in lazily, rebuilt once per expired session.

    >>> from custseg._salesforce import settings_from_env
    >>> client = SalesforceClient(settings_from_env())          # doctest: +SKIP
    >>> client.call(lambda sf: sf.Account.describe())["name"]  # doctest: +SKIP
    'Account'
    """

    def __init__(
        self,
        settings: SalesforceSettings,
        session: requests.Session | None = None,
        poll_seconds: float | None = None,
        max_reconnects: int = 3,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.settings = settings
        self.session = session
        self.poll_seconds = settings.poll_seconds if poll_seconds is None else poll_seconds
        self.max_reconnects = max_reconnects
        self.reconnects = 0
        self.retries = 0  # idempotent calls repeated after a 5xx, a 429, a dropped connection or a cut answer
        self.sleep = sleep or time.sleep
        self.job_timeout_seconds = settings.job_timeout_minutes * 60  # the longest wait for one Bulk job
        self._sf: Salesforce | None = None
        self._retry_after: float | None = None  # of the last answer, read by `call` after a 429/503

    def _note_retry_after(self, response: requests.Response, *args, **kwargs) -> None:
        """Response hook: remember the `Retry-After` of each answer (None when it has none)."""
        self._retry_after = _retry_after_seconds(response.headers.get("Retry-After"))

    # -- connection -------------------------------------------------------------------
    def _login(self) -> Salesforce:
        s = self.settings
        session = self.session or TimeoutSession(s.timeout_seconds)
        if self._note_retry_after not in session.hooks["response"]:
            session.hooks["response"].append(self._note_retry_after)
        common = {"version": s.api_version, "session": session}
        try:
            if s.auth == "token":
                return Salesforce(instance_url=s.instance_url, session_id=s.access_token, **common)
            if s.auth == "jwt":
                return Salesforce(
                    username=s.username, consumer_key=s.consumer_key, privatekey_file=s.private_key_file, domain=s.domain, **common
                )
            if s.auth == "client_credentials":
                return Salesforce(consumer_key=s.consumer_key, consumer_secret=s.consumer_secret, domain=s.domain, **common)
            return Salesforce(
                username=s.username, password=s.password, security_token=s.security_token, domain=s.domain, **common
            )
        except SalesforceAuthenticationFailed as exc:
            detail = " ".join(str(getattr(exc, "auth_message", "") or "").split())[:200]
            code = f"{getattr(exc, 'code', None) or 'error'}: {detail}".rstrip(": ")
            raise DataError(self._clean(f"Salesforce login failed at {s.host} ({code}); {AUTH_HINTS[s.auth]}")) from None
        except requests.RequestException as exc:
            reason = " ".join(str(exc).split())[:200]
            raise DataError(self._clean(f"cannot reach Salesforce at {s.host}: {type(exc).__name__}: {reason}")) from None
        except (OSError, ValueError) as exc:  # unreadable key file, malformed key
            raise DataError(self._clean(f"Salesforce login failed ({type(exc).__name__}: {exc}); {AUTH_HINTS[s.auth]}")) from None

    @property
    def sf(self) -> Salesforce:
        """The simple-salesforce client, logging in on first use."""
        if self._sf is None:
            self._sf = self._login()
        return self._sf

    def reconnect(self) -> None:
        """Throw the session away and log in again."""
        self.reconnects += 1
        log.info("Salesforce session expired; logging in again (%d)", self.reconnects)
        self._sf = None
        self.sf  # noqa: B018 - log in now so a login failure is reported here

    def _clean(self, text: str) -> str:
        return self.settings.redact(plain_text(text))

    # -- calls ------------------------------------------------------------------------
    def call(self, step: Callable[[Salesforce], T], what: str = "Salesforce call", idempotent: bool = False) -> T:
        """Run `step(sf)`; on an expired session log in again once and repeat it.

        With `idempotent`, a 5xx or 429 answer, a dropped connection or a cut answer is retried
        `http_retries` times, waiting `http_retry_seconds`, then twice as long each time, or what
        the answer's `Retry-After` asks (at most `http_retry_after_max_seconds`, else it stops);
        each retry is logged as a warning.
        """
        retried = False
        attempt = 0
        while True:
            self._retry_after = None
            try:
                return step(self.sf)
            except SalesforceExpiredSession as exc:
                if retried or self.reconnects >= self.max_reconnects:
                    hint = AUTH_HINTS[self.settings.auth]
                    raise DataError(
                        self._clean(f"{what}: Salesforce rejected the session ({error_text(exc)}) after logging in again; {hint}")
                    ) from None
                retried = True
                self.reconnect()
            except (SalesforceError, SalesforceOperationError, IncompleteAnswer, requests.RequestException) as exc:
                asked = self._retry_after if isinstance(exc, SalesforceError) else None
                limit = self.settings.http_retry_after_max_seconds
                if not (idempotent and _transient(exc) and attempt < self.settings.http_retries) or (asked or 0) > limit:
                    after = f" (after {attempt} retries)" if attempt else ""
                    if (asked or 0) > limit:
                        after += (f"; Salesforce asks to wait {asked:.0f} s (Retry-After), more than http_retry_after_max_seconds"
                                  f" ({limit:g}): run again later")
                    raise DataError(self._clean(self._reason(exc, what) + after)) from None
                delay = self.settings.http_retry_seconds * 2**attempt if asked is None else asked
                attempt += 1
                self.retries += 1
                log.warning("%s; retry %d of %d in %.3g s", self._clean(self._reason(exc, what)), attempt, self.settings.http_retries, delay)
                self.sleep(delay)

    def _reason(self, exc: Exception, what: str) -> str:
        """One line saying what failed (secrets not yet removed)."""
        if isinstance(exc, SalesforceRefusedRequest):
            text = error_text(exc)
            if "REQUEST_LIMIT_EXCEEDED" in text and "Concurrent" in text:
                return f"{what}: Salesforce refused the request ({text}); too many long requests run at once in the org, run again in a few minutes"
            if "REQUEST_LIMIT_EXCEEDED" in text:
                return f"{what}: Salesforce refused the request ({text}); {DAILY_LIMIT_HINT}"
            return f"{what}: Salesforce refused the request ({text}); check the user's permissions"
        if isinstance(exc, (SalesforceOperationError, IncompleteAnswer)):
            return f"{what}: {exc}"
        if isinstance(exc, SalesforceError):
            return f"{what}: Salesforce answered HTTP {getattr(exc, 'status', '?')} ({error_text(exc)})"
        reason = " ".join(str(exc).split())[:200]
        return f"{what}: cannot reach Salesforce at {self.settings.host}: {type(exc).__name__}: {reason}"

    def bulk2(self, sf: Salesforce, object_name: str):
        """The low-level Bulk API 2.0 client of `sf` for one object (job-by-job control)."""
        return getattr(sf.bulk2, object_name)._client

    def describe(self, object_name: str) -> dict:
        """`describe()` of one sObject."""
        return self.call(lambda sf: getattr(sf, object_name).describe(), f"describe {object_name}", idempotent=True)

    @property
    def instance_host(self) -> str:
        """Host of the instance in use (after login), for reports."""
        return self._sf.sf_instance if self._sf is not None else self.settings.host


def connect(settings: SalesforceSettings, session: requests.Session | None = None, poll_seconds: float | None = None) -> SalesforceClient:
    """A client for `settings`; it logs in on its first call.

    >>> connect(settings_from_env()).describe("Account")  # doctest: +SKIP
    """
    return SalesforceClient(settings, session=session, poll_seconds=poll_seconds)
