"""Salesforce round trip: pull sales lines with Bulk API 2.0, push segments to Account records.

The library never prints or asks anything; `custseg._cli._salesforce` is the command line. Names load on
first use (simple-salesforce, pandas and pyarrow are not needed by `custseg --help`).

>>> from custseg._salesforce import PullOptions, connect, pull_records, settings_from_env
>>> client = connect(settings_from_env())                                              # doctest: +SKIP
>>> pull_records(client, "sales_2020.parquet", PullOptions().with_window(year=2020))  # doctest: +SKIP
"""

from .._lazy import lazy_names

_LAZY = {
    "SalesforceClient": "._client",
    "connect": "._client",
    "write_field_metadata": "._fields",
    "PullOptions": "._pull",
    "PullReport": "._pull",
    "pull_records": "._pull",
    "PushReport": "._push",
    "push_segments": "._push",
    "write_offline": "._push",
    "rollback_segments": "._rollback",
    "SalesforceSettings": "._settings",
    "settings_from_env": "._settings",
    "PushFields": "._targets",
    "push_settings": "._targets",
}

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
    "write_offline",
]

__getattr__, __dir__ = lazy_names(__name__, _LAZY)
