"""Segment profiles in business terms: sizes, revenue, v-tests, levels, paragons, names, descriptions, actions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _schema as S
from .._i18n import format_percent, format_value
from ._labels import fact_phrase
from ._levels import percentile_of, segment_level
from ._naming import name_segments, named_features
from ._vtests import paragons, vtests

RECENCY = "RecencyDays"
SUMMARY_ALL = 4  # runs on at most this many features: all of them in every defining sentence, in run order
SUMMARY_FEATURES = 3  # more features: those the name speaks of, then the most defining, this many in all
SUMMARY = {"en": "Typical customer (medians): {facts}.", "fr": "Client typique (médianes) : {facts}."}


def _summary_features(names: list[str], vs: dict[str, float], named: list[str]) -> list[str]:
    """The features of the defining sentence: with at most SUMMARY_ALL clustered features all of them in run order
    (the same on every row), else those the name speaks of (`named`), then the most defining (by |v-test|), up to
    SUMMARY_FEATURES; recency (described, not clustered) last.

    >>> _summary_features(["TotalSales", "OrderCount"], {"TotalSales": 1.0, "OrderCount": -5.0, "RecencyDays": 2.0}, [])
    ['TotalSales', 'OrderCount', 'RecencyDays']
    >>> _summary_features(list("ABCDE"), dict(zip("ABCDE", (9.0, 1.0, -7.0, 5.0, 0.5))), ["E"])
    ['E', 'A', 'C']
    """
    if len(names) <= SUMMARY_ALL:
        chosen = list(names)
    else:
        first = [f for f in named if f in vs]
        by_vtest = sorted(names, key=lambda f: -abs(vs[f]))
        chosen = list(dict.fromkeys(first + by_vtest))[:max(SUMMARY_FEATURES, len(first))]
    return chosen + [RECENCY] if RECENCY in vs and RECENCY not in chosen else chosen


def _summary(row: dict, features: list[str], labels: dict, lang: str) -> str:
    """The segment's defining sentence: its medians of `features` in business words, as the report's cards show them.

    >>> row = {"median_TotalSales": 12437.0, "median_OrderCount": 9.0, "median_RecencyDays": 20.5}
    >>> _summary(row, ["TotalSales", "OrderCount", "RecencyDays"], {}, "en")
    'Typical customer (medians): spend 12,437, 9 orders, last order 20.5 days before the end of the data.'
    """
    facts = (fact_phrase(f, row[f"median_{f}"], format_value(row[f"median_{f}"], lang), labels, lang) for f in features)
    return SUMMARY[lang].format(facts=", ".join(facts))


def _facts(row: dict, lang: str) -> str:
    facts = f"{format_percent(row['customer_share'], lang)} " + ("des clients" if lang == "fr" else "of customers")
    if not np.isnan(row["revenue_share"]):
        facts += f", {format_percent(row['revenue_share'], lang)} " + ("du chiffre d'affaires" if lang == "fr" else "of revenue")
    days = row.get(f"median_{RECENCY}")
    if days is not None and np.isfinite(days):
        days_text = format_value(days, lang)
        facts += (f", dernier achat {days_text} jours avant la fin des données en médiane" if lang == "fr"
                  else f", median last purchase {days_text} days before the end of the data")
    return facts


def segment_profiles(features: pd.DataFrame, labels: np.ndarray, centers: np.ndarray, names: list[str],
                     rules: dict, revenue_feature: str | None, segment_ids: list[int] | None = None,
                     texts: list[dict | None] | None = None, supplementary: list[str] | tuple = (),
                     feature_labels: dict | None = None, model_values: np.ndarray | None = None,
                     ids: np.ndarray | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """One row per segment, in label order (columns as in docs/outputs.md), and the texts.

    The texts (name/description/action per language, descriptions without the facts) are
    what model.json stores, with `name_rule`/`action_rule` (`_naming`: which conditions
    each text satisfies; "kept" for texts given below). `summary_*`, the segment's medians
    in business words, is computed from the data every time.

    For each feature, and each `supplementary` one (described, not clustered: recency),
    the segment's mean, median, the median's percentile among all customers, v-test and
    p-value (`_vtests.vtests`), and its level (`_levels`: the percentile's word when the
    deviation is significant or extreme and in the v-test's direction, else "average").
    `features_by_vtest` lists the features by |v-test|. With `model_values` (the customers
    in model units) and `ids`, the five most typical and most distinct customers.

    `segment_ids` default to 1..k. `texts[i]` (name/description/action per language),
    where given, is kept instead of generating segment i's texts from the rules, as when
    scoring with a saved model or when a refreshed segment inherits its identity.
    `feature_labels` ({feature: {"en", "fr"}}) are the words names use for columns.
    """
    k = len(centers)
    segment_ids = list(segment_ids) if segment_ids is not None else list(range(1, k + 1))
    described = list(names) + [f for f in supplementary if f not in names]
    values = {f: features[f].to_numpy(dtype=float) for f in described}
    overall_mean = {f: values[f].mean() for f in described}
    v, p = vtests(np.column_stack([values[f] for f in described]), labels, k)
    revenue = values.get(revenue_feature) if revenue_feature else None
    total_revenue = revenue.sum() if revenue is not None else None
    typical, distinct = paragons(model_values, labels, centers, ids) if model_values is not None else (None, None)
    rows, seg_levels, seg_v, seg_pct, seg_shares = [], [], [], [], []
    for s in range(k):
        mask = labels == s
        row = {S.SEGMENT_ID: segment_ids[s], "size": int(mask.sum()), "customer_share": float(mask.mean())}
        row["revenue"] = float(revenue[mask].sum()) if revenue is not None else np.nan
        row["revenue_share"] = float(row["revenue"] / total_revenue) if revenue is not None and total_revenue else np.nan
        row["revenue_lift"] = row["revenue_share"] / row["customer_share"] if row["size"] else np.nan
        levels, vs = {}, {}
        for j, f in enumerate(described):
            median = float(np.median(values[f][mask])) if mask.any() else np.nan
            row[f"mean_{f}"] = float(values[f][mask].mean()) if mask.any() else np.nan
            row[f"median_{f}"] = median
            if f in names:
                row[f"z_{f}"] = float(centers[s, j])
                row[f"lift_{f}"] = float(row[f"mean_{f}"] / overall_mean[f]) if overall_mean[f] else np.nan
            row[f"vtest_{f}"], row[f"pvalue_{f}"] = float(v[s, j]), float(p[s, j])
            row[f"percentile_{f}"] = percentile_of(values[f], median) if mask.any() else np.nan
            levels[f] = row[f"level_{f}"] = segment_level(row[f"percentile_{f}"], float(p[s, j]), float(v[s, j])) if mask.any() else ""
            vs[f] = float(v[s, j])
        row["features_by_vtest"] = "; ".join(f"{f} ({vs[f]:+.1f})" for f in sorted(vs, key=lambda f: -abs(vs[f])))
        if typical is not None:
            row["paragons"], row["most_distinct"] = " ".join(typical[s]), " ".join(distinct[s])
        rows.append(row)
        seg_levels.append(levels)
        seg_v.append(vs)
        seg_pct.append({f: row[f"percentile_{f}"] for f in described})
        seg_shares.append({key: row[key] for key in ("customer_share", "revenue_share", "revenue_lift")})
    generated = name_segments(seg_levels, seg_v, seg_pct, seg_shares, rules, feature_labels)
    if texts is not None:
        kept = {t["name"]["en"] for t in texts if t}
        for i, given in enumerate(texts):
            if given:
                generated[i] = given
            elif generated[i]["name"]["en"] in kept:  # a new segment must not take a kept segment's name
                for lang, word in (("en", "new"), ("fr", "nouveau")):
                    generated[i]["name"][lang] += f" ({word})"
    for row, entry, vs in zip(rows, generated, seg_v):
        row["name_rule"], row["action_rule"] = entry.get("name_rule", "kept"), entry.get("action_rule", "kept")
        summarised = _summary_features(list(names), vs, named_features(row["name_rule"], rules))
        for lang in S.LANGUAGES:
            row[f"name_{lang}"] = entry["name"][lang]
            row[f"summary_{lang}"] = _summary(row, summarised, feature_labels or {}, lang)
            described = entry["description"][lang].rstrip(".")
            row[f"description_{lang}"] = f"{described} ({_facts(row, lang)})." if described else f"{_facts(row, lang)}."
            row[f"action_{lang}"] = entry["action"][lang]
    text_cols = [f"{key}_{lang}" for key in ("name", "summary", "description", "action") for lang in S.LANGUAGES]
    frame = pd.DataFrame(rows)
    head = [S.SEGMENT_ID, *text_cols, "name_rule", "action_rule", "size", "customer_share", "revenue", "revenue_share",
            "revenue_lift"]
    return frame[head + [c for c in frame.columns if c not in head]], generated
