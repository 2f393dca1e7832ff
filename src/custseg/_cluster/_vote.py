"""The panel of indices that votes for k (R's NbClust majority rule), and the warnings in words that come with a choice.

The k eligible are those whose smallest segment holds the minimum share and, when per-segment
stability was measured, whose every segment keeps a bootstrap Jaccard of 0.6 or more
(clusterboot's "dissolved" line, `_jaccard`; a k not measured counts as eligible, and
`deciding_ks` says which k's must be measured for the choice to stand). NbClust's panel of
cheap indices (`_indices`) votes each index for its k by NbClust's rule over the whole range,
and abstains when that k is not eligible; beside it, the silhouette (highest), the gap
statistic (Tibshirani's rule), the partition's stability over subsamples (highest adjusted
Rand) and HCPC's inertia-gain ratio W(k)/W(k-1) (lowest, as FactoMineR's HCPC suggests its
cut) vote among the eligible k. The k with most votes wins; ties go to the smaller k, as fewer
segments are easier to act on.

>>> table = pd.DataFrame({"k": [3, 4], "silhouette": [0.4, 0.5], "inertia_ratio": [0.5, 0.6],
...                       "stability_ari": [0.7, 0.9], "min_share": [0.2, 0.1], "eligible": [True, True]})
>>> vote_k(table, 0.05)[0], table["votes"].tolist()
(4, [1, 2])
>>> table["silhouette"] = [0.5, 0.4]
>>> vote_k(table, 0.05)[0], table["votes"].tolist()  # 2 votes to 1 for k=3
(3, [2, 1])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._config._options import BUSINESS_MIN_K
from .._i18n import format_number, format_percent
from ._indices import NAMES, RULES, best_k
from ._jaccard import DISSOLVED
from ._reference import structure_words

MIN_STABILITY = 0.8  # adjusted Rand under resampling: "stable" in the warnings when no k's segments were measured
NO_STRUCTURE_HOPKINS = 0.7  # at or under: "near 0.5", data without groups
NO_STRUCTURE_SILHOUETTE = 0.25
INDEX_NAMES = {  # index -> (English, French): NbClust's panel (`_indices`), then custseg's own
    **{index: (f"{name} (NbClust)", f"{name} (NbClust)") for index, name in NAMES.items()},
    "silhouette": ("silhouette", "silhouette"),
    "gap": ("gap statistic", "statistique du gap"),
    "stability": ("stability over subsamples (adjusted Rand)", "stabilité sur sous-échantillons (Rand ajusté)"),
    "inertia_gain": ("inertia-gain ratio (HCPC)", "ratio des gains d'inertie (HCPC)"),
}
_BEST = {"silhouette": ("silhouette", "max"), "stability": ("stability_ari", "max"), "inertia_gain": ("inertia_ratio", "min")}
# the stability measure a table holds (per-segment Jaccard, else the partition's adjusted Rand): its floor and words
UNSTABLE_WORDS = {
    "jaccard_min": (DISSOLVED, "keeps every segment under resampling (best weakest-segment Jaccard",
                    "ne garde tous ses segments sous rééchantillonnage (meilleur Jaccard du segment le plus faible"),
    "stability_ari": (MIN_STABILITY, "is stable (best adjusted Rand under resampling",
                      "n'est stable (meilleur Rand ajusté sous rééchantillonnage"),
}

def inertia_ratios(inertias: pd.Series, previous: float) -> np.ndarray:
    """W(k) / W(k-1) for consecutive k, `previous` being W(k_min - 1) (HCPC's criterion, lower is a sharper cut).

    >>> inertia_ratios(pd.Series([60.0, 30.0, 25.0]), 100.0).round(2).tolist()
    [0.6, 0.5, 0.83]
    """
    values = np.r_[previous, inertias.to_numpy(dtype=float)]
    return values[1:] / np.where(values[:-1] > 0, values[:-1], np.nan)


def _index_picks(table: pd.DataFrame, eligible: pd.DataFrame) -> dict[str, int | None]:
    """The k each index picks (None: none by its rule). NbClust's indices pick by NbClust's rules over the whole
    range, the gap by Tibshirani's; custseg's own pick the best eligible k."""
    picks: dict[str, int | None] = {}
    if set(RULES) <= set(table.columns):
        picks = best_k(table.sort_values("k"))
    for index, (column, best) in _BEST.items():
        values = eligible[column] if column in eligible.columns else pd.Series(dtype=float)
        if values.notna().any():
            picks[index] = int(eligible.loc[values.idxmax() if best == "max" else values.idxmin(), "k"])
    if "gap_choice" in table.columns:
        gap = table.loc[table["gap_choice"].astype(bool), "k"]
        picks["gap"] = int(gap.iloc[0]) if len(gap) else None
    return {index: picks[index] for index in INDEX_NAMES if index in picks}


def deciding_ks(table: pd.DataFrame, k: int) -> list[int]:
    """The k's whose per-segment stability decides a choice of `k` on a voted `table`: k itself, the k's tied with it
    and the k's that the indices choosing the best eligible k (silhouette, stability, HCPC) voted for. Should another
    k dissolve, its votes would be withdrawn and it lost anyway; should one of these, the votes move or k changes.

    >>> deciding_ks(pd.DataFrame({"k": [3, 4, 5, 6], "voted_by": ["kl, silhouette", "ch, db", "dunn", "ccc, gap"],
    ...                           "votes": [2, 2, 1, 2]}), 4)
    [3, 4, 6]
    """
    if "voted_by" not in table.columns:
        return [k]
    picked = table["voted_by"].map(lambda voters: bool(set(voters.split(", ")) & set(_BEST)))
    tied = table["votes"] == table.loc[table.k == k, "votes"].iloc[0]
    return sorted({k, *table.loc[picked | tied, "k"].astype(int)})


def _names(indices, lang: str) -> str:
    return ", ".join(INDEX_NAMES[i][lang == "fr"] for i in indices)


def _names_with_k(ks: dict, lang: str) -> str:
    """Each index with its k: "KL (NbClust) (k=4), gap statistic (k=7)"."""
    return ", ".join(f"{INDEX_NAMES[i][lang == 'fr']} (k={k})" for i, k in ks.items())


def largest_smallest_segment(table: pd.DataFrame, min_share: float) -> tuple[int, dict]:
    """When no k keeps every segment at `min_share`: the k with the largest smallest segment."""
    best = table.loc[table["min_share"].idxmax()]
    k, pct, low, high = int(best.k), f"{min_share:.0%}", table.k.min(), table.k.max()
    return k, {
        "en": f"k={k}: no k in {low}..{high} keeps every segment at {pct} of customers or more; "
              f"k={k} has the largest smallest segment ({best.min_share:.1%}).",
        "fr": f"k={k} : aucun k de {low} à {high} ne garde chaque segment à {format_percent(min_share, 'fr', 0)} des "
              f"clients ou plus ; k={k} a le plus grand plus petit segment ({format_percent(best.min_share, 'fr')}).",
    }


def vote_k(table: pd.DataFrame, min_share: float, floor: int | None = None) -> tuple[int, dict, str]:
    """(chosen k, reason {"en", "fr"}, rule text); sets the table's `stable`, `eligible`, `votes` and `voted_by` columns.
    No k under `floor` (the business minimum, `_choice`) is eligible."""
    measured = "jaccard_min" in table.columns
    rule = f"most votes of the indices (NbClust's panel, silhouette, gap, stability, HCPC) with min segment share >= {min_share}" + (
        f" and every segment's bootstrap Jaccard >= {DISSOLVED}" if measured else "") + ", ties to the smaller k"
    big_enough = (table["min_share"] >= min_share) & (table["k"] >= (floor or 0))
    # stable: every segment's Jaccard >= DISSOLVED; empty where not measured (`deciding_ks`), not known to dissolve
    table["stable"] = (table["jaccard_min"] >= DISSOLVED).astype(object).where(table["jaccard_min"].notna()) \
        if measured else True
    table["eligible"] = big_enough & ~(table["jaccard_min"] < DISSOLVED) if measured else big_enough
    dropped = measured and not table["eligible"].any()
    if dropped:
        table["eligible"] = big_enough  # no stable k: warned about by `warnings_for`
    table["votes"], table["voted_by"] = 0, ""
    if not table["eligible"].any():
        k, reason = largest_smallest_segment(table[table["k"] >= (floor or 0)], min_share)
        return k, reason, rule
    eligible = table[table["eligible"]]
    picks = _index_picks(table, eligible)
    votes = {index: k if k in set(eligible.k) else None for index, k in picks.items()}  # abstain: k not eligible
    for index, k in votes.items():
        if k is not None:
            row = table.index[table.k == k][0]
            table.loc[row, "votes"] += 1
            table.loc[row, "voted_by"] = ", ".join(filter(None, [table.loc[row, "voted_by"], index]))
    counts = table[table["eligible"]]
    top = counts["votes"].max()
    k = int(counts.loc[counts["votes"] == top, "k"].min())
    return k, _reason(table, k, votes, picks, min_share, measured and not dropped), rule


def _reason(table: pd.DataFrame, k: int, votes: dict, picks: dict, min_share: float, stable_only: bool) -> dict:
    """The vote in words; `stable_only`: the eligible k's are those whose segments keep their Jaccard (else no k
    does, and the condition was dropped)."""
    low, high, pct, pct_fr = table.k.min(), table.k.max(), f"{min_share:.0%}", format_percent(min_share, "fr", 0)
    floor_fr = format_number(DISSOLVED, "fr", 1)
    voters = [i for i, v in votes.items() if v == k]
    cast = sum(v is not None for v in votes.values())
    others = {i: v for i, v in votes.items() if v is not None and v != k}
    ruled_out = {i: picks[i] for i, v in votes.items() if v is None and picks[i] is not None}
    no_pick = [i for i, v in votes.items() if v is None and picks[i] is None]
    tied = table[table["eligible"] & (table["votes"] == len(voters)) & (table.k != k)].k.tolist()
    measured = "jaccard_min" in table.columns
    en = [f"k={k} has the most votes ({len(voters)} of the {cast} cast by {len(votes)} indices: "
          f"{_names(voters, 'en')}) among k={low}..{high} whose smallest segment holds at least {pct} of customers" + (
              f" and whose every segment keeps a bootstrap Jaccard of at least {DISSOLVED}" if stable_only else "")]
    fr = [f"k={k} a le plus de votes ({len(voters)} des {cast} exprimés par {len(votes)} indices : "
          f"{_names(voters, 'fr')}) parmi k={low} à {high} dont le plus petit segment regroupe au moins {pct_fr} des "
          f"clients" + (f" et dont chaque segment garde un Jaccard bootstrap d'au moins {floor_fr}" if stable_only else "")]
    if measured and not stable_only:
        en.append(f" (no k keeps every segment's bootstrap Jaccard at {DISSOLVED} or more: that condition was dropped, "
                  "see the warning)")
        fr.append(f" (aucun k ne garde le Jaccard bootstrap de chaque segment à {floor_fr} ou plus : cette condition a "
                  "été levée, voir l'avertissement)")
    if tied:
        en.append(f"; tied with k={', '.join(map(str, tied))}, the smaller k is kept (fewer segments are easier to act on)")
        fr.append(f" ; à égalité avec k={', '.join(map(str, tied))}, le plus petit k est retenu (moins de segments, plus "
                  f"faciles à exploiter)")
    if others:
        en.append(f"; disagreed: {_names_with_k(others, 'en')}")
        fr.append(f" ; en désaccord : {_names_with_k(others, 'fr')}")
    if ruled_out:
        en.append(f"; no vote, their k not eligible: {_names_with_k(ruled_out, 'en')}")
        fr.append(f" ; sans vote, leur k n'étant pas éligible : {_names_with_k(ruled_out, 'fr')}")
    if no_pick:
        en.append(f"; no vote, no k by their rule: {_names(no_pick, 'en')}")
        fr.append(f" ; sans vote, aucun k selon leur règle : {_names(no_pick, 'fr')}")
    small = table[table["min_share"] < min_share].k.tolist()
    unstable = table[(table["min_share"] >= min_share) & (table["jaccard_min"] < DISSOLVED)].k.tolist() if measured else []
    if small:
        en.append(f"; not eligible for a segment under {pct}: k={', '.join(map(str, small))}")
        fr.append(f" ; non éligibles car un segment fait moins de {pct_fr} : k={', '.join(map(str, small))}")
    if unstable and stable_only:
        en.append(f"; not eligible as a segment dissolves under resampling (Jaccard under {DISSOLVED}): "
                  f"k={', '.join(map(str, unstable))}")
        fr.append(f" ; non éligibles car un segment se dissout sous rééchantillonnage (Jaccard sous {floor_fr}) : "
                  f"k={', '.join(map(str, unstable))}")
    if measured and table["jaccard_min"].isna().any():
        at = ", ".join(map(str, table.loc[table["jaccard_min"].notna(), "k"]))
        en.append(f"; the bootstrap Jaccard was measured at k={at}, the k's that decide the choice (another k that "
                  "dissolved would only lose its votes)")
        fr.append(f" ; le Jaccard bootstrap a été mesuré à k={at}, les k qui décident du choix (un autre k qui se "
                  "dissoudrait ne ferait que perdre ses votes)")
    hcpc = _hcpc_words(table, k, votes, min_share)
    return {"en": "".join(en) + "." + hcpc["en"], "fr": "".join(fr) + "." + hcpc["fr"]}


def _hcpc_words(table: pd.DataFrame, k: int, votes: dict, min_share: float) -> dict:
    """Why k is not HCPC's inertia-gain cut (the k of lowest W(k)/W(k-1) over the range), in words; empty when it is."""
    ratios = table.set_index("k")["inertia_ratio"].dropna() if "inertia_ratio" in table.columns else pd.Series(dtype=float)
    if ratios.empty or int(ratios.idxmin()) == k or k not in ratios.index:
        return {"en": "", "fr": ""}
    cut = int(ratios.idxmin())
    row = table[table.k == cut].iloc[0]
    low, high, ratio, own = table.k.min(), table.k.max(), ratios[cut], ratios[k]
    digits = 2 if round(ratio, 2) != round(own, 2) else 3  # two ratios that read the same at 2 decimals
    en = (f" k={k} is not HCPC's inertia-gain cut, k={cut} (W({cut})/W({cut - 1}) = {ratio:.{digits}f}, the lowest of "
          f"k={low}..{high}; {own:.{digits}f} at k={k}): ")
    fr = (f" k={k} n'est pas la coupure de HCPC par les gains d'inertie, k={cut} (W({cut})/W({cut - 1}) = "
          f"{format_number(ratio, 'fr', digits)}, le plus bas de k={low} à {high} ; {format_number(own, 'fr', digits)} "
          f"à k={k}) : ")
    if not row["eligible"]:  # a segment too small, one that dissolves, else under the business minimum (`_choice`)
        why = ((f"a segment holds under {min_share:.0%} of customers.",
                f"un segment regroupe moins de {format_percent(min_share, 'fr', 0)} des clients.")
               if row["min_share"] < min_share else
               (f"a segment's bootstrap Jaccard is under {DISSOLVED}.",
                f"le Jaccard bootstrap d'un segment est sous {format_number(DISSOLVED, 'fr', 1)}.")
               if row.get("jaccard_min", np.nan) < DISSOLVED else
               ("it is under the business minimum of segments.", "il est sous le minimum métier de segments."))
        return {"en": f"{en}k={cut} is not eligible, {why[0]}", "fr": f"{fr}k={cut} n'est pas éligible, {why[1]}"}
    against = [i for i, v in votes.items() if v == cut]
    count = sum(v == k for v in votes.values())
    en += f"the {count} indices above carried k={k}, against {len(against)} for k={cut}" + (
        f" ({_names(against, 'en')})." if against else ".")
    fr += f"les {count} indices ci-dessus ont porté k={k}, contre {len(against)} pour k={cut}" + (
        f" ({_names(against, 'fr')})." if against else ".")
    return {"en": en, "fr": fr}


def warnings_for(table: pd.DataFrame, k: int, hopkins: float | None, edges: bool = True,
                 business_min: int = BUSINESS_MIN_K, structure: dict | None = None) -> list[dict]:
    """Warnings in words: k at the edge of the range (at the bottom only above `business_min`), no stable k,
    no cluster structure (judged by `structure`, the k against copies without groups, when given; else by
    the Hopkins statistic and the silhouette)."""
    out = []
    low, high = int(table.k.min()), int(table.k.max())
    if edges and high > low and k == high:
        out.append({"en": f"k={k} is the largest k tried: more segments might fit the data better; "
                          f"try a wider range (e.g. {low}..{high + 4}).",
                    "fr": f"k={k} est le plus grand k essayé : davantage de segments conviendraient peut-être mieux ; "
                          f"essayez une plage plus large (par ex. {low}..{high + 4})."})
    if edges and high > low and k == low > business_min:
        out.append({"en": f"k={k} is the smallest k tried: fewer segments might fit the data better; "
                          f"try a range that starts lower (e.g. {business_min}..{high}; {business_min} is the "
                          f"business minimum of segments).",
                    "fr": f"k={k} est le plus petit k essayé : moins de segments conviendraient peut-être mieux ; "
                          f"essayez une plage qui commence plus bas (par ex. {business_min}..{high} ; {business_min} est "
                          f"le minimum de segments utile au métier)."})
    measure = next((m for m in UNSTABLE_WORDS if m in table.columns), None)
    if measure is not None and not (table[measure] >= UNSTABLE_WORDS[measure][0]).any():
        floor, what_en, what_fr = UNSTABLE_WORDS[measure]
        best = table[measure].max()
        out.append({"en": f"No k in {low}..{high} {what_en} {best:.2f}, under {floor}): the segments may change from one "
                          "run or one year to the next.",
                    "fr": f"Aucun k de {low} à {high} {what_fr} {format_number(best, 'fr', 2)}, sous "
                          f"{format_number(floor, 'fr', 1)}) : les segments peuvent changer "
                          "d'une exécution ou d'une année à l'autre."})
    if structure is not None:
        return out + ([] if structure["natural_groups"] else [structure_words(structure)])
    silhouette = float(table.loc[table.k == k, "silhouette"].iloc[0]) if (table.k == k).any() else np.nan
    weak_hopkins = hopkins is not None and np.isfinite(hopkins) and hopkins <= NO_STRUCTURE_HOPKINS
    if weak_hopkins or silhouette < NO_STRUCTURE_SILHOUETTE:
        facts_en = [f"Hopkins statistic {hopkins:.2f}, near 0.5 for data without groups"] if weak_hopkins else []
        facts_fr = [f"statistique de Hopkins {format_number(hopkins, 'fr', 2)}, proche de 0,5 pour des données sans "
                    "groupes"] if weak_hopkins else []
        if silhouette < NO_STRUCTURE_SILHOUETTE:
            facts_en.append(f"silhouette {silhouette:.2f}, under {NO_STRUCTURE_SILHOUETTE}")
            facts_fr.append(f"silhouette {format_number(silhouette, 'fr', 2)}, "
                            f"sous {format_number(NO_STRUCTURE_SILHOUETTE, 'fr', 2)}")
        out.append({"en": f"The data show no clear cluster structure ({'; '.join(facts_en)}): these segments are a "
                          f"partition of a continuum, not natural groups; their borders are a convention.",
                    "fr": f"Les données ne montrent pas de structure en groupes nette ({' ; '.join(facts_fr)}) : ces "
                          f"segments sont un découpage d'un continuum, pas des groupes naturels ; leurs frontières "
                          f"sont une convention."})
    return out
