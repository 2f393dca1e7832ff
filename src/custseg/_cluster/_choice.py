"""The choice of k from the table of indices per k, with its reason and warnings in words (English and French).

Two rules: `vote` (default; `_vote`), where a panel of indices votes as in R's NbClust,
and `silhouette`, the previous rule (highest silhouette among the k whose smallest
segment is large enough; lowest BIC for Gaussian mixtures).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pandas as pd

from .._i18n import format_number
from ._reference import structure_words
from ._vote import BUSINESS_MIN_K, largest_smallest_segment, vote_k, warnings_for


class KChoice(NamedTuple):
    """The chosen k, its reason {"en", "fr"}, the rule as run.json records it, and warnings [{"en", "fr"}]."""

    k: int
    reason: dict
    rule: str
    warnings: list


def rule_text(min_share: float, by_bic: bool) -> str:
    """The rule as run.json records it.

    >>> rule_text(0.02, by_bic=False)
    'highest silhouette with min segment share >= 0.02'
    """
    return f"{'lowest BIC' if by_bic else 'highest silhouette'} with min segment share >= {min_share}"


def choose_k(table: pd.DataFrame, min_share: float, knee: int | None = None, given: int | None = None,
             rule: str = "silhouette", hopkins: float | None = None, business_min: int = BUSINESS_MIN_K,
             structure: Callable[[int], dict] | None = None) -> KChoice:
    """The choice from a k table with columns k, silhouette, min_share, eligible (and bic, stability_ari, gap...).

    `rule` is "vote" (the panel of indices; it sets the table's votes columns) or
    "silhouette". Warnings (edge of the range, no stable k, no cluster structure) come with
    either rule, from the table and, for the last, `structure` (k -> the chosen k against copies without groups,
    `_reference`) or else the `hopkins` statistic and the silhouette; none advises fewer than `business_min` segments.
    """
    if given is not None:
        row = table.iloc[0]
        k, text, edges = given, "given", False
        reason = {"en": f"k={given} was set by the user (silhouette {row.silhouette:.3f}).",
                  "fr": f"k={given} a été imposé par l'utilisateur (silhouette {format_number(row.silhouette, 'fr', 3)})."}
    else:
        low, high = int(table.k.min()), int(table.k.max())
        floor = business_min if high >= business_min else low  # k's under the business minimum are not advised
        if rule == "vote":
            k, reason, text = vote_k(table, min_share, floor)
        else:
            table["eligible"] &= table["k"] >= floor
            k, reason, text = _by_silhouette(table, min_share, knee, floor)
        edges = True
        reason = {lang: f"{reason[lang]} {words}".rstrip() for lang, words in
                  _business_words(k, low, high, business_min).items()}
    record = structure(k) if structure is not None else None
    if record is not None and record["natural_groups"]:  # said in the reason; its absence is a warning
        reason = {lang: f"{reason[lang]} {words}" for lang, words in structure_words(record).items()}
    return KChoice(k, reason, text, warnings_for(table, k, hopkins, edges=edges, business_min=business_min,
                                                 structure=record))


def _business_words(k: int, low: int, high: int, business_min: int) -> dict:
    """What the business minimum did to the choice, in words ("" when the range starts above it).

    >>> _business_words(3, 2, 8, 3)["en"]
    'k=2 was not advised: fewer than 3 segments are not worth a marketing partition (the business minimum, --business-min-k).'
    >>> _business_words(2, 2, 2, 3)["en"]
    'k=2 is under the business minimum of 3 segments (--business-min-k): the range 2..2 holds no larger k.'
    """
    below = ", ".join(map(str, range(low, min(business_min, high + 1))))
    if k < business_min:
        return {"en": f"k={k} is under the business minimum of {business_min} segments (--business-min-k): the range "
                      f"{low}..{high} holds no larger k.",
                "fr": f"k={k} est sous le minimum métier de {business_min} segments (--business-min-k) : la plage "
                      f"{low} à {high} n'a pas de k plus grand."}
    if below:
        return {"en": f"k={below} {'was' if low == business_min - 1 else 'were'} not advised: fewer than {business_min} "
                      "segments are not worth a marketing partition (the business minimum, --business-min-k).",
                "fr": f"k={below} {'a' if low == business_min - 1 else 'ont'} été écarté{'' if low == business_min - 1 else 's'} : "
                      f"moins de {business_min} segments ne valent pas une segmentation marketing (le minimum métier, "
                      "--business-min-k)."}
    if k == low == business_min:
        return {"en": f"k={k} is the bottom of the range and fewer than {business_min} segments are not advised for a "
                      "marketing partition (the business minimum, --business-min-k).",
                "fr": f"k={k} est le bas de la plage et moins de {business_min} segments ne sont pas conseillés pour une "
                      "segmentation marketing (le minimum métier, --business-min-k)."}
    return {"en": "", "fr": ""}


def _by_silhouette(table: pd.DataFrame, min_share: float, knee: int | None, floor: int) -> tuple[int, dict, str]:
    """The previous rule: highest silhouette (lowest BIC for gmm) among the k whose smallest segment is large enough."""
    by_bic = "bic" in table.columns
    rule = rule_text(min_share, by_bic)
    eligible = table[table["eligible"]]
    pct = f"{min_share:.0%}"
    low, high = table.k.min(), table.k.max()
    if eligible.empty:
        return *largest_smallest_segment(table[table["k"] >= floor], min_share), rule
    if by_bic:
        best = eligible.loc[eligible["bic"].idxmin()]
        k = int(best.k)
        return k, {
            "en": f"k={k} has the lowest BIC ({best.bic:,.0f}) among k={low}..{high} whose smallest segment holds "
                  f"at least {pct} of customers (silhouette {best.silhouette:.3f}).",
            "fr": f"k={k} a le BIC le plus bas ({best.bic:,.0f}) parmi k={low} à {high} dont le plus petit segment "
                  f"regroupe au moins {pct} des clients (silhouette {best.silhouette:.3f}).",
        }, rule
    best = eligible.loc[eligible["silhouette"].idxmax()]
    k = int(best.k)
    runner = eligible[eligible.k != k]
    second = runner.loc[runner["silhouette"].idxmax()] if not runner.empty else None
    excluded = table[table["min_share"] < min_share].k.tolist()  # (a k under the business minimum: `_business_words`)
    en = [f"k={k} has the highest silhouette ({best.silhouette:.3f}) among k={low}..{high}"]
    fr = [f"k={k} a la silhouette la plus élevée ({best.silhouette:.3f}) parmi k={low} à {high}"]
    if second is not None:
        en.append(f", ahead of k={int(second.k)} ({second.silhouette:.3f})")
        fr.append(f", devant k={int(second.k)} ({second.silhouette:.3f})")
    en.append(f"; its smallest segment holds {best.min_share:.1%} of customers (minimum {pct})")
    fr.append(f" ; son plus petit segment regroupe {best.min_share:.1%} des clients (minimum {pct})")
    if excluded:
        en.append(f"; excluded for a segment under {pct}: k={', '.join(map(str, excluded))}")
        fr.append(f" ; exclus car un segment fait moins de {pct} : k={', '.join(map(str, excluded))}")
    if knee is not None:
        en.append(f"; the inertia elbow is at k={knee}")
        fr.append(f" ; le coude de l'inertie est à k={knee}")
    return k, {"en": "".join(en) + ".", "fr": "".join(fr) + "."}, rule
