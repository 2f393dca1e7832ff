"""Everything the report shows, as one plain dict (no HTML): the template and the figures read it.

Nothing is re-estimated here: the numbers come from the `SegmentationResult`. The only
computations are presentational (a seeded sample of points to draw, the 2D map of all
features, and number formatting for the language).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from .. import _schema as S
from .._atomic import restore_frame
from .._cluster._jaccard import stability_words
from .._cluster._vote import INDEX_NAMES, MIN_STABILITY, NO_STRUCTURE_HOPKINS, NO_STRUCTURE_SILHOUETTE
from .._config._options import parse_labels
from .._i18n import format_number, format_percent, format_value
from .._prep._features import FEATURES, REVENUE_FEATURE
from .._profile import feature_table, label_of, separation
from .._result import segment_texts
from ._figures import segment_colors
from ._texts import RULES_FR, STAGES_FR, texts

MAP_METHODS = ("pca", "tsne")
UNIT_CHOICES = ("original", "z")
TSNE_MAX_POINTS = 5_000  # t-SNE is quadratic-ish: it only runs on a sample this large
SCATTER_DIMENSIONS = 3


def sample_per_segment(segment_ids: np.ndarray, max_points: int, seed: int) -> np.ndarray:
    """Sorted row positions of at most `max_points` rows, drawn within each segment.

    Every segment keeps at least min(its size, max_points / (5 k)) rows so small segments
    stay visible; the rest is shared in proportion to size. Same seed, same sample.

    >>> ids = np.array([1] * 90 + [2] * 10)
    >>> rows = sample_per_segment(ids, 20, seed=0)
    >>> len(rows), int((ids[rows] == 2).sum()) >= 1
    (20, True)
    """
    segment_ids = np.asarray(segment_ids)
    n = len(segment_ids)
    if n <= max_points:
        return np.arange(n)
    segments, inverse, sizes = np.unique(segment_ids, return_inverse=True, return_counts=True)
    floor = np.minimum(sizes, max_points // (5 * len(segments)))
    rest = sizes - floor
    exact = (max_points - floor.sum()) * rest / rest.sum()
    quotas = floor + np.floor(exact).astype(int)
    for i in np.argsort(-(exact - np.floor(exact)), kind="stable")[: max_points - quotas.sum()]:
        quotas[i] += 1  # largest remainders first, so the sample holds exactly max_points rows
    rng = np.random.default_rng(seed)
    picked = [rng.choice(np.flatnonzero(inverse == i), size=quota, replace=False) for i, quota in enumerate(quotas)]
    return np.sort(np.concatenate(picked))


LOG_MIN_POSITIVE_SHARE = 0.99
LOG_UNITS = ("money", "count")  # skewed, positive: readable on a log axis


def _log_axes(assignments: pd.DataFrame, features: list[str]) -> dict[str, bool]:
    """Money and count features get a log axis in original units, when at least 99% of values are positive."""
    return {f: bool(f in FEATURES and FEATURES[f].unit in LOG_UNITS and (assignments[f] > 0).mean() >= LOG_MIN_POSITIVE_SHARE)
            for f in features}


def _header(result, lang: str) -> dict:
    t = texts(lang)
    cleaning, run = result.cleaning, result.run
    rules = []
    for rule, count in cleaning.get("dropped", {}).items():
        english = cleaning.get("rules", {}).get(rule, rule)
        rules.append({"rule": rule, "text": RULES_FR.get(rule, english) if lang == "fr" else english,
                      "count": int(count), "count_text": format_number(count, lang)})
    preparation = cleaning.get("preparation") or {}
    imputed = [{"column": column, "count_text": format_number(info.get("missing", 0), lang),
                "median_text": format_value(info.get("median", float("nan")), lang)}
               for column, info in (preparation.get("imputed") or {}).items()]
    excluded = list(preparation.get("excluded_id_like") or []) + list(preparation.get("ignored_text") or [])
    date_min, date_max = cleaning.get("date_min"), cleaning.get("date_max")
    return {
        "dataset": run.get("input", {}).get("name") or run.get("input", {}).get("path", ""),
        "date_range": f"{date_min} → {date_max}" if date_min and date_max else t["no_dates"],
        "rows_in": format_number(cleaning.get("rows_in", 0), lang),
        "rows_out": format_number(cleaning.get("rows_out", 0), lang),
        "customers_in": format_number(cleaning.get("customers_in", len(result.assignments)), lang),
        "customers": format_number(len(result.assignments), lang),
        "features": result.features,
        "scaling": run.get("scaling", ""),
        "k": result.k,
        "reason": run["k"].get(f"reason_{lang}") or run["k"].get("reason_en", ""),
        "warnings": run["k"].get(f"warnings_{lang}") or run["k"].get("warnings_en") or [],
        "cleaning_rules": rules,
        "lines_cleaned": bool(rules),
        "imputed": imputed,
        "excluded": excluded,
        "decisions": _decisions(cleaning, lang),
    }


def _decisions(cleaning: dict, lang: str) -> list[str]:
    """Lines kept or changed by a stated rule (cleaning.json), beside the dropped ones: netted or signed cancellations, free
    items, and the currency money is in."""
    t = texts(lang)
    out = []
    cancellations = cleaning.get("cancellations") or {}
    if cancellations.get("rule") == "net":
        out.append(t["netted"].format(n=format_number(cancellations["matched"], lang),
                                      revenue=format_number(cancellations["revenue_netted"], lang, 2),
                                      unmatched=format_number(cancellations["unmatched"], lang)))
    elif cancellations.get("rule") == "signed":
        out.append(t["amendments_signed"].format(n=format_number(cancellations["amendments"], lang),
                                                 revenue=format_number(cancellations["revenue"], lang, 2),
                                                 customers=format_number(cancellations["customers_dropped"], lang)))
    elif cancellations.get("rule") == "drop":
        out.append(t["cancellations_dropped"])
    kept = (cleaning.get("zero_price_lines") or {}).get("kept")
    if kept:
        out.append(t["zero_price_kept"].format(n=format_number(kept, lang)))
    currency = cleaning.get("currency") or {}
    if currency.get("corporate"):
        others = [code for code in currency["lines_read"] if code != currency["corporate"]]
        out.append(t["money_converted"].format(currency=currency["corporate"], others=", ".join(others) or "-",
                                               file=currency["rates_file"]))
    elif currency.get("money_in"):
        out.append(t["money_in"].format(currency=currency["money_in"]))
    return out


OPTIONAL_K_COLUMNS = (("jaccard_min", 2), ("stability_ari", 3), ("gap", 3), ("inertia_ratio", 3), ("bic", 0))  # present when computed


def _k_selection(result, lang: str) -> dict:
    table = result.k_selection.sort_values("k")
    min_share = float(result.run.get("config", {}).get("min_share") or 0.0)
    extras = [(column, decimals) for column, decimals in OPTIONAL_K_COLUMNS if column in table.columns]
    rows = []
    for row in table.itertuples(index=False):
        stable = getattr(row, "stable", True)  # empty where the Jaccard was not measured: not known to dissolve
        rows.append({
            "k": int(row.k), "inertia": float(row.inertia), "silhouette": float(row.silhouette),
            "calinski_harabasz": float(row.calinski_harabasz), "davies_bouldin": float(row.davies_bouldin),
            "min_share": float(row.min_share), "eligible": bool(row.eligible), "knee": bool(row.knee),
            "small": bool(row.min_share < min_share), "unstable": pd.notna(stable) and not stable,
            "chosen": bool(row.chosen),
            "inertia_text": format_number(row.inertia, lang, 1), "silhouette_text": format_number(row.silhouette, lang, 3),
            "calinski_harabasz_text": format_number(row.calinski_harabasz, lang, 1),
            "davies_bouldin_text": format_number(row.davies_bouldin, lang, 3),
            "min_share_text": format_percent(row.min_share, lang),
            "extra_texts": [format_number(getattr(row, column), lang, decimals) for column, decimals in extras],
            "votes": int(getattr(row, "votes", 0) or 0), "voted_by": _voters(getattr(row, "voted_by", ""), lang),
        })
    chosen = next((r for r in rows if r["chosen"]), rows[0])
    measured = table.loc[table["jaccard_min"].notna(), "k"].tolist() if "jaccard_min" in table.columns else []
    unmeasured = "jaccard_min" in table.columns and len(measured) < len(table)
    return {"rows": rows, "chosen": result.k, "knee": result.run["k"].get("knee"), "extras": [c for c, _ in extras],
            "jaccard_note": texts(lang)["jaccard_unmeasured"].format(ks=", ".join(map(str, measured))) if unmeasured
            else None,
            "voted": "votes" in table.columns,
            "given": result.run["k"].get("rule") == "given" or len(rows) == 1,
            "chosen_silhouette": chosen["silhouette"], "chosen_silhouette_text": chosen["silhouette_text"]}


STRONG_SILHOUETTE = 0.5  # Kaufman and Rousseeuw: 0.51-0.70 a reasonable structure, 0.26-0.50 a weak one


def _who_chose(table: pd.DataFrame, info: dict, k: int, lang: str) -> list[str]:
    """Who chose the number of segments: the analyst, the vote (with its ties) or the silhouette; an edge of the range."""
    t = texts(lang)
    if info.get("rule") == "given" or len(table) == 1:
        return [t["conf_given"].format(k=k)]
    if "votes" not in table.columns:
        sentences = [t["conf_best_silhouette"].format(k=k)]
    else:
        votes = int(table.loc[table.k == k, "votes"].iloc[0])
        sentences = [t["conf_votes"].format(k=k, votes=votes, cast=int(table["votes"].sum()))]
        tied = table[table["eligible"].astype(bool) & (table["votes"] == votes) & (table.k != k)].k.tolist()
        if tied:
            sentences[0] += " " + t["conf_tied"].format(tied=", ".join(map(str, tied)))
    if k == table.k.max():
        sentences.append(t["conf_edge_high"].format(k=k))
    elif k == table.k.min() > 2:
        sentences.append(t["conf_edge_low"].format(k=k))
    return sentences


def _confidence(result, lang: str) -> dict:
    """How sure the choice of segments is, in plain sentences: who chose k, stability, natural groups or not.

    Each sentence states what its own number says: the silhouette sentence quotes the
    silhouette against its thresholds, the Hopkins statistic its own when it alone finds no groups.
    """
    t = texts(lang)
    table, info, k = result.k_selection, result.run["k"], result.k
    row = table[table.k == k].iloc[0]
    sentences = _who_chose(table, info, k, lang)
    stability = float(row["stability_ari"]) if "stability_ari" in table.columns and pd.notna(row["stability_ari"]) else None
    if stability is not None:
        key = "conf_stable" if stability >= MIN_STABILITY else "conf_unstable"
        sentences.append(t[key].format(ari=format_number(stability, lang, 2), min=format_number(MIN_STABILITY, lang, 1)))
    silhouette, hopkins = float(row["silhouette"]), info.get("hopkins")
    weak_hopkins = hopkins is not None and math.isfinite(hopkins) and hopkins <= NO_STRUCTURE_HOPKINS
    copies = info.get("structure")  # the chosen k against copies without groups: it decides when measured
    if copies is not None:
        key = "conf_no_groups_copies" if not copies["natural_groups"] else (
            "conf_clear" if silhouette >= STRONG_SILHOUETTE else "conf_weak")
    elif silhouette < NO_STRUCTURE_SILHOUETTE:
        key = "conf_no_groups"
    elif weak_hopkins:
        key = "conf_no_groups_hopkins"
    else:
        key = "conf_clear" if silhouette >= STRONG_SILHOUETTE else "conf_weak"
    sentences.append(t[key].format(s=format_number(silhouette, lang, 2), limit=format_number(NO_STRUCTURE_SILHOUETTE, lang, 2),
                                   strong=format_number(STRONG_SILHOUETTE, lang, 1),
                                   h=format_number(hopkins, lang, 2) if weak_hopkins else "",
                                   h_limit=format_number(NO_STRUCTURE_HOPKINS, lang, 1),
                                   c=format_number((copies or {}).get("silhouette_copies", math.nan), lang, 2),
                                   tighter=format_percent(max((copies or {}).get("tighter", 0.0), 0.0), lang)))
    no_groups = key.startswith("conf_no_groups")
    solid = not no_groups and (stability is None or stability >= MIN_STABILITY)
    return {"sentences": sentences, "solid": solid, "no_groups": no_groups}


def _voters(voted_by, lang: str) -> str:
    """'silhouette, davies_bouldin' -> the indices' names in `lang`."""
    keys = [key.strip() for key in str(voted_by or "").split(",") if key.strip() in INDEX_NAMES]
    return ", ".join(INDEX_NAMES[key][lang == "fr"] for key in keys)


def separating_features(result, n: int = SCATTER_DIMENSIONS) -> list[str]:
    """The `n` features with the largest between / within variance ratio (run.json, else from the assignments)."""
    ratios = result.run.get("separation") or dict(zip(result.features, separation(
        result.assignments[[S.z_column(f) for f in result.features]].to_numpy(dtype=float),
        result.assignments[S.SEGMENT_ID].to_numpy())))
    return sorted(result.features, key=lambda f: -(ratios.get(f) if ratios.get(f) is not None else -np.inf))[:n]


def _silhouette(result, segment_ids: list[int], max_points: int, seed: int, lang: str) -> dict:
    t = texts(lang)
    frame = result.assignments[[S.SEGMENT_ID, S.SILHOUETTE]].dropna()
    total = len(result.assignments)
    rows = sample_per_segment(frame[S.SEGMENT_ID].to_numpy(), max_points, seed)
    shown = frame.iloc[rows]
    values = {sid: np.sort(shown.loc[shown[S.SEGMENT_ID] == sid, S.SILHOUETTE].to_numpy(dtype=np.float32))[::-1]
              for sid in segment_ids}
    notes = []
    if len(frame) < total:
        notes.append(t["silhouette_sampled"].format(shown=format_number(len(frame), lang), total=format_number(total, lang)))
    if len(rows) < len(frame):
        notes.append(t["sampled"].format(shown=format_number(len(rows), lang), total=format_number(len(frame), lang), seed=seed))
    return {"values": values, "n_values": int(len(frame)), "notes": notes}


def run_labels(result) -> dict:
    """The run's [labels] ({column: {"en", "fr"}}), as saved in run.json."""
    return {column: {"en": en, "fr": fr} for column, en, fr in parse_labels(result.run.get("config", {}).get("labels") or ())}


def _by_vtest(rows: list[dict]) -> list[dict]:
    """A segment's rows of the feature table in the card's order: by |v-test|, largest first (as given if one is missing)."""
    if any(math.isnan(r["vtest"]) for r in rows):
        return rows
    return sorted(rows, key=lambda r: -abs(r["vtest"]))


def _naming(profiles: pd.DataFrame, segments: list[dict], lang: str) -> list[dict]:
    """Which rule named each segment and gave its action (profiles.csv's name_rule, action_rule); [] for older runs."""
    if "name_rule" not in profiles.columns:
        return []
    return [{"id": s["id"], "name": s["name"], "name_rule": str(row["name_rule"]), "action_rule": str(row["action_rule"]),
             "revenue_lift_text": format_number(row.get("revenue_lift", np.nan), lang, 2)}
            for s, row in zip(segments, profiles.to_dict("records"))]


def _table_rows(table: pd.DataFrame, lang: str) -> list[dict]:
    """The feature table as the appendix shows it: every (segment, feature) cell, formatted for `lang`."""
    t = texts(lang)
    return [{S.SEGMENT_ID: r[S.SEGMENT_ID], "feature": r["feature"], "label": r[f"label_{lang}"],
             "supplementary": not r["clustered"], "vtest": r["vtest"], "level": r["level"],
             "median_text": format_value(r["median"], lang), "mean_text": format_value(r["mean"], lang),
             "z_text": format_number(r["z"], lang, 2), "vtest_text": format_number(r["vtest"], lang, 1),
             "pvalue_text": _p_text(r["pvalue"], lang), "level_text": t.get(f"level_{r['level']}", r["level"])}
            for r in table.to_dict("records")]


def _segments(profiles: pd.DataFrame, table_rows: list[dict], lang: str, colors: list[str]) -> list[dict]:
    t = texts(lang)
    names = segment_texts(profiles, "name", lang)
    descriptions = segment_texts(profiles, "description", lang)
    actions = segment_texts(profiles, "action", lang)
    summaries = segment_texts(profiles, "summary" if "summary_en" in profiles.columns else "description", lang)
    has_revenue = "revenue_share" in profiles.columns and profiles["revenue_share"].notna().any()
    segments = []
    for i, row in enumerate(profiles.to_dict("records")):
        segments.append({
            "id": int(row[S.SEGMENT_ID]), "name": names[i], "description": descriptions[i], "action": actions[i],
            "summary": summaries[i], "color": colors[i],
            "size": int(row["size"]), "size_text": format_number(row["size"], lang),
            "customer_share": float(row["customer_share"]), "customer_share_text": format_percent(row["customer_share"], lang),
            "revenue": float(row["revenue"]) if has_revenue else None,
            "revenue_text": format_number(row["revenue"], lang) if has_revenue else t["no_revenue"],
            "revenue_share": float(row["revenue_share"]) if has_revenue else None,
            "revenue_share_text": format_percent(row["revenue_share"], lang) if has_revenue else "–",
            "features": _by_vtest([r for r in table_rows if r[S.SEGMENT_ID] == row[S.SEGMENT_ID]]),
            "paragons": str(row.get("paragons") or "").split(), "most_distinct": str(row.get("most_distinct") or "").split(),
            "stability_text": _stability_text(row, lang),
        })
    return segments


def _stability_text(row: dict, lang: str) -> str:
    """The segment's bootstrap Jaccard in words ("" when the run measured none: other algorithms, earlier runs)."""
    value = row.get("stability_jaccard")
    if value is None:
        return ""
    if pd.isna(value):  # a segment merged at a review or refresh, the others measured
        return texts(lang)["stability_not_measured"] if isinstance(row.get(f"stability_{lang}"), str) else ""
    return texts(lang)[f"stability_{stability_words(float(value))}"].format(value=format_number(value, lang, 2))


def _changes_text(changes: list[dict], lang: str) -> str:
    """A review's changes in a few words: segments renamed, descriptions and actions edited, merges."""
    t = texts(lang)
    touched = {key: len({c[S.SEGMENT_ID] for c in changes if c["field"].startswith(key + "_")})
               for key in ("name", "description", "action")}
    parts = [t[text].format(n=touched[key]) for key, text in (("name", "review_renamed"), ("description", "review_described"),
                                                              ("action", "review_actions")) if touched[key]]
    parts += [t["review_merged"].format(merged=c[S.SEGMENT_ID], into=c["new"]) for c in changes if c["field"] == "merge_into"]
    return ", ".join(parts) or t["review_no_change"]


def _review(run: dict, segments: list[dict], lang: str) -> dict:
    """The lines beside the approval table: who reviewed and what changed, what was carried from the previous
    run, and the segments still to review (run.json's `reviews`, `refresh.carried`, `to_review`)."""
    t = texts(lang)
    reviews = run.get("reviews") or []
    lines = [t["reviewed"].format(by=r["by"], day=str(r["at"])[:10], changes=_changes_text(r["changes"], lang)) for r in reviews]
    carried = (run.get("refresh") or {}).get("carried")
    if carried:
        lines.insert(0, t["carried"].format(previous=carried["previous"], approval=carried[f"approval_{lang}"]))
        lines[1:1] = [t["carried_remerged"].format(id=sid) for sid in carried.get("merged_again", [])]
    if any(c["field"] == "merge_into" for r in reviews for c in r["changes"]) or (carried or {}).get("merged_again"):
        lines.append(t["review_merged_note"].format(k=run["k"]["chosen"]))
    names = {s["id"]: s["name"] for s in segments}
    flags = [t["to_review"].format(id=f[S.SEGMENT_ID], name=names.get(f[S.SEGMENT_ID], ""), reason=f[lang])
             for f in run.get("to_review") or []]
    return {"lines": lines or ([] if flags else [t["not_reviewed"]]), "flags": flags}


def _p_text(pvalue: float, lang: str) -> str:
    """p-values as FactoMineR prints them: tiny ones as '< 0.001'."""
    if pvalue is None or not math.isfinite(pvalue):
        return "–"
    return f"< {format_number(0.001, lang, 3)}" if pvalue < 0.001 else format_number(pvalue, lang, 3)


def _points(result, rows: np.ndarray, features: list[str]) -> dict:
    frame = result.assignments.iloc[rows]
    return {
        "segment_id": frame[S.SEGMENT_ID].to_numpy(dtype=np.int32),
        "customer_id": frame[S.CUSTOMER_ID].astype(str).to_numpy(dtype=object),
        "original": {f: frame[f].to_numpy(dtype=np.float32) for f in features},
        "z": {f: frame[S.z_column(f)].to_numpy(dtype=np.float32) for f in features},
    }


def _feature_map(result, rows: np.ndarray, method: str, seed: int, lang: str) -> dict:
    t = texts(lang)
    Z = result.assignments[[S.z_column(f) for f in result.features]].to_numpy(dtype=np.float64)
    seg = result.assignments[S.SEGMENT_ID].to_numpy()
    notes = []
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed).fit(Z)
        xy = pca.transform(Z[rows])
        axes = [t["pc"].format(i=i + 1, share=format_percent(share, lang)) for i, share in enumerate(pca.explained_variance_ratio_)]
        intro = t["map_intro_pca"].format(n=len(result.features))
    else:
        from sklearn.manifold import TSNE

        inner = sample_per_segment(seg[rows], TSNE_MAX_POINTS, seed)
        rows = rows[inner]
        perplexity = float(min(30, max(2, len(rows) - 1) / 3))
        xy = TSNE(n_components=2, init="pca", random_state=seed, perplexity=perplexity).fit_transform(Z[rows])
        axes = [t["tsne_axis"].format(i=i) for i in (1, 2)]
        intro = t["map_intro_tsne"].format(n=len(result.features))
        if len(rows) < len(seg):
            notes.append(t["tsne_sampled"].format(shown=format_number(len(rows), lang), seed=seed))
    return {"method": method, "x": xy[:, 0].astype(np.float32), "y": xy[:, 1].astype(np.float32),
            "segment_id": seg[rows].astype(np.int32),
            "customer_id": result.assignments[S.CUSTOMER_ID].iloc[rows].astype(str).to_numpy(dtype=object),
            "axes": axes, "intro": intro, "notes": notes}


def _top_products(top: pd.DataFrame, segments: list[dict], lang: str) -> list[dict]:
    if top is None or top.empty:
        return []
    out = []
    for segment in segments:
        rows = top[top[S.SEGMENT_ID] == segment["id"]].sort_values("rank")
        out.append({"id": segment["id"], "name": segment["name"], "color": segment["color"], "rows": [
            {"rank": int(r["rank"]), "product": "" if pd.isna(r["product"]) else str(r["product"]),
             "label": "" if pd.isna(r.get("label")) else str(r.get("label")),
             "revenue_text": format_number(r["revenue"], lang), "share_text": format_percent(r["share"], lang),
             "lift_text": format_number(r["lift"], lang, 2), "lift": float(r["lift"])}
            for r in rows.to_dict("records")]})
    return out


def _metadata(result, lang: str) -> dict:
    run = result.run
    stage_name = (lambda s: STAGES_FR.get(s, s)) if lang == "fr" else (lambda s: s)
    return {
        "created": run.get("created", ""), "custseg_version": run.get("custseg_version", ""),
        "seed": run.get("seed"), "input_path": run.get("input", {}).get("path", ""),
        "input_hash": run.get("input", {}).get("sha256", ""), "k_rule": run.get("k", {}).get("rule", ""),
        "versions": [{"package": p, "version": v} for p, v in run.get("versions", {}).items()],
        "timings": [{"stage": stage_name(s), "seconds": format_number(v, lang, 2)} for s, v in run.get("timings", {}).items()],
    }


def report_data(result, lang: str = "en", max_points: int = 20_000, map_method: str = "pca",
                scatter_features: list[str] | None = None, units: str = "original") -> dict:
    """The plain dict of everything the report shows (arrays stay numpy arrays).

    >>> data = report_data(SegmentationResult.load("out/"), lang="fr")  # doctest: +SKIP
    >>> [s["name"] for s in data["segments"]]                           # doctest: +SKIP
    """
    t = texts(lang)
    seed = int(result.run.get("seed") or 0)
    profiles = restore_frame(result.profiles).sort_values(S.SEGMENT_ID).reset_index(drop=True)
    top = restore_frame(result.top_products) if result.top_products is not None else None
    colors = segment_colors(len(profiles))
    labels = run_labels(result)
    table = feature_table(profiles, result.features, result.run.get("supplementary", []), labels)
    table_rows = _table_rows(table, lang)
    segments = _segments(profiles, table_rows, lang, colors)
    features = result.features
    shown = list(scatter_features or separating_features(result))
    assignments = result.assignments
    total = len(assignments)
    rows = sample_per_segment(assignments[S.SEGMENT_ID].to_numpy(), max_points, seed)
    caption = (t["sampled"].format(shown=format_number(len(rows), lang), total=format_number(total, lang), seed=seed)
               if len(rows) < total else t["all_points"].format(total=format_number(total, lang)))
    log_axes = _log_axes(assignments, shown)
    not_positive = int((assignments[[f for f in shown if log_axes[f]]] <= 0).any(axis=1).sum()) if any(log_axes.values()) else 0
    log_note = t["log_note"] + (" " + t["log_dropped"].format(n=format_number(not_positive, lang)) if not_positive else "")
    return {
        "lang": lang,
        "header": _header(result, lang),
        "k_selection": _k_selection(result, lang),
        "silhouette": _silhouette(result, [s["id"] for s in segments], max_points, seed, lang),
        "segments": segments,
        "confidence": _confidence(result, lang),
        "review": _review(result.run, segments, lang),
        "table": table,
        "table_rows": table_rows,
        "naming": _naming(profiles, segments, lang),
        "features": features,
        "labels": {f: label_of(f, labels, lang) for f in table["feature"].unique()},
        "scatter": {"features": shown, "units": units, "points": _points(result, rows, shown), "log_axes": log_axes,
                    "caption": caption, "n_shown": int(len(rows)), "n_total": int(total),
                    "has_3d": len(shown) >= SCATTER_DIMENSIONS, "any_log": any(log_axes.values()), "log_note": log_note},
        "pairs": [list(pair) for pair in itertools.combinations(shown, 2)],
        "map": _feature_map(result, rows, map_method, seed, lang) if len(features) > SCATTER_DIMENSIONS else None,
        "map_not_needed": t["map_not_needed"].format(n=len(features)),
        "top_products": _top_products(top, segments, lang),
        "has_revenue": segments[0]["revenue_share"] is not None if segments else False,
        "metadata": _metadata(result, lang),
        "revenue_feature": REVENUE_FEATURE,
        "dendrogram": result.run.get("dendrogram"),
    }
