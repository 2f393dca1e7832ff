"""Which Account fields receive what, and the preflight check of those fields with `describe`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from .._errors import DataError, UsageError
from ._soql import check_object_name

_CUSTOM_FIELD = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?:__[A-Za-z](?:[A-Za-z0-9]|_(?!_))*)?__c$")

ROLE_TYPES = {
    "segment": {"string", "picklist", "textarea"},
    "score": {"double", "percent", "currency", "int"},
    "date": {"date"},
    "model": {"string", "textarea"},
}
ROLE_LABELS = {"segment": "Segment", "score": "Segment score", "date": "Segment date", "model": "Segment model"}
ADMIN_STEPS = (
    "an admin must create the field(s) and give this user edit access: run `custseg salesforce fields -o sfdx/`, "
    "deploy it (cd sfdx && sf project deploy start --source-dir force-app), assign the permission set it contains, "
    "and add the fields to the Account page layout; see sfdx/README.md"
)


@dataclass(frozen=True)
class PushFields:
    """Target object and field names; None leaves a role out.

    `score_column` is the assignments column sent to the score field.

    >>> PushFields().targets()
    {'segment': 'Segment__c'}
    >>> PushFields(score="Segment_Score__c").targets()["score"]
    'Segment_Score__c'
    """

    object_name: str = "Account"
    segment: str = "Segment__c"
    score: str | None = None
    date: str | None = None
    model: str | None = None
    score_column: str = "distance"

    def __post_init__(self) -> None:
        check_object_name(self.object_name)
        names = self.targets()
        for role, name in names.items():
            if not _CUSTOM_FIELD.match(name) or len(name) > 43:
                raise UsageError(f"{role} field {name!r} is not a custom field name such as Segment__c (letters, digits, single underscores, ending __c)")
        if len({n.lower() for n in names.values()}) != len(names):
            raise UsageError(f"the same field is used for two roles: {names}")

    def targets(self) -> dict[str, str]:
        """Role -> field name, for the roles pushed (segment first)."""
        return {role: getattr(self, role) for role in ROLE_TYPES if getattr(self, role)}

    @classmethod
    def from_config(cls, config: Mapping | None, **overrides: str | None) -> "PushFields":
        """From `[salesforce.push]` keys object, segment_field, score_field, date_field, model_field, score_column."""
        table = dict(((config or {}).get("salesforce", {})).get("push", {}))
        mapping = {"object": "object_name", "segment_field": "segment", "score_field": "score", "date_field": "date",
                   "model_field": "model", "score_column": "score_column"}
        kwargs = {mapping[k]: (str(v) if v not in ("", None) else None) for k, v in table.items() if k in mapping}
        kwargs.update({k: v for k, v in overrides.items() if v is not None})
        if kwargs.get("segment") is None and "segment" in kwargs:
            raise UsageError("[salesforce.push] segment_field cannot be empty")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in kwargs.items() if k in known})


def push_settings(config: Mapping | None) -> dict:
    """batch_size, max_retries, retry_seconds from `[salesforce.push]` (only those given)."""
    table = dict(((config or {}).get("salesforce", {})).get("push", {}))
    known = {"object", "segment_field", "score_field", "date_field", "model_field", "score_column", "batch_size", "max_retries", "retry_seconds"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise UsageError(f"unknown key(s) in [salesforce.push]: {', '.join(unknown)}; keys are {', '.join(sorted(known))}")
    out = {}
    for key, kind in (("batch_size", int), ("max_retries", int), ("retry_seconds", float)):
        if key in table:
            out[key] = kind(table[key])
    return out


@dataclass(frozen=True)
class TargetField:
    """A target field as Salesforce describes it."""

    role: str
    name: str
    type: str
    length: int
    scale: int
    picklist: tuple[str, ...] | None


def preflight(describe: dict, targets: PushFields) -> dict[str, TargetField]:
    """Check every target field exists, is editable and has a usable type; DataError with admin steps if not.

    >>> d = {"name": "Account", "fields": [{"name": "Segment__c", "type": "string", "updateable": True, "length": 80}]}
    >>> preflight(d, PushFields())["segment"].length
    80
    """
    obj = targets.object_name
    by_name = {f["name"].lower(): f for f in describe.get("fields", [])}
    missing, readonly, wrong = [], [], []
    out = {}
    for role, name in targets.targets().items():
        info = by_name.get(name.lower())
        if info is None:
            missing.append(name)
            continue
        if not info.get("updateable"):
            readonly.append(name)
            continue
        if info.get("type") not in ROLE_TYPES[role]:
            wrong.append(f"{name} is of type {info.get('type')}, expected {' or '.join(sorted(ROLE_TYPES[role]))}")
            continue
        restricted = info.get("type") == "picklist" and info.get("restrictedPicklist")
        values = tuple(v["value"] for v in info.get("picklistValues", []) if v.get("active", True)) if restricted else None
        out[role] = TargetField(role, info["name"], info["type"], int(info.get("length") or 0), int(info.get("scale") or 0), values)
    problems = []
    if missing:
        problems.append(f"{obj} field(s) {', '.join(missing)} do not exist or are hidden from this user by field-level security")
    if readonly:
        problems.append(f"{obj} field(s) {', '.join(readonly)} are not editable by this user")
    if wrong:
        problems.append("; ".join(wrong))
    if problems:
        raise DataError(f"{'; '.join(problems)}. Nothing was sent: {ADMIN_STEPS}")
    return out
