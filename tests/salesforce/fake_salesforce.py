"""A small stateful Salesforce (login, describe, Bulk API 2.0 query and ingest) over TLS.

The real, unchanged simple-salesforce client talks to it: `instance_url` is
`https://127.0.0.1:PORT` and the test certificate authority (`LocalCA`, built with
`cryptography`, which simple-salesforce already needs) is trusted through
`REQUESTS_CA_BUNDLE` or a `requests.Session`'s `verify`. Login hosts
(`login.salesforce.com`, `acme.my.salesforce.com`, ...) reach it through
`RewriteAdapter`. Faults are switched on by setting attributes of `FakeOrg` or with
`FakeOrg.fail` (status codes, dropped connections, answers that never come).

Update jobs follow Bulk API 2.0's documented semantics: the rows a job processed before it was
aborted or failed stay written (they are in its successful and failed results, the rest in
`unprocessedrecords`), and a batch in progress when the job is aborted runs to its end.
"""

from __future__ import annotations

import base64
import csv
import datetime as dtm
import io
import ipaddress
import itertools
import json
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, quote_plus, urlsplit, urlunsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from requests.adapters import HTTPAdapter

API = re.compile(r"^/services/data/v(\d+\.\d)/(.*)$")
SOQL = re.compile(r"^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+(.+?))?\s*$", re.IGNORECASE | re.DOTALL)
COND = re.compile(r"^(\w+)\s*(>=|<)\s*(\S+)$")
IN_IDS = re.compile(r"^Id\s+IN\s*\((.*)\)$", re.IGNORECASE | re.DOTALL)
LOCK_ERROR = "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 records: {id}:--"


def describe_field(name: str, kind: str = "string", updateable: bool = True, length: int = 0, scale: int = 0,
                   relationship: str | None = None, picklist: list[str] | None = None) -> dict:
    """One entry of a describe() `fields` list."""
    return {
        "name": name, "type": kind, "updateable": updateable, "length": length, "scale": scale,
        "relationshipName": relationship, "restrictedPicklist": picklist is not None,
        "picklistValues": [{"value": v, "active": True} for v in (picklist or [])],
    }


@dataclass
class QueryJobState:
    soql: str
    header: list[str]
    rows: list[list[str]]
    polls: int = 0
    aborted: bool = False


@dataclass
class IngestJobState:
    object_name: str
    operation: str
    data: str = ""
    state: str = "Open"
    polls: int = 0
    successful: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    error: str = ""
    rows: list[list[str]] = field(default_factory=list)  # the uploaded rows, parsed at close
    done: int = 0  # rows processed so far


class FakeOrg:
    """The org's data, credentials, jobs, request log and fault switches."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.base_url = ""  # set by the server fixture
        self.static_token = "00DFAKE!static-token"
        self.tokens = {self.static_token}
        self.issued = 0
        self.consumer_key = "CK-fake"
        self.consumer_secret = "CS-fake"
        self.username = "integration@acme.example"
        self.password = "pw-fake"
        self.security_token = "st-fake"
        self.public_key: bytes | None = None
        self.objects: dict[str, dict] = {}
        self.records: dict[str, dict[str, dict[str, str]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.auth_headers: list[str] = []
        self.query_jobs: dict[str, QueryJobState] = {}
        self.ingest_jobs: dict[str, IngestJobState] = {}
        self._ids = itertools.count(1)
        # faults
        self.expire_at: set[int] = set()  # authenticated request numbers answered 401 (login tokens are revoked)
        self.refuse_at: set[int] = set()  # authenticated request numbers answered 403 REQUEST_LIMIT_EXCEEDED
        self.authenticated = 0
        self.lock_once: set[str] = set()
        self.locked: set[str] = set()
        self.always_lock: set[str] = set()
        self.permanent_errors: dict[str, str] = {}
        self.short_page: int | None = None  # page number that loses its last row
        self.under_report: int = 0  # rows the query job claims in addition to the real ones
        self.polls_in_progress = 1
        self.job_error = ""  # when set, update jobs fail with this errorMessage (after `stop_after` rows; at once by default)
        self.stop_after: int | None = None  # rows an update job processes before it fails (job_error) or is aborted
        self.abort_jobs = False  # an admin aborts each update job after `stop_after` rows
        self.busy_after: int | None = None  # the org is busy: an update job stays InProgress after this many rows
        self.batch_rows = 10  # rows of the internal batch that runs to its end when a busy job is aborted
        self.query_busy = False  # query jobs stay InProgress
        self.faults: list[dict] = []
        self.count_header: str | None = None  # Sforce-NumberOfRecords of result pages: None = the count, "" = absent
        self.repeat_locator = False  # every page after the first points to itself
        self.endless_pages = False  # the locator never says "null": rows go on beyond the announced count
        self.hang_seconds = 1.0  # how long a 'timeout' fault holds the answer back
        self.retry_after: str | None = None  # Retry-After header of 'throttle' (429) and 'unavailable' (503) answers
        self.limit_message = "TotalRequests Limit exceeded."  # of 'refuse' (403): the daily limit; or the concurrent one
        self.echo_token = False  # error bodies repeat the caller's token: raw, URL-encoded, base64 of "Bearer <token>"
        self.rewrite_on_update: dict = {}  # field -> function of the value written (a flow or trigger rewriting it)
        self.fail_without_message = False  # update jobs fail whole, without an errorMessage
        self.empty_zero_pages = False  # a result (query page, job results) of 0 rows comes with an empty body, no header

    def fail(self, kind: str, method: str, path_end: str, nth: int = 1, times: int = 1) -> None:
        """Answer the `nth` (to `nth + times - 1`th) authenticated `method` request whose path ends with `path_end`:
        401 ('expire': a login token is revoked), 403 REQUEST_LIMIT_EXCEEDED ('refuse'), 500 ('server_error'),
        503 ('unavailable'), 429 ('throttle'); 'drop' does the work then closes the connection without answering, 'timeout'
        does the work and answers after `hang_seconds` (the client has given up), 'drop_before' closes without doing it;
        'cut_char', 'cut_cell', 'cut_row' answer a body cut as a connection closed early would (see `_cut`)."""
        self.faults.append({"kind": kind, "method": method, "path_end": path_end, "nth": nth, "times": times, "seen": 0})

    def _fault(self, method: str, path: str) -> str | None:
        for fault in self.faults:
            if fault["method"] == method and path.endswith(fault["path_end"]):
                fault["seen"] += 1
                if fault["nth"] <= fault["seen"] < fault["nth"] + fault["times"]:
                    return fault["kind"]
        return None

    # -- helpers for tests ----------------------------------------------------------------
    def paths(self, method: str | None = None) -> list[str]:
        return [p for m, p in self.requests if method in (None, m)]

    def ingest_count(self) -> int:
        return len(self.ingest_jobs)

    def add_object(self, name: str, fields: list[dict], key_prefix: str | None = None) -> None:
        self.objects[name] = {"name": name, "keyPrefix": key_prefix, "fields": fields}
        self.records.setdefault(name, {})

    # -- SOQL -------------------------------------------------------------------------------
    def run_soql(self, soql: str) -> tuple[list[str], list[list[str]]]:
        match = SOQL.match(soql)
        if not match:
            raise ValueError(f"MALFORMED_QUERY: cannot parse {soql!r}")
        columns = [c.strip() for c in match.group(1).split(",")]
        obj, where = match.group(2), match.group(3)
        if obj not in self.objects:
            raise ValueError(f"INVALID_TYPE: sObject type '{obj}' is not supported.")
        known = {f["name"] for f in self.objects[obj]["fields"]}
        relations = {f["relationshipName"] for f in self.objects[obj]["fields"] if f["relationshipName"]}
        for column in columns:
            head = column.split(".")[0]
            if (column not in known and "." not in column) or ("." in column and head not in relations):
                raise ValueError(f"INVALID_FIELD: No such column '{column}' on entity '{obj}'.")
        records = list(self.records[obj].values())
        if where:
            in_ids = IN_IDS.match(where.strip())
            if in_ids:
                wanted = {v.strip().strip("'") for v in in_ids.group(1).split(",")}
                records = [r for r in records if r.get("Id") in wanted]
            else:
                for condition in re.split(r"\s+AND\s+", where.strip(), flags=re.IGNORECASE):
                    cond = COND.match(condition)
                    if not cond:
                        raise ValueError(f"MALFORMED_QUERY: unsupported condition {condition!r}")
                    name, op, literal = cond.groups()
                    literal = literal.replace("T00:00:00Z", "")
                    if op == ">=":
                        records = [r for r in records if r.get(name, "")[:10] >= literal]
                    else:
                        records = [r for r in records if r.get(name, "")[:10] < literal]
        return columns, [[r.get(c, "") for c in columns] for r in records]

    # -- ingest -------------------------------------------------------------------------------
    def close(self, job: IngestJobState) -> None:
        """The upload is complete: parse the rows and process them as the fault switches say."""
        reader = csv.reader(io.StringIO(job.data, newline=""))
        job.header = next(reader)
        job.rows = [row for row in reader if row]
        fields = {f["name"]: f for f in self.objects[job.object_name]["fields"]}
        for name in job.header:
            if name != "Id" and (name not in fields or not fields[name]["updateable"]):
                job.state, job.error = "Failed", f"InvalidBatch : Field name not found : {name}"
                return
        if self.busy_after is not None:
            self.process(job, self.busy_after)
            job.state = "InProgress"
        elif self.job_error or self.abort_jobs or self.fail_without_message:
            self.process(job, self.stop_after or 0)
            job.state = "Aborted" if self.abort_jobs else "Failed"
            job.error = self.job_error
        else:
            self.process(job, len(job.rows))
            job.state = "JobComplete"

    def abort(self, job: IngestJobState) -> None:
        """Abort a job: an open one processes nothing; a running one finishes the batch in progress."""
        if job.state in ("UploadComplete", "InProgress") and job.done < len(job.rows):
            self.process(job, (job.done // self.batch_rows + 1) * self.batch_rows)
        job.state = "Aborted"

    def process(self, job: IngestJobState, upto: int) -> None:
        """Process the job's rows up to row `upto` (the org's values change as they go)."""
        table = self.records[job.object_name]
        for row in job.rows[job.done : upto]:
            values = dict(zip(job.header, row))
            record_id = values["Id"]
            error = None
            if record_id in self.always_lock or (record_id in self.lock_once and record_id not in self.locked):
                self.locked.add(record_id)
                error = LOCK_ERROR.format(id=record_id)
            elif record_id in self.permanent_errors:
                error = self.permanent_errors[record_id]
            elif record_id not in table:
                error = "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--"
            if error:
                job.failed.append({"sf__Id": record_id, "sf__Error": error, **values})
                continue
            for name, value in values.items():
                if name == "Id" or value == "":
                    continue
                table[record_id][name] = "" if value == "#N/A" else self.rewrite_on_update.get(name, str)(value)
            job.successful.append({"sf__Id": record_id, "sf__Created": "false", **values})
        job.done = max(job.done, min(upto, len(job.rows)))

    def finish(self) -> None:
        """The busy org catches up: every job still InProgress processes its rows and completes."""
        for job in self.ingest_jobs.values():
            if job.state == "InProgress":
                self.process(job, len(job.rows))
                job.state = "JobComplete"


def _cut(data: bytes, how: str) -> bytes:
    """A CSV answer cut short: 'char' loses its final line break and last character ("Franc" for "France"),
    'cell' its last row's last cell (the line break kept), 'row' its last row."""
    body = data.rstrip(b"\n")
    if how == "char":
        return body[:-1]
    if how == "cell":
        return body[: body.rindex(b",")] + b"\n"
    return body[: body.rindex(b"\n") + 1]


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


class Handler(BaseHTTPRequestHandler):
    org: FakeOrg  # set on a subclass per server
    cut_how: str | None = None  # this request's answer is cut ('cut_*' faults)
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # headers and body leave together (flushed after each request)
    disable_nagle_algorithm = True

    def log_message(self, *args) -> None:  # quiet
        pass

    # -- plumbing -------------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: str | bytes, content_type: str = "application/json", headers: dict | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        if status == 200 and self.cut_how:
            data = _cut(data, self.cut_how)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, payload) -> None:
        self._send(status, json.dumps(payload))

    def _error(self, status: int, code: str, message: str, headers: dict | None = None) -> None:
        if self.org.echo_token:
            token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            basic = base64.b64encode(f"Bearer {token}".encode()).decode()
            message += f" (session {token}; sid={quote(token, safe='')}; {quote(token)}; {quote_plus(token)}; {basic})"
        self._send(status, json.dumps([{"errorCode": code, "message": message}]), headers=headers)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    # -- routing ----------------------------------------------------------------------------------
    def _route(self, method: str) -> None:
        hang = self._answer(method)
        if hang:  # outside the lock: other requests (the client's retries) go on meanwhile
            time.sleep(hang)

    def _silently(self, method: str, rest: str, body: bytes, query: dict) -> None:
        """Do the work of a request, throw the answer away and close the connection."""
        real, self.wfile = self.wfile, io.BytesIO()
        try:
            self._api(method, rest, body, query)
        finally:
            self.wfile = real
            self.close_connection = True

    def _answer(self, method: str) -> float:
        """Route one request; return seconds to wait before the connection closes (0: none)."""
        org = self.org
        url = urlsplit(self.path)
        body = self._body()
        self.cut_how = None
        with org.lock:
            org.requests.append((method, url.path))
            if url.path == "/services/oauth2/token" and method == "POST":
                return self._oauth(body)
            if url.path.startswith("/services/Soap/u/") and method == "POST":
                return self._soap_login(body)
            match = API.match(url.path)
            if not match:
                return self._error(404, "NOT_FOUND", "The requested resource does not exist")
            token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            org.auth_headers.append(token)
            if token not in org.tokens:
                return self._error(401, "INVALID_SESSION_ID", "Session expired or invalid")
            org.authenticated += 1
            fault = org._fault(method, url.path)
            if org.authenticated in org.expire_at or fault == "expire":
                if token != org.static_token:
                    org.tokens.discard(token)
                return self._error(401, "INVALID_SESSION_ID", "Session expired or invalid")
            if org.authenticated in org.refuse_at or fault == "refuse":
                return self._error(403, "REQUEST_LIMIT_EXCEEDED", org.limit_message)
            if fault == "server_error":
                return self._error(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId: 1234")
            wait = {"Retry-After": org.retry_after} if org.retry_after is not None else {}
            if fault == "unavailable":
                return self._send(503, "<html>Service Unavailable</html>", "text/html", wait)
            if fault == "throttle":
                return self._error(429, "TOO_MANY_REQUESTS", "Too many requests", wait)
            if fault and fault.startswith("cut_"):
                self.cut_how = fault.removeprefix("cut_")
            rest = match.group(2)
            query = parse_qs(url.query)
            if fault == "drop_before":
                self.close_connection = True
                return 0
            if fault in ("drop", "timeout"):
                self._silently(method, rest, body, query)
                return org.hang_seconds if fault == "timeout" else 0
            try:
                return self._api(method, rest, body, query)
            except ValueError as exc:
                code, _, message = str(exc).partition(": ")
                return self._error(400, code, message)

    def _api(self, method: str, rest: str, body: bytes, query: dict) -> None:
        org = self.org
        parts = rest.strip("/").split("/")
        if parts[0] == "sobjects" and len(parts) == 3 and parts[2] == "describe":
            obj = org.objects.get(parts[1])
            if obj is None:
                return self._error(404, "NOT_FOUND", "The requested resource does not exist")
            return self._json(200, obj)
        if parts == ["query"] and method == "GET":  # the REST query API (small tables: the currency rates)
            header, rows = org.run_soql(query["q"][0])
            records = [{"attributes": {"type": "record"}, **dict(zip(header, row))} for row in rows]
            return self._json(200, {"totalSize": len(records), "done": True, "records": records})
        if parts[:2] == ["jobs", "query"]:
            return self._query(method, parts[2:], body, query)
        if parts[:2] == ["jobs", "ingest"]:
            return self._ingest(method, parts[2:], body)
        return self._error(404, "NOT_FOUND", "The requested resource does not exist")

    # -- login ----------------------------------------------------------------------------------------
    def _new_token(self) -> str:
        org = self.org
        org.issued += 1
        token = f"00DFAKE!issued-{org.issued}"
        org.tokens.add(token)
        return token

    def _oauth(self, body: bytes) -> None:
        org = self.org
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        grant = form.get("grant_type")
        ok = False
        if grant == "client_credentials":
            expected = base64.b64encode(f"{org.consumer_key}:{org.consumer_secret}".encode()).decode()
            ok = self.headers.get("Authorization") == f"Basic {expected}"
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            try:
                claims = jwt.decode(form["assertion"], org.public_key, algorithms=["RS256"], options={"verify_aud": False})
                ok = claims["iss"] == org.consumer_key and claims["sub"] == org.username
            except Exception:  # noqa: BLE001 - any bad assertion is a refused login
                ok = False
        if not ok:
            return self._json(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
        return self._json(200, {"access_token": self._new_token(), "instance_url": org.base_url, "token_type": "Bearer"})

    def _soap_login(self, body: bytes) -> None:
        org = self.org
        text = body.decode()
        user = re.search(r"<n1:username>(.*?)</n1:username>", text)
        secret = re.search(r"<n1:password>(.*?)</n1:password>", text)
        if not user or not secret or user.group(1) != org.username or secret.group(1) != org.password + org.security_token:
            fault = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                     'xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault><faultcode>INVALID_LOGIN</faultcode>'
                     '<faultstring>INVALID_LOGIN: Invalid username, password, security token; or user locked out.</faultstring>'
                     '<detail><sf:LoginFault><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid username, '
                     'password, security token; or user locked out.</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault>'
                     '</soapenv:Body></soapenv:Envelope>')
            return self._send(500, fault, "text/xml")
        ok = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
              '<soapenv:Body><loginResponse><result>'
              f"<serverUrl>{org.base_url}/services/Soap/u/64.0/00DFAKE</serverUrl>"
              f"<sessionId>{self._new_token()}</sessionId>"
              "</result></loginResponse></soapenv:Body></soapenv:Envelope>")
        return self._send(200, ok, "text/xml")

    # -- Bulk API 2.0 query -------------------------------------------------------------------------------
    def _query(self, method: str, parts: list[str], body: bytes, query: dict) -> None:
        org = self.org
        if method == "POST" and not parts:
            payload = json.loads(body)
            header, rows = org.run_soql(payload["query"])
            job_id = f"750Q{next(org._ids):014d}"
            org.query_jobs[job_id] = QueryJobState(payload["query"], header, rows)
            return self._json(200, {"id": job_id, "operation": "query", "state": "UploadComplete"})
        job = org.query_jobs.get(parts[0]) if parts else None
        if job is None:
            return self._error(404, "NOT_FOUND", "job not found")
        if method == "PATCH" and len(parts) == 1:
            job.aborted = json.loads(body)["state"] == "Aborted"
            return self._json(200, {"id": parts[0], "state": "Aborted"})
        if method == "GET" and len(parts) == 1:
            job.polls += 1
            state = "InProgress" if job.polls <= org.polls_in_progress or org.query_busy else "JobComplete"
            state = "Aborted" if job.aborted else state
            return self._json(200, {"id": parts[0], "state": state, "numberRecordsProcessed": len(job.rows) + org.under_report})
        if method == "GET" and parts[1:] == ["results"]:
            size = int(query.get("maxRecords", ["50000"])[0])
            start = int(query.get("locator", ["0"])[0])
            rows = (job.rows * 2)[start % len(job.rows):][:size] if org.endless_pages and job.rows else job.rows[start : start + size]
            page = start // size + 1
            announced = len(rows)
            if org.short_page == page and rows:
                rows = rows[:-1]
            following = start + size
            locator = str(following) if following < len(job.rows) or org.endless_pages else "null"
            if org.repeat_locator and start and locator != "null":
                locator = str(start)
            headers = {"Sforce-Locator": locator}
            if org.count_header is None:
                headers["Sforce-NumberOfRecords"] = str(announced)
            elif org.count_header:
                headers["Sforce-NumberOfRecords"] = org.count_header
            body = "" if org.empty_zero_pages and not rows else _csv(job.header, rows)
            return self._send(200, body, "text/csv", headers)
        return self._error(404, "NOT_FOUND", "no such query resource")

    # -- Bulk API 2.0 ingest ---------------------------------------------------------------------------
    def _ingest(self, method: str, parts: list[str], body: bytes) -> None:
        org = self.org
        if method == "POST" and not parts:
            payload = json.loads(body)
            job_id = f"750I{next(org._ids):014d}"
            org.ingest_jobs[job_id] = IngestJobState(payload["object"], payload["operation"])
            return self._json(200, {"id": job_id, "state": "Open", "object": payload["object"], "operation": payload["operation"]})
        job = org.ingest_jobs.get(parts[0]) if parts else None
        if job is None:
            return self._error(404, "NOT_FOUND", "job not found")
        job_id, rest = parts[0], parts[1:]
        if method == "PUT" and rest == ["batches"]:
            if job.state != "Open":
                return self._error(400, "INVALIDJOBSTATE", "job is not open")
            job.data += body.decode("utf-8")
            return self._send(201, b"", "text/plain")
        if method == "PATCH" and not rest:
            state = json.loads(body)["state"]
            if job.state in ("JobComplete", "Failed", "Aborted"):
                return self._error(400, "INVALIDJOBSTATE", f"Cannot change the state of a job in state {job.state}")
            if state == "UploadComplete":
                org.close(job)
            elif state == "Aborted":
                org.abort(job)
            else:
                job.state = state
            return self._json(200, {"id": job_id, "state": "UploadComplete" if state == "UploadComplete" else state})
        if method == "GET" and not rest:
            job.polls += 1
            state = job.state if job.polls > org.polls_in_progress or job.state in ("Open", "Aborted") else "InProgress"
            if org.busy_after is not None and job.state == "InProgress":
                state = "InProgress"
            info = {"id": job_id, "state": state, "numberRecordsProcessed": len(job.successful) + len(job.failed),
                    "numberRecordsFailed": len(job.failed)}
            if job.error:
                info["errorMessage"] = job.error
            return self._json(200, info)
        if method == "GET" and rest == ["successfulResults"]:
            header = ["sf__Id", "sf__Created"] + job.header
            return self._send(200, self._rows_csv(header, job.successful), "text/csv")
        if method == "GET" and rest == ["failedResults"]:
            header = ["sf__Id", "sf__Error"] + job.header
            return self._send(200, self._rows_csv(header, job.failed), "text/csv")
        if method == "GET" and rest == ["unprocessedrecords"]:
            header, left = job.header or ["Id"], job.rows[job.done :] if job.state in ("Failed", "Aborted") else []
            return self._send(200, self._rows_csv(header, [dict(zip(header, row)) for row in left]), "text/csv")
        return self._error(404, "NOT_FOUND", "no such ingest resource")


    def _rows_csv(self, header: list[str], records: list[dict]) -> str:
        """Result rows as CSV; no rows and `empty_zero_pages`: an empty body."""
        if self.org.empty_zero_pages and not records:
            return ""
        return _csv(header, [[r.get(h, "") for h in header] for r in records])


class LocalCA:
    """A certificate authority and a server certificate for 127.0.0.1, as PEM files in `directory`."""

    def __init__(self, directory: Path) -> None:
        now = dtm.datetime.now(dtm.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "custseg test CA")])
        usage = dict(content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
                     encipher_only=False, decipher_only=False)
        ca_cert = (
            x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dtm.timedelta(days=1)).not_valid_after(now + dtm.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, **usage), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dtm.timedelta(days=1)).not_valid_after(now + dtm.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **usage), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        self.ca_file = directory / "ca.pem"
        self.cert_file = directory / "server.pem"
        self.key_file = directory / "server.key"
        self.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


class FakeSalesforce:
    """The server: start() on 127.0.0.1 with TLS from `ca` (a LocalCA)."""

    def __init__(self, org: FakeOrg, ca) -> None:
        self.org = org
        handler = type("BoundHandler", (Handler,), {"org": org})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = ca.server_context().wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        org.base_url = self.url
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> "FakeSalesforce":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RewriteAdapter(HTTPAdapter):
    """Send every *.salesforce.com request to the fake server (login flows)."""

    def __init__(self, netloc: str) -> None:
        super().__init__()
        self.netloc = netloc

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        if parts.hostname and parts.hostname.endswith("salesforce.com"):
            request.url = urlunsplit(("https", self.netloc, parts.path, parts.query, parts.fragment))
        return super().send(request, **kwargs)
