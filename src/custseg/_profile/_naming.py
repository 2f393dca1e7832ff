"""Names, descriptions and marketing actions of segments, from the editable rules table (English and French).

Every text is given only when its conditions hold for the segment; `name_rule` and
`action_rule` record which ones (parts joined by " + "):

- `rule:<id>`: the first `[[rule]]` whose `when` levels and `when_share` shares all hold
  gives the name, description and action;
- `levels:<f>;<g>`: otherwise the name is the segment's two most significant levels (by
  |v-test|) in business words; `average`: the texts of a segment average on every feature;
- `level:<f>` or `rank:<f>`: segments left with the same name (siblings) are qualified by
  what separates them: the first feature (by spread of their v-tests), else pair of
  features, on which their level words all differ, with their medians' percentiles at
  least GAP apart wherever the words differ (words on either side of a cut are no
  difference), else their rank on the most spread feature;
- `trait:<id>@<f>`: a `[[trait]]` holding on the segment's own level of a significant
  feature gives the action of a `levels:` segment and adds to a sibling's. Traits go by
  strength: over all (segment, feature, trait), the largest |v-test| first, one trait per
  segment and one segment per trait. Siblings try the features that set them apart first,
  then their other significant features not in their rule's `when`. `fallback`: the
  generic sentence of a `levels:` segment without a trait; `sibling:<f>`: a sibling without
  a trait is told to tailor the offer to what sets it apart.

Names write "very low" ("very high") as "low" ("high") when another segment's median on the
feature is "low" ("high") less than GAP away: two medians on either side of a cut read alike.
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
    "en": ("Set apart from the other “{base}” segments by {trait}.", "Tailor the offer to what sets them apart: their {trait}."),
    "fr": ("Se distingue des autres segments « {base} » par : {trait}.", "Adapter l'offre à ce qui les distingue : leur {trait}."),
}
AVERAGE = {"name": {"en": "Average profile", "fr": "Profil moyen"},
           "description": {"en": "Customers close to the average on every feature.",
                           "fr": "Clients proches de la moyenne sur toutes les variables."}}
GAP = 0.10  # medians closer than this in percentile are no difference in words (siblings, "very low" vs "low")
_SEPARATING = 6  # features tried, by spread, to tell siblings apart


def name_segments(levels: list[dict], v: list[dict], percentiles: list[dict], shares: list[dict], rules: dict,
                  labels: dict | None = None) -> list[dict]:
    """Name, description and action (per language), `name_rule` and `action_rule` of each segment; texts distinct.

    `levels`, `v` and `percentiles` (of the medians) per segment and feature (supplementary
    features such as recency included); `shares` per segment: customer_share,
    revenue_share, revenue_lift.
    """
    labels = labels or {}
    found = [next((r for r in rules.get("rule", []) if rule_holds(r, lv, sh)), None) for lv, sh in zip(levels, shares)]
    written = _written(levels, percentiles)
    texts = [_from_rule(rule) if rule else _from_levels(lv, vs, rules, labels) for rule, lv, vs in zip(found, written, v)]
    apart = _siblings(texts, written, v, percentiles)
    taken = {entry["action"]["en"] for entry in texts if entry["action"]}
    traits = _assign_traits(_candidates(found, apart, levels, v), levels, v, rules, taken)
    for i, entry in enumerate(texts):
        _finish(entry, traits.get(i), apart.get(i), written[i], rules, labels)
    for key in ("description", "action"):
        _last_resort(texts, key)
    return texts


def named_features(name_rule: str, rules: dict) -> list[str]:
    """The features a name speaks of, read from its `name_rule`: its rule's `when` (none for an id no longer in
    `rules`, as in a saved model's), its `levels:`, `level:` and `rank:` parts.

    >>> named_features("rule:x + level:AvgOrderValue", {"rule": [{"id": "x", "when": {"OrderCount": ["high"]}}]})
    ['OrderCount', 'AvgOrderValue']
    >>> named_features("levels:BALANCE;TENURE", {}), named_features("kept", {})
    (['BALANCE', 'TENURE'], [])
    """
    features = []
    for kind, _, what in (part.partition(":") for part in name_rule.split(" + ")):
        if kind == "rule":
            features += next((r.get("when", {}) for r in rules.get("rule", []) if r["id"] == what), {})
        elif kind in ("levels", "level", "rank"):
            features += what.split(";")
    return features


def _written(levels: list[dict], percentiles: list[dict]) -> list[dict]:
    """Level words as names write them (module docstring).

    >>> _written([{"A": "very low"}, {"A": "low"}, {"A": "very low"}], [{"A": 0.199}, {"A": 0.202}, {"A": 0.05}])
    [{'A': 'low'}, {'A': 'low'}, {'A': 'very low'}]
    """
    plain = {"very low": "low", "very high": "high"}
    return [{f: plain[word] if word in plain and any(other[f] == plain[word] and abs(pct[f] - other_pct[f]) < GAP
                                                     for other, other_pct in zip(levels, percentiles)) else word
             for f, word in lv.items()} for lv, pct in zip(levels, percentiles)]


def _significant(levels: dict[str, str], v: dict[str, float]) -> list[str]:
    """Features whose level is not average (levels come from real deviations only), by |v-test|."""
    return sorted((f for f in levels if levels[f] in DIRECTIONS), key=lambda f: -abs(v[f]))


def _phrases(words: dict[str, str], labels: dict, lang: str) -> str:
    """Level phrases ({feature: word in `lang`}) joined: "very high spend, low number of orders"."""
    return ", ".join(level_phrase(f, word, labels, lang) for f, word in words.items())


def _from_rule(rule: dict) -> dict:
    return ({key: dict(rule[key]) for key in ("name", "description", "action")}
            | {"name_rule": f"rule:{rule['id']}", "action_rule": f"rule:{rule['id']}"})


def _from_levels(levels: dict[str, str], v: dict[str, float], rules: dict, labels: dict) -> dict:
    """The texts of a segment no rule names: its two most significant levels (action to come from a trait), or average."""
    features = _significant(levels, v)
    if not features:
        return ({key: dict(AVERAGE[key]) for key in AVERAGE}
                | {"action": dict(rules["fallback"]["average_action"]), "name_rule": "average", "action_rule": "average"})
    entry: dict = {"name": {}, "description": {}, "action": None, "name_rule": "levels:" + ";".join(features[:2]),
                   "action_rule": "fallback", "fallback": {}}
    for lang in S.LANGUAGES:
        traits = _phrases({f: rules["levels"][lang][levels[f]] for f in features[:2]}, labels, lang)
        entry["name"][lang] = traits[0].upper() + traits[1:]
        entry["description"][lang] = rules["fallback"]["description"][lang].format(traits=traits)
        entry["fallback"][lang] = rules["fallback"]["action"][lang].format(traits=traits)
    return entry


def _siblings(texts: list[dict], levels: list[dict], v: list[dict], percentiles: list[dict]) -> dict[int, tuple]:
    """{segment: (features, rank or None, siblings)} for segments sharing a name (module docstring)."""
    groups: dict[str, list[int]] = {}
    for i, entry in enumerate(texts):
        groups.setdefault(entry["name"]["en"], []).append(i)
    apart = {}
    for members in (m for m in groups.values() if len(m) > 1):
        features, ranks = _separators(members, levels, v, percentiles)
        apart |= {i: (features, None if ranks is None else ranks[i], len(members)) for i in members}
    return apart


def _separators(members: list[int], levels: list[dict], v: list[dict],
                percentiles: list[dict]) -> tuple[list[str], dict[int, int] | None]:
    """(features, None) that tell siblings apart: one feature or a pair, most spread (v-tests) first; else
    ([the most spread feature], {segment: its rank on it, 0 the highest})."""
    spread = sorted(levels[members[0]], key=lambda f: -np.ptp([v[i][f] for i in members]))
    for size in (1, 2):
        for combo in itertools.combinations(spread[:_SEPARATING], size):
            if _tells_apart(combo, members, levels, percentiles):
                return list(combo), None
    ranked = sorted(members, key=lambda i: -v[i][spread[0]])
    return [spread[0]], {i: j for j, i in enumerate(ranked)}


def _tells_apart(features: tuple[str, ...], members: list[int], levels: list[dict], percentiles: list[dict]) -> bool:
    """Whether every two siblings' level words differ on `features`, each difference a real gap (GAP).

    >>> pct = [{"A": 0.19}, {"A": 0.21}, {"A": 0.35}]
    >>> lv = [{"A": "very low"}, {"A": "low"}, {"A": "low"}]
    >>> _tells_apart(("A",), [0, 1], lv, pct), _tells_apart(("A",), [0, 2], lv, pct)
    (False, True)
    """
    words = {tuple(levels[i][f] for f in features) for i in members}
    return len(words) == len(members) and all(abs(percentiles[i][f] - percentiles[j][f]) >= GAP
                                              for i, j in itertools.combinations(members, 2)
                                              for f in features if levels[i][f] != levels[j][f])


def _candidates(found: list[dict | None], apart: dict[int, tuple], levels: list[dict],
                v: list[dict]) -> list[tuple[int, int, str]]:
    """(tier, segment, feature) whose trait may give the segment's action (module docstring); lower tiers first."""
    out = []
    for i, rule in enumerate(found):
        own = [f for f in _significant(levels[i], v[i]) if not rule or f not in rule.get("when", {})]
        first = [f for f in apart[i][0] if levels[i][f] in DIRECTIONS] if i in apart else [] if rule else own
        then = [f for f in own if f not in first] if i in apart else []
        out += [(0, i, f) for f in first] + [(1, i, f) for f in then]
    return out


def _assign_traits(candidates: list[tuple[int, int, str]], levels: list[dict], v: list[dict], rules: dict,
                   taken: set[str]) -> dict[int, tuple[dict, str]]:
    """{segment: (trait, feature)}: the strongest (tier, |v-test|) first, one trait per segment, actions not `taken`."""
    options = [(tier, i, f, trait) for tier, i, f in candidates for trait in rules.get("trait", [])
               if trait_holds(trait, f, levels[i])]
    chosen: dict[int, tuple[dict, str]] = {}
    for _, i, f, trait in sorted(options, key=lambda o: (o[0], -abs(v[o[1]][o[2]]))):
        if i not in chosen and trait["action"]["en"] not in taken:
            chosen[i] = (trait, f)
            taken.add(trait["action"]["en"])
    return chosen


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


def _finish(entry: dict, trait: tuple[dict, str] | None, apart: tuple | None, levels: dict, rules: dict,
            labels: dict) -> None:
    """The segment's action from its trait, and a sibling's qualifiers in name, description and action."""
    fallback = entry.pop("fallback", None)
    if fallback is not None:  # a `levels:` segment: its trait, else the generic sentence
        entry["action"] = dict(trait[0]["action"]) if trait else fallback
        entry["action_rule"] = f"trait:{trait[0]['id']}@{trait[1]}" if trait else "fallback"
    elif trait:
        entry["action"] = {lang: f"{entry['action'][lang]} {trait[0]['action'][lang]}" for lang in S.LANGUAGES}
        entry["action_rule"] += f" + trait:{trait[0]['id']}@{trait[1]}"
    if apart is None:
        return
    features, rank, n = apart
    entry["name_rule"] += "".join(f" + {'level' if rank is None else 'rank'}:{f}" for f in features)
    entry["action_rule"] += "" if trait else f" + sibling:{';'.join(features)}"
    for lang in S.LANGUAGES:
        words = {f: rules["levels"][lang][levels[f]] if rank is None else _rank_word(rank, n, lang) for f in features}
        phrase, base = _phrases(words, labels, lang), entry["name"][lang]
        described, tailored = SIBLING[lang]
        entry["name"][lang] = f"{base} – {phrase}"
        entry["description"][lang] += f" {described.format(base=base, trait=phrase)}"
        entry["action"][lang] += "" if trait else f" {tailored.format(trait=phrase)}"


def _last_resort(texts: list[dict], key: str) -> None:
    """Any text still shared by two segments gets the segment's (distinct) name."""
    seen: dict[str, int] = {}
    for entry in texts:
        seen[entry[key]["en"]] = seen.get(entry[key]["en"], 0) + 1
    for entry in texts:
        if seen[entry[key]["en"]] > 1:
            for lang in S.LANGUAGES:
                entry[key][lang] = f"{entry[key][lang]} ({entry['name'][lang]})"
