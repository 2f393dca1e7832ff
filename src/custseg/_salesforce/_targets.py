"""Which Account fields receive what, and the preflight check of those fields with `describe`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .._errors import DataError, UsageError
from ._soql import check_object_name

_CUSTOM_FIELD = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?:__[A-Za-z](?:[A-Za-z0-9]|_(?!_))*)?__c$")

ROLE_TYPES = {
    "segment": {"string", "picklist", "textarea"},
    "segment_id": {"double", "int", "string"},
    "action": {"string", "textarea"},
    "date": {"date"},
    "score": {"double", "percent", "currency", "int"},
    "model": {"string", "textarea"},
}
ROLE_LABELS = {"segment": "Segment", "segment_id": "Segment id", "action": "Segment action", "date": "Segment date",
               "score": "Segment score", "model": "Segment model"}
CREATED = {  # each role's field as `custseg salesforce fields` creates it: describe type, length, scale, precision
    "segment": ("string", 80, 0, 0), "segment_id": ("double", 0, 0, 4), "action": ("textarea", 1000, 0, 0),
    "date": ("date", 0, 0, 0), "score": ("double", 0, 4, 18), "model": ("string", 80, 0, 0),
}
PUSH_KEYS = ("object", "score_column", "batch_size", "max_retries", "retry_seconds")
MOVED_KEYS = {"segment_field": "segment", "score_field": "score", "date_field": "date", "model_field": "model"}
ADMIN_STEPS = (
    "an admin must create the field(s) and give this user edit access: run `custseg salesforce fields -o sfdx/`, "
    "deploy it (cd sfdx && sf project deploy start --source-dir force-app), assign the permission set it contains, "
    "and add the fields to the Account page layout; see sfdx/README.md"
)


@dataclass(frozen=True)
class PushFields:
    """Target object and the field of each role; None (or '') leaves a role out.

    By default the segment's name, id, action and the run date are pushed; the distance to the
    segment's centre (`score`, from the assignments column `score_column`) and the model's
    identifier (`model`) when given a field.

    >>> PushFields().targets()
    {'segment': 'Segment__c', 'segment_id': 'Segment_Id__c', 'action': 'Segment_Action__c', 'date': 'Segment_Date__c'}
    >>> PushFields(action=None, score="Segment_Score__c").targets()["score"]
    'Segment_Score__c'
    """

    object_name: str = "Account"
    segment: str = "Segment__c"
    segment_id: str | None = "Segment_Id__c"
    action: str | None = "Segment_Action__c"
    date: str | None = "Segment_Date__c"
    score: str | None = None
    model: str | None = None
    score_column: str = "distance"

    def __post_init__(self) -> None:
        check_object_name(self.object_name)
        if not self.segment:
            raise UsageError("the segment field cannot be left out ([salesforce.fields] segment)")
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
        """From `[salesforce.fields]` (role = "Field__c", "" leaves the role out) and `[salesforce.push]` keys
        object and score_column; `overrides` (command-line options) win."""
        salesforce = (config or {}).get("salesforce", {})
        table = dict(salesforce.get("fields", {}))
        unknown = sorted(set(table) - set(ROLE_TYPES))
        if unknown:
            raise UsageError(f"unknown key(s) in [salesforce.fields]: {', '.join(unknown)}; keys are {', '.join(ROLE_TYPES)}")
        push = push_table(config)
        kwargs = {role: str(value) if value not in ("", None) else None for role, value in table.items()}
        kwargs |= {name: str(push[key]) for key, name in (("object", "object_name"), ("score_column", "score_column")) if key in push}
        kwargs |= {role: value or None for role, value in overrides.items() if value is not None}
        return cls(**kwargs)


def push_table(config: Mapping | None) -> dict:
    """The `[salesforce.push]` table, its keys checked (field names moved to `[salesforce.fields]`)."""
    table = dict(((config or {}).get("salesforce", {})).get("push", {}))
    moved = sorted(set(table) & set(MOVED_KEYS))
    if moved:
        key = moved[0]
        raise UsageError(f"[salesforce.push] {key} moved to [salesforce.fields] as {MOVED_KEYS[key]} = \"{table[key]}\"")
    unknown = sorted(set(table) - set(PUSH_KEYS))
    if unknown:
        raise UsageError(f"unknown key(s) in [salesforce.push]: {', '.join(unknown)}; keys are {', '.join(sorted(PUSH_KEYS))}")
    return table


def push_settings(config: Mapping | None) -> dict:
    """batch_size, max_retries, retry_seconds from `[salesforce.push]` (only those given)."""
    table = push_table(config)
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


def created_fields(targets: PushFields) -> dict[str, TargetField]:
    """The target fields as `custseg salesforce fields` creates them: what an offline push formats values for."""
    return {role: TargetField(role, name, *CREATED[role][:3], None) for role, name in targets.targets().items()}


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
