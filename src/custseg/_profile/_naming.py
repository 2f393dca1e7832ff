"""Names, descriptions and marketing actions of segments, from the editable rules table (English and French).

A segment takes the first `[[rule]]` whose conditions on feature levels all hold. Otherwise
its name is its two most significant traits (by |v-test|, in the column labels the user
gave), and its action comes from the first `[[trait]]` rule keyed on one of its significant
features (by |v-test|) that no other segment took; the generic `[fallback]` sentence only
when no trait rule applies. Segments left with the same name (siblings) are qualified by
the feature that separates them, in their name, description and action, so every segment
has its own texts.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .. import _schema as S
from .._config import read_toml
from .._errors import UsageError
from ._labels import label_of

ORDINALS = {"en": ("highest", "2nd highest", "3rd highest"), "fr": ("le plus élevé", "2e plus élevé", "3e plus élevé")}
DIRECTIONS = {"very low": "low", "low": "low", "high": "high", "very high": "high"}
SIBLING = {
    "en": ("Set apart from the other “{base}” segments by {trait}.", "Start with what sets them apart: {trait}."),
    "fr": ("Se distingue des autres segments « {base} » par {trait}.", "Commencer par ce qui les distingue : {trait}."),
}
AVERAGE = {"name": {"en": "Average profile", "fr": "Profil moyen"},
           "description": {"en": "Customers close to the average on every feature.",
                           "fr": "Clients proches de la moyenne sur toutes les variables."}}


def load_rules(path: str | Path | None = None) -> dict:
    """The naming rules table: the bundled one, or a user's TOML file."""
    rules = read_toml(path, "rules file", "data/segment_rules.toml")
    for rule in rules.get("rule", []):
        bad = {lvl for levels in rule.get("when", {}).values() for lvl in levels} - set(S.LEVELS)
        if bad or not all(lang in rule.get(key, {}) for key in ("name", "description", "action") for lang in S.LANGUAGES):
            raise UsageError(f"rules file {path}: rule {rule.get('id', '?')!r} needs name/description/action in "
                             f"{' and '.join(S.LANGUAGES)} and levels among {', '.join(S.LEVELS)}")
    for trait in rules.get("trait", []):
        if trait.get("direction") not in ("high", "low") or not all(lang in trait.get("action", {}) for lang in S.LANGUAGES):
            raise UsageError(f"rules file {path}: trait {trait.get('match', '?')!r} needs direction high or low "
                             f"and an action in {' and '.join(S.LANGUAGES)}")
        try:
            re.compile(trait.get("match", ""))
        except re.error as exc:
            raise UsageError(f"rules file {path}: trait match {trait.get('match')!r} is not a regular expression ({exc})") from None
    return rules


def _trait(feature: str, level: str, rules: dict, labels: dict, lang: str) -> str:
    word, label = rules["levels"][lang][level], label_of(feature, labels, lang)
    return f"{label} {word}" if lang == "fr" else f"{word} {label}"


def _significant(levels: dict[str, str], v: dict[str, float]) -> list[str]:
    """Features whose level is not average (levels come from significant deviations only), by |v-test|."""
    return sorted((f for f in levels if levels[f] in DIRECTIONS), key=lambda f: -abs(v[f]))


def _trait_action(features: list[str], levels: dict[str, str], rules: dict, taken: set[str]) -> dict | None:
    for feature in features:
        for trait in rules.get("trait", []):
            if trait["direction"] == DIRECTIONS[levels[feature]] and re.search(trait["match"], feature, re.IGNORECASE):
                if trait["action"]["en"] not in taken:
                    return dict(trait["action"])
    return None


def _from_traits(levels: dict[str, str], v: dict[str, float], rules: dict, labels: dict, taken: set[str]) -> dict:
    features = _significant(levels, v)
    if not features:
        return {key: dict(AVERAGE[key]) for key in AVERAGE} | {"action": dict(rules["fallback"]["average_action"])}
    entry: dict = {"name": {}, "description": {}, "action": {}}
    action = _trait_action(features, levels, rules, taken)
    for lang in S.LANGUAGES:
        traits = ", ".join(_trait(f, levels[f], rules, labels, lang) for f in features[:2])
        entry["name"][lang] = traits[0].upper() + traits[1:]
        entry["description"][lang] = rules["fallback"]["description"][lang].format(traits=traits)
        entry["action"][lang] = action[lang] if action else rules["fallback"]["action"][lang].format(traits=traits)
    return entry


def name_segments(levels: list[dict], v: list[dict], z: list[dict], rules: dict, labels: dict | None = None) -> list[dict]:
    """Name, description and action (per language) for each segment; all three distinct across segments.

    `levels` and `v` per segment and feature (supplementary features such as recency
    included); `z` the centers in model units, which separate siblings.
    """
    labels = labels or {}
    texts, taken = [], set()
    for seg_levels, seg_v in zip(levels, v):
        rule = next((r for r in rules.get("rule", []) if _match(r, seg_levels)), None)
        entry = ({key: dict(rule[key]) for key in ("name", "description", "action")} if rule
                 else _from_traits(seg_levels, seg_v, rules, labels, taken))
        taken.add(entry["action"]["en"])
        texts.append(entry)
    _separate_siblings(texts, levels, z, rules, labels)
    for key in ("description", "action"):
        _last_resort(texts, key)
    return texts


def _match(rule: dict, levels: dict[str, str]) -> bool:
    when = rule.get("when", {})
    return all(f in levels and levels[f] in allowed for f, allowed in when.items())


def _separate_siblings(texts: list[dict], levels: list[dict], z: list[dict], rules: dict, labels: dict) -> None:
    """Qualify segments sharing a name by the feature on which they differ most, in name, description and action."""
    groups: dict[str, list[int]] = {}
    for i, entry in enumerate(texts):
        groups.setdefault(entry["name"]["en"], []).append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        features = list(z[members[0]])
        spread = {f: np.ptp([z[i][f] for i in members]) for f in features}
        feature = max(features, key=spread.get)
        by_value = sorted(members, key=lambda i: -z[i][feature])
        middle = np.mean([z[i][feature] for i in members])
        for lang in S.LANGUAGES:
            words = rules["levels"][lang]
            qualifiers = [words[levels[i][feature]] for i in by_value]
            if len(set(qualifiers)) < len(qualifiers):
                qualifiers = [ORDINALS[lang][j] if j < len(ORDINALS[lang]) else f"#{j + 1}" for j in range(len(by_value))]
            label = label_of(feature, labels, lang)
            for i, qualifier in zip(by_value, qualifiers):
                trait = f"{label} {qualifier}" if lang == "fr" else f"{qualifier} {label}"
                base = texts[i]["name"][lang]
                texts[i]["name"][lang] = f"{base} ({trait})"
                described, acted = SIBLING[lang]
                texts[i]["description"][lang] = f"{texts[i]['description'][lang]} {described.format(base=base, trait=trait)}"
                own = _trait_action([feature], {feature: "high" if z[i][feature] >= middle else "low"}, rules,
                                    {texts[i]["action"]["en"]})
                texts[i]["action"][lang] = f"{texts[i]['action'][lang]} {own[lang] if own else acted.format(trait=trait)}"


def _last_resort(texts: list[dict], key: str) -> None:
    """Any text still shared by two segments gets the segment's (distinct) name."""
    seen: dict[str, int] = {}
    for entry in texts:
        seen[entry[key]["en"]] = seen.get(entry[key]["en"], 0) + 1
    for entry in texts:
        if seen[entry[key]["en"]] > 1:
            for lang in S.LANGUAGES:
                entry[key][lang] = f"{entry[key][lang]} ({entry['name'][lang]})"
