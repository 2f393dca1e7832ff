"""Names, descriptions and marketing actions of segments, from the editable rules table (English and French).

Every text is given only when its conditions hold for the segment; `name_rule` and
`action_rule` record which ones (parts joined by " + "):

- `rule:<id>`: the first `[[rule]]` whose `when` levels and `when_share` shares all hold
  gives the name, description and action;
- `levels:<f>;<g>`: otherwise the name is the segment's two most significant levels (by
  |v-test|) in business words; `trait:<id>@<f>`: its action is the first `[[trait]]` that
  holds on the segment's own level of a significant feature (by |v-test|) and that no other
  segment took; `fallback`: the generic sentence when none holds; `average`: the texts of a
  segment average on every feature;
- `level:<f>` or `rank:<f>`: segments left with the same name (siblings) are qualified by
  what separates them: the first feature (by spread of their v-tests), else pair of
  features, on which their level words all differ, else their rank on the most spread
  feature; their actions add the trait that holds on their own level (`trait:<id>@<f>`),
  else a pointer to that difference (`sibling:<f>`).
"""

from __future__ import annotations

import itertools
import operator
import re
from pathlib import Path

import numpy as np

from .. import _schema as S
from .._config import read_toml
from .._errors import UsageError
from ._labels import level_phrase

SHARES = ("customer_share", "revenue_share", "revenue_lift")
OPERATORS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
DIRECTIONS = {"very low": "low", "low": "low", "high": "high", "very high": "high"}
RANK_WORDS = {"en": ("higher", "lower", "highest", "lowest", "{n} highest"),
              "fr": ("plus élevé", "plus bas", "le plus élevé", "le plus bas", "{n} plus élevé")}
ORDINAL_SUFFIX = {"en": {1: "st", 2: "nd", 3: "rd"}, "fr": {}}
SIBLING = {
    "en": ("Set apart from the other “{base}” segments by {trait}.", "Start with what sets them apart: {trait}."),
    "fr": ("Se distingue des autres segments « {base} » par : {trait}.", "Commencer par ce qui les distingue : {trait}."),
}
AVERAGE = {"name": {"en": "Average profile", "fr": "Profil moyen"},
           "description": {"en": "Customers close to the average on every feature.",
                           "fr": "Clients proches de la moyenne sur toutes les variables."}}
_CONDITION = re.compile(r"^\s*(>=|<=|>|<)\s*(\d+(?:\.\d+)?)\s*$")
_SEPARATING = 6  # features tried, by spread, to tell siblings apart


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


def name_segments(levels: list[dict], v: list[dict], shares: list[dict], rules: dict,
                  labels: dict | None = None) -> list[dict]:
    """Name, description and action (per language), `name_rule` and `action_rule` of each segment; texts distinct.

    `levels` and `v` per segment and feature (supplementary features such as recency
    included); `shares` per segment: customer_share, revenue_share, revenue_lift.
    """
    labels = labels or {}
    texts, taken = [], set()
    for seg_levels, seg_v, seg_shares in zip(levels, v, shares):
        rule = next((r for r in rules.get("rule", []) if rule_holds(r, seg_levels, seg_shares)), None)
        entry = ({key: dict(rule[key]) for key in ("name", "description", "action")}
                 | {"name_rule": f"rule:{rule['id']}", "action_rule": f"rule:{rule['id']}"} if rule
                 else _from_traits(seg_levels, seg_v, rules, labels, taken))
        taken.add(entry["action"]["en"])
        texts.append(entry)
    _separate_siblings(texts, levels, v, rules, labels)
    for key in ("description", "action"):
        _last_resort(texts, key)
    return texts


def _significant(levels: dict[str, str], v: dict[str, float]) -> list[str]:
    """Features whose level is not average (levels come from real deviations only), by |v-test|."""
    return sorted((f for f in levels if levels[f] in DIRECTIONS), key=lambda f: -abs(v[f]))


def _trait_for(features: list[str], levels: dict[str, str], rules: dict, taken: set[str]) -> tuple[dict, str] | None:
    """The first (trait, feature) that holds on the segment's own levels, its action not in `taken`."""
    return next(((trait, f) for f in features for trait in rules.get("trait", [])
                 if trait_holds(trait, f, levels) and trait["action"]["en"] not in taken), None)


def _phrases(features: list[str], words: dict[str, str], rules: dict, labels: dict, lang: str) -> str:
    return ", ".join(level_phrase(f, rules["levels"][lang].get(words[f], words[f]), labels, lang) for f in features)


def _from_traits(levels: dict[str, str], v: dict[str, float], rules: dict, labels: dict, taken: set[str]) -> dict:
    features = _significant(levels, v)
    if not features:
        return ({key: dict(AVERAGE[key]) for key in AVERAGE}
                | {"action": dict(rules["fallback"]["average_action"]), "name_rule": "average", "action_rule": "average"})
    found = _trait_for(features, levels, rules, taken)
    entry: dict = {"name": {}, "description": {}, "action": {}, "name_rule": "levels:" + ";".join(features[:2]),
                   "action_rule": f"trait:{found[0]['id']}@{found[1]}" if found else "fallback"}
    for lang in S.LANGUAGES:
        traits = _phrases(features[:2], levels, rules, labels, lang)
        entry["name"][lang] = traits[0].upper() + traits[1:]
        entry["description"][lang] = rules["fallback"]["description"][lang].format(traits=traits)
        entry["action"][lang] = found[0]["action"][lang] if found else rules["fallback"]["action"][lang].format(traits=traits)
    return entry


def _separators(members: list[int], levels: list[dict], v: list[dict]) -> tuple[list[str], dict[int, dict[str, str]], str]:
    """(features, {segment: {feature: word key}}, kind) that tell siblings apart: level words when they all differ
    on one feature or a pair (most spread first), else ranks on the most spread feature."""
    spread = sorted(levels[members[0]], key=lambda f: -np.ptp([v[i][f] for i in members]))
    for size in (1, 2):
        for combo in itertools.combinations(spread[:_SEPARATING], size):
            if len({tuple(levels[i][f] for f in combo) for i in members}) == len(members):
                return list(combo), {i: {f: levels[i][f] for f in combo} for i in members}, "level"
    feature, n = spread[0], len(members)
    ranked = sorted(members, key=lambda i: -v[i][feature])
    keys = ["rank_higher", "rank_lower"] if n == 2 else ["rank_highest", *[f"rank_{j}" for j in range(2, n)], "rank_lowest"]
    return [feature], {i: {feature: key} for i, key in zip(ranked, keys)}, "rank"


def _rank_word(key: str, lang: str) -> str:
    higher, lower, highest, lowest, nth = RANK_WORDS[lang]
    named = {"rank_higher": higher, "rank_lower": lower, "rank_highest": highest, "rank_lowest": lowest}
    if key in named:
        return named[key]
    n = int(key.split("_")[1])
    return nth.format(n=f"{n}{ORDINAL_SUFFIX[lang].get(n if n < 20 else n % 10, 'th' if lang == 'en' else 'e')}")


def _separate_siblings(texts: list[dict], levels: list[dict], v: list[dict], rules: dict, labels: dict) -> None:
    """Qualify segments sharing a name by what separates them, in name, description and action (module docstring)."""
    groups: dict[str, list[int]] = {}
    for i, entry in enumerate(texts):
        groups.setdefault(entry["name"]["en"], []).append(i)
    for members in (m for m in groups.values() if len(m) > 1):
        features, words, kind = _separators(members, levels, v)
        for i in members:
            own = _trait_for(features, levels[i], rules, {texts[i]["action"]["en"]})
            texts[i]["name_rule"] += " + " + " + ".join(f"{kind}:{f}" for f in features)
            texts[i]["action_rule"] += f" + trait:{own[0]['id']}@{own[1]}" if own else f" + sibling:{';'.join(features)}"
            for lang in S.LANGUAGES:
                said = {f: _rank_word(w, lang) if kind == "rank" else w for f, w in words[i].items()}
                trait, base = _phrases(features, said, rules, labels, lang), texts[i]["name"][lang]
                described, acted = SIBLING[lang]
                texts[i]["name"][lang] = f"{base} – {trait}"
                texts[i]["description"][lang] += f" {described.format(base=base, trait=trait)}"
                texts[i]["action"][lang] += f" {own[0]['action'][lang] if own else acted.format(trait=trait)}"


def _last_resort(texts: list[dict], key: str) -> None:
    """Any text still shared by two segments gets the segment's (distinct) name."""
    seen: dict[str, int] = {}
    for entry in texts:
        seen[entry[key]["en"]] = seen.get(entry[key]["en"], 0) + 1
    for entry in texts:
        if seen[entry[key]["en"]] > 1:
            for lang in S.LANGUAGES:
                entry[key][lang] = f"{entry[key][lang]} ({entry['name'][lang]})"
