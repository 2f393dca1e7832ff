"""Salesforce round trip: pull sales lines with Bulk API 2.0, push segments to Account records.

The library never prints or asks anything; `custseg._cli_salesforce` is the command line.

>>> from custseg._salesforce import PullOptions, connect, pull_records, settings_from_env
>>> client = connect(settings_from_env())                                              # doctest: +SKIP
>>> pull_records(client, "sales_2020.parquet", PullOptions().with_window(year=2020))  # doctest: +SKIP
"""

from ._client import SalesforceClient, connect
from ._fields import write_field_metadata
from ._pull import PullOptions, PullReport, pull_records
from ._push import PushReport, push_segments
from ._rollback import rollback_segments
from ._settings import SalesforceSettings, settings_from_env
from ._targets import PushFields, push_settings

__all__ = [
    "PullOptions",
    "PullReport",
    "PushFields",
    "PushReport",
    "SalesforceClient",
    "SalesforceSettings",
    "connect",
    "pull_records",
    "push_segments",
    "push_settings",
    "rollback_segments",
    "settings_from_env",
    "write_field_metadata",
]
