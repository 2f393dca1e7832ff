"""The rules table (`data/segment_rules.toml` or the user's --rules file): loading, checks, and its conditions.

A `[[rule]]` holds for a segment when each feature of its `when` has one of the levels
listed, and each share of its `when_share` ("customer_share", "revenue_share",
"revenue_lift") meets its "<op> <number>" condition; a `[[trait]]` holds for a feature when
its `match` finds the column name and the segment's own level is on its `direction` side.
"""

from __future__ import annotations

import operator
import re
from pathlib import Path

import numpy as np

from .. import _schema as S
from .._config import read_toml
from .._errors import UsageError

SHARES = ("customer_share", "revenue_share", "revenue_lift")
OPERATORS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
DIRECTIONS = {"very low": "low", "low": "low", "high": "high", "very high": "high"}
_CONDITION = re.compile(r"^\s*(>=|<=|>|<)\s*(\d+(?:\.\d+)?)\s*$")


def parse_condition(text: str) -> tuple[str, float]:
    """A share condition such as ">= 1.5" as (operator, number).

    >>> parse_condition(">= 1.5"), parse_condition("<0.2")
    (('>=', 1.5), ('<', 0.2))
    """
    found = _CONDITION.match(str(text))
    if not found:
        raise ValueError(f"{text!r} is not '<op> <number>' with <op> one of {', '.join(OPERATORS)}")
    return found[1], float(found[2])


def rule_holds(rule: dict, levels: dict[str, str], shares: dict[str, float]) -> bool:
    """Whether every `when` level and `when_share` condition of `rule` holds (a missing feature or share fails).

    >>> rule = {"when": {"TotalSales": ["high", "very high"]}, "when_share": {"revenue_lift": ">= 1.5"}}
    >>> rule_holds(rule, {"TotalSales": "high"}, {"revenue_lift": 2.0}), rule_holds(rule, {"TotalSales": "high"}, {})
    (True, False)
    """
    levels_hold = all(levels.get(f) in allowed for f, allowed in rule.get("when", {}).items())
    return levels_hold and all(_share_holds(shares.get(key, np.nan), condition)
                               for key, condition in rule.get("when_share", {}).items())


def _share_holds(value: float, condition: str) -> bool:
    op, number = parse_condition(condition)
    return bool(np.isfinite(value) and OPERATORS[op](value, number))


def trait_holds(trait: dict, feature: str, levels: dict[str, str]) -> bool:
    """Whether `trait` matches `feature`'s column name and the segment's own level is on its direction's side.

    >>> trait_holds({"match": "avg", "direction": "high"}, "AvgOrderValue", {"AvgOrderValue": "average"})
    False
    """
    return (DIRECTIONS.get(levels.get(feature, "")) == trait["direction"]
            and re.search(trait["match"], feature, re.IGNORECASE) is not None)


def load_rules(path: str | Path | None = None) -> dict:
    """The naming rules table: the bundled one, or a user's TOML file, checked (one-line UsageErrors)."""
    rules = read_toml(path, "rules file", "data/segment_rules.toml")
    where = f"rules file {path or 'data/segment_rules.toml'}"
    for kind in ("rule", "trait"):
        ids = [entry.get("id") for entry in rules.get(kind, [])]
        for entry in rules.get(kind, []):
            problem = _problem(kind, entry) or ("needs a unique id" if not entry.get("id") or ids.count(entry["id"]) > 1 else "")
            if problem:
                raise UsageError(f"{where}: {kind} {entry.get('id', '?')!r} {problem}")
    if any(set(S.LEVELS) - set(rules.get("levels", {}).get(lang, {})) for lang in S.LANGUAGES):
        raise UsageError(f"{where}: [levels] needs a word for each of {', '.join(S.LEVELS)} in {' and '.join(S.LANGUAGES)}")
    return rules


def _problem(kind: str, entry: dict) -> str:
    """What is wrong with a rule or trait, or ''."""
    keys = ("name", "description", "action") if kind == "rule" else ("action",)
    if not all(lang in entry.get(key, {}) for key in keys for lang in S.LANGUAGES):
        return f"needs {'/'.join(keys)} in {' and '.join(S.LANGUAGES)}"
    if kind == "trait":
        try:
            re.compile(entry.get("match", ""))
        except re.error as exc:
            return f"has a match {entry.get('match')!r} that is not a regular expression ({exc})"
        return "" if entry.get("direction") in ("high", "low") else "needs direction high or low"
    if {lvl for levels in entry.get("when", {}).values() for lvl in levels} - set(S.LEVELS):
        return f"needs levels among {', '.join(S.LEVELS)}"
    for key, condition in entry.get("when_share", {}).items():
        if key not in SHARES:
            return f"has when_share {key!r}: the shares are {', '.join(SHARES)}"
        try:
            parse_condition(condition)
        except ValueError as exc:
            return f"has when_share {key}: {exc}"
    return ""
