"""Segment profiles in business terms: sizes, revenue, levels, names, descriptions, actions."""

from __future__ import annotations

from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from . import _schema as S
from ._config import read_toml
from ._errors import UsageError
from ._i18n import format_percent
from ._prep._features import revenue as revenue

LEVEL_CUTS = (0.2, 0.4, 0.6, 0.8)
ORDINALS = {"en": ("highest", "2nd highest", "3rd highest"), "fr": ("le plus élevé", "2e plus élevé", "3e plus élevé")}
TOP_N = 5


def load_rules(path: str | Path | None = None) -> dict:
    """The naming rules table: the bundled one, or a user's TOML file."""
    rules = read_toml(path, "rules file", "data/segment_rules.toml")
    for rule in rules.get("rule", []):
        bad = {lvl for levels in rule.get("when", {}).values() for lvl in levels} - set(S.LEVELS)
        if bad or not all(lang in rule.get(key, {}) for key in ("name", "description", "action") for lang in S.LANGUAGES):
            raise UsageError(f"rules file {path}: rule {rule.get('id', '?')!r} needs name/description/action in "
                             f"{' and '.join(S.LANGUAGES)} and levels among {', '.join(S.LEVELS)}")
    return rules


def level_of(percentile: float) -> str:
    """Level word of a 0..1 percentile.

    >>> level_of(0.1), level_of(0.5), level_of(0.95)
    ('very low', 'average', 'very high')
    """
    return S.LEVELS[int(np.searchsorted(LEVEL_CUTS, percentile, side="right"))]


def _percentile(values: np.ndarray, point: float) -> float:
    return float(np.mean(values < point) + 0.5 * np.mean(values == point))


def _traits(levels: dict[str, str], z: dict[str, float], rules: dict, lang: str, count: int = 2) -> str:
    words = rules["levels"][lang]
    top = sorted(z, key=lambda f: -abs(z[f]))[:count]
    if lang == "fr":
        return ", ".join(f"{f} {words[levels[f]]}" for f in top)
    return ", ".join(f"{words[levels[f]]} {f}" for f in top)


def _match(rule: dict, levels: dict[str, str]) -> bool:
    when = rule.get("when", {})
    return all(f in levels and levels[f] in allowed for f, allowed in when.items())


def _name_segments(levels: list[dict], z: list[dict], rules: dict) -> list[dict]:
    """Name, description and action (per language) for each segment; names are distinct."""
    texts = []
    for seg_levels, seg_z in zip(levels, z):
        rule = next((r for r in rules.get("rule", []) if _match(r, seg_levels)), None)
        if rule:
            texts.append({key: dict(rule[key]) for key in ("name", "description", "action")})
            continue
        fallback = rules["fallback"]
        entry = {"name": {}, "description": {}, "action": {}}
        for lang in S.LANGUAGES:
            traits = _traits(seg_levels, seg_z, rules, lang)
            entry["name"][lang] = traits[0].upper() + traits[1:]
            entry["description"][lang] = fallback["description"][lang].format(traits=traits)
            entry["action"][lang] = fallback["action"][lang].format(traits=traits)
        texts.append(entry)
    _make_distinct(texts, levels, z, rules)
    return texts


def _make_distinct(texts: list[dict], levels: list[dict], z: list[dict], rules: dict) -> None:
    """Qualify colliding names by the feature on which the colliding segments differ most."""
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
        for lang in S.LANGUAGES:
            words = rules["levels"][lang]
            qualifiers = [words[levels[i][feature]] for i in by_value]
            if len(set(qualifiers)) < len(qualifiers):
                qualifiers = [ORDINALS[lang][j] if j < len(ORDINALS[lang]) else f"#{j + 1}" for j in range(len(by_value))]
            for i, qualifier in zip(by_value, qualifiers):
                suffix = f"{feature} {qualifier}" if lang == "fr" else f"{qualifier} {feature}"
                texts[i]["name"][lang] = f"{texts[i]['name'][lang]} ({suffix})"


def segment_profiles(features: pd.DataFrame, labels: np.ndarray, centers: np.ndarray, names: list[str],
                     rules: dict, revenue_feature: str | None, segment_ids: list[int] | None = None,
                     texts: list[dict | None] | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """One row per segment, in label order (columns as in docs/outputs.md), and the texts.

    The texts (name/description/action per language, descriptions without the facts)
    are what model.json stores.

    `segment_ids` default to 1..k. `texts[i]` (name/description/action per language),
    where given, is kept instead of generating segment i's texts from the rules, as when
    scoring with a saved model or when a refreshed segment inherits its identity.
    """
    k = len(centers)
    segment_ids = list(segment_ids) if segment_ids is not None else list(range(1, k + 1))
    values = {f: features[f].to_numpy(dtype=float) for f in names}
    overall_mean = {f: values[f].mean() for f in names}
    revenue = values.get(revenue_feature) if revenue_feature else None
    total_revenue = revenue.sum() if revenue is not None else None
    rows, seg_levels, seg_z = [], [], []
    for s in range(k):
        mask = labels == s
        row = {S.SEGMENT_ID: segment_ids[s], "size": int(mask.sum()), "customer_share": float(mask.mean())}
        row["revenue"] = float(revenue[mask].sum()) if revenue is not None else np.nan
        row["revenue_share"] = float(row["revenue"] / total_revenue) if revenue is not None and total_revenue else np.nan
        levels, zs = {}, {}
        for j, f in enumerate(names):
            median = float(np.median(values[f][mask])) if mask.any() else np.nan
            row[f"mean_{f}"] = float(values[f][mask].mean()) if mask.any() else np.nan
            row[f"median_{f}"] = median
            row[f"z_{f}"] = float(centers[s, j])
            row[f"lift_{f}"] = float(row[f"mean_{f}"] / overall_mean[f]) if overall_mean[f] else np.nan
            levels[f] = row[f"level_{f}"] = level_of(_percentile(values[f], median)) if mask.any() else ""
            zs[f] = float(centers[s, j])
        rows.append(row)
        seg_levels.append(levels)
        seg_z.append(zs)
    generated = _name_segments(seg_levels, seg_z, rules)
    if texts is not None:
        kept = {t["name"]["en"] for t in texts if t}
        for i, given in enumerate(texts):
            if given:
                generated[i] = given
            elif generated[i]["name"]["en"] in kept:  # a new segment must not take a kept segment's name
                for lang, word in (("en", "new"), ("fr", "nouveau")):
                    generated[i]["name"][lang] += f" ({word})"
    for row, entry in zip(rows, generated):
        for lang in S.LANGUAGES:
            facts = f"{format_percent(row['customer_share'], lang)} " + ("des clients" if lang == "fr" else "of customers")
            if not np.isnan(row["revenue_share"]):
                facts += f", {format_percent(row['revenue_share'], lang)} " + ("du chiffre d'affaires" if lang == "fr" else "of revenue")
            row[f"name_{lang}"] = entry["name"][lang]
            row[f"description_{lang}"] = f"{entry['description'][lang].rstrip('.')} ({facts})."
            row[f"action_{lang}"] = entry["action"][lang]
    text_cols = [f"{key}_{lang}" for key in ("name", "description", "action") for lang in S.LANGUAGES]
    frame = pd.DataFrame(rows)
    head = [S.SEGMENT_ID, *text_cols, "size", "customer_share", "revenue", "revenue_share"]
    return frame[head + [c for c in frame.columns if c not in head]], generated


def top_products(lines: ibis.Table, segments: pd.DataFrame, n: int = TOP_N) -> pd.DataFrame:
    """Top `n` products per segment by revenue, with share of the segment's revenue and lift vs the base.

    `segments` has columns `customer` and `segment_id`.
    """
    columns = ["segment_id", "rank", "product", "label", "revenue", "share", "lift"]
    if "product" not in lines.columns:
        return pd.DataFrame(columns=columns)
    label = lines.product_label.max() if "product_label" in lines.columns else ibis.literal(None, type="string")
    keyed = lines.mutate(_revenue=revenue(lines)).inner_join(ibis.memtable(segments), "customer")
    per = keyed.group_by([S.SEGMENT_ID, "product"]).aggregate(revenue=keyed._revenue.sum(), label=label)
    seg_total = per.group_by(S.SEGMENT_ID).aggregate(_seg=per.revenue.sum())
    prod_total = per.group_by("product").aggregate(_prod=per.revenue.sum())
    grand = per.revenue.sum().execute()
    joined = per.inner_join(seg_total, S.SEGMENT_ID).inner_join(prod_total, "product")
    joined = joined.mutate(share=joined.revenue / joined._seg, lift=(joined.revenue / joined._seg) / (joined._prod / grand))
    ranked = joined.mutate(rank=ibis.row_number().over(group_by=S.SEGMENT_ID, order_by=[ibis.desc("revenue"), "product"]) + 1)
    result = ranked.filter(ranked["rank"] <= n).select(*columns).to_pandas()
    return result.sort_values([S.SEGMENT_ID, "rank"]).reset_index(drop=True)
