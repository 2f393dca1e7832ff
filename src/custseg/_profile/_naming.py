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

import numpy as np

from .. import _schema as S
from ._labels import level_phrase
from ._rules import DIRECTIONS, rule_holds, trait_holds

RANK_WORDS = {"en": ("higher", "lower", "highest", "lowest", "{n} highest"),
              "fr": ("plus élevé", "plus bas", "le plus élevé", "le plus bas", "{n} plus élevé")}
SIBLING = {
    "en": ("Set apart from the other “{base}” segments by {trait}.", "Start with what sets them apart: {trait}."),
    "fr": ("Se distingue des autres segments « {base} » par : {trait}.", "Commencer par ce qui les distingue : {trait}."),
}
AVERAGE = {"name": {"en": "Average profile", "fr": "Profil moyen"},
           "description": {"en": "Customers close to the average on every feature.",
                           "fr": "Clients proches de la moyenne sur toutes les variables."}}
_SEPARATING = 6  # features tried, by spread, to tell siblings apart


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


def _phrases(words: dict[str, str], labels: dict, lang: str) -> str:
    """Level phrases ({feature: word in `lang`}) joined: "very high spend, low number of orders"."""
    return ", ".join(level_phrase(f, word, labels, lang) for f, word in words.items())


def _from_traits(levels: dict[str, str], v: dict[str, float], rules: dict, labels: dict, taken: set[str]) -> dict:
    features = _significant(levels, v)
    if not features:
        return ({key: dict(AVERAGE[key]) for key in AVERAGE}
                | {"action": dict(rules["fallback"]["average_action"]), "name_rule": "average", "action_rule": "average"})
    found = _trait_for(features, levels, rules, taken)
    entry: dict = {"name": {}, "description": {}, "action": {}, "name_rule": "levels:" + ";".join(features[:2]),
                   "action_rule": f"trait:{found[0]['id']}@{found[1]}" if found else "fallback"}
    for lang in S.LANGUAGES:
        traits = _phrases({f: rules["levels"][lang][levels[f]] for f in features[:2]}, labels, lang)
        entry["name"][lang] = traits[0].upper() + traits[1:]
        entry["description"][lang] = rules["fallback"]["description"][lang].format(traits=traits)
        entry["action"][lang] = found[0]["action"][lang] if found else rules["fallback"]["action"][lang].format(traits=traits)
    return entry


def _separators(members: list[int], levels: list[dict], v: list[dict]) -> tuple[list[str], dict[int, int] | None]:
    """(features, None) whose level words all differ among siblings: one feature or a pair, most spread (v-tests)
    first; else ([the most spread feature], {segment: its rank on it, 0 the highest})."""
    spread = sorted(levels[members[0]], key=lambda f: -np.ptp([v[i][f] for i in members]))
    for size in (1, 2):
        for combo in itertools.combinations(spread[:_SEPARATING], size):
            if len({tuple(levels[i][f] for f in combo) for i in members}) == len(members):
                return list(combo), None
    ranked = sorted(members, key=lambda i: -v[i][spread[0]])
    return [spread[0]], {i: j for j, i in enumerate(ranked)}


def _rank_word(rank: int, n: int, lang: str) -> str:
    """'higher'/'lower' between two, else 'highest', '2nd highest', ..., 'lowest' (French alike).

    >>> [_rank_word(r, 4, "en") for r in range(4)], _rank_word(1, 3, "fr")
    (['highest', '2nd highest', '3rd highest', 'lowest'], '2e plus élevé')
    """
    higher, lower, highest, lowest, nth = RANK_WORDS[lang]
    if n == 2:
        return (higher, lower)[rank]
    if rank in (0, n - 1):
        return highest if rank == 0 else lowest
    suffix = "e" if lang == "fr" else {2: "nd", 3: "rd"}.get(rank + 1, "th")  # ranks 2 to n - 1 (a few segments)
    return nth.format(n=f"{rank + 1}{suffix}")


def _separate_siblings(texts: list[dict], levels: list[dict], v: list[dict], rules: dict, labels: dict) -> None:
    """Qualify segments sharing a name by what separates them, in name, description and action (module docstring)."""
    groups: dict[str, list[int]] = {}
    for i, entry in enumerate(texts):
        groups.setdefault(entry["name"]["en"], []).append(i)
    for members in (m for m in groups.values() if len(m) > 1):
        features, ranks = _separators(members, levels, v)
        for i in members:
            own = _trait_for(features, levels[i], rules, {texts[i]["action"]["en"]})
            texts[i]["name_rule"] += "".join(f" + {'rank' if ranks else 'level'}:{f}" for f in features)
            texts[i]["action_rule"] += f" + trait:{own[0]['id']}@{own[1]}" if own else f" + sibling:{';'.join(features)}"
            for lang in S.LANGUAGES:
                words = {f: _rank_word(ranks[i], len(members), lang) if ranks else rules["levels"][lang][levels[i][f]]
                         for f in features}
                trait, base = _phrases(words, labels, lang), texts[i]["name"][lang]
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
