"""RFM scoring: recency, frequency and monetary scores of the RFM summary (`_prep._rfm_summary`), and named
segments from a rules table.

Scores go 1..bins (5 = best): quantiles of the customers' ranks, ties sharing a score,
or business cut points. Segments come from `data/rfm_segments.toml`, a grid on R and
FM = (F + M) / 2 rounded half up, checked at load to cover every cell exactly once.

>>> import pandas as pd
>>> table = pd.DataFrame({"customer": list("abcde"), "RecencyDays": [1, 5, 30, 90, 365],
...                       "OrderCount": [9, 5, 3, 1, 1], "TotalSales": [900, 500, 300, 100, 50]})
>>> rfm_scores(table)[["R", "F", "M"]].values.tolist()
[[5, 5, 5], [4, 4, 4], [3, 3, 3], [2, 2, 2], [1, 2, 1]]
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from .. import _schema as S
from .._cluster._stability import DEFAULT_N_BOOT, DEFAULT_SAMPLE_FRAC, check_subsampling, subsamples
from .._config import config_from_options, read_toml
from .._config._options import RFM_FEATURES
from .._errors import DataError, UsageError
from .._prep._prepare import prepare
from .._prep._rfm_summary import rfm_summary
from .._result import RFMResult

SCORE_SOURCES = {"R": "RecencyDays", "F": "OrderCount", "M": "TotalSales"}
LIFETIMES_COLUMNS = ("frequency", "recency", "T", "monetary_value")
DEFAULT_BINS = 5


def _rank_scores(values: np.ndarray, bins: int, higher_is_better: bool) -> np.ndarray:
    """1..bins by quantile of the average rank: equal values always share a score."""
    signed = values if higher_is_better else -values
    ranks = pd.Series(signed).rank(method="average", pct=True).to_numpy()
    return np.clip(np.ceil(ranks * bins - 1e-9), 1, bins).astype(np.int64)


def _cut_scores(values: np.ndarray, cuts: list[float], higher_is_better: bool) -> np.ndarray:
    """Scores from business cut points (see `rfm_scores`)."""
    cuts = np.asarray(cuts, dtype=float)
    bins = len(cuts) + 1
    if higher_is_better:
        return 1 + np.searchsorted(cuts, values, side="right")
    return bins - np.searchsorted(cuts, values, side="left")


def fm_score(f: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Combined frequency-monetary score: (F + M) / 2 rounded half up.

    >>> fm_score(np.array([1, 4, 5]), np.array([2, 4, 4])).tolist()
    [2, 4, 5]
    """
    return (np.asarray(f) + np.asarray(m) + 1) // 2


def rfm_scores(table: pd.DataFrame, bins: int = DEFAULT_BINS, cuts: dict[str, list[float]] | None = None) -> pd.DataFrame:
    """Add scores R, F, M (1..bins, 5 = best), FM and the code `RFM` (e.g. "545") to an RFM table.

    By default scores are quantiles of the rank (ties share the average rank, so equal
    values always get the same score and no bin is split arbitrarily). `cuts` gives
    business cut points per score, ascending, `bins - 1` of them: for F and M the lower
    edges of scores 2..bins (value >= edge); for R, in days, the upper edges of scores
    bins..2 (days <= edge), e.g. `{"R": [30, 90, 180, 365]}`.
    """
    if not isinstance(bins, int) or isinstance(bins, bool) or not 2 <= bins <= 10:
        raise UsageError(f"The 'bins' parameter of rfm_scores must be int in [2, 10]; got {bins!r} instead.")
    cuts = cuts or {}
    unknown = set(cuts) - set(SCORE_SOURCES)
    if unknown:
        raise UsageError(f"cut points are for R, F and M; got {', '.join(sorted(unknown))}")
    out = table.copy()
    for score, source in SCORE_SOURCES.items():
        if source not in out.columns:
            raise DataError(f"RFM table has no {source} column (needed for the {score} score)")
        values = out[source].to_numpy(dtype=float)
        better = score != "R"
        if score in cuts:
            points = list(cuts[score])
            if len(points) != bins - 1 or any(b <= a for a, b in zip(points, points[1:])):
                raise UsageError(f"cut points for {score} must be {bins - 1} increasing numbers (bins={bins}); got {points}")
            out[score] = _cut_scores(values, points, better)
        else:
            out[score] = _rank_scores(values, bins, better)
    out["FM"] = fm_score(out["F"].to_numpy(), out["M"].to_numpy())
    out["RFM"] = out["R"].astype(str) + out["F"].astype(str) + out["M"].astype(str)
    return out


def load_rfm_rules(path: str | Path | None = None) -> dict:
    """The RFM segment grid (bundled or a user's TOML), checked to cover every (R, FM) cell exactly once."""
    where = path or "data/rfm_segments.toml"
    rules = read_toml(path, "RFM rules file", "data/rfm_segments.toml")
    scale = rules.get("scale", DEFAULT_BINS)
    segments = rules.get("segment", [])
    if not isinstance(scale, int) or not 2 <= scale <= 10 or not segments:
        raise UsageError(f"RFM rules file {where}: needs scale (2..10) and at least one [[segment]]")
    owner: dict[tuple[int, int], str] = {}
    for seg in segments:
        sid = seg.get("id", "?")
        if not all(lang in seg.get(key, {}) for key in ("name", "description", "action") for lang in S.LANGUAGES):
            raise UsageError(f"RFM rules file {where}: segment {sid!r} needs name/description/action in {' and '.join(S.LANGUAGES)}")
        for cell in seg.get("cells", []):
            (r0, r1), (f0, f1) = cell.get("r", (0, -1)), cell.get("fm", (0, -1))
            if not (1 <= r0 <= r1 <= scale and 1 <= f0 <= f1 <= scale):
                raise UsageError(f"RFM rules file {where}: segment {sid!r} has a cell outside 1..{scale}: {cell}")
            for r in range(r0, r1 + 1):
                for fm in range(f0, f1 + 1):
                    if (r, fm) in owner:
                        raise UsageError(f"RFM rules file {where}: cell R={r}, FM={fm} is claimed by both "
                                         f"{owner[(r, fm)]!r} and {sid!r}")
                    owner[(r, fm)] = sid
    missing = [f"R={r}, FM={fm}" for r in range(1, scale + 1) for fm in range(1, scale + 1) if (r, fm) not in owner]
    if missing:
        raise UsageError(f"RFM rules file {where}: no segment covers {'; '.join(missing[:5])}"
                         f"{' ...' if len(missing) > 5 else ''} ({len(missing)} cell(s))")
    rules["grid"] = owner
    return rules


def rfm_segments(scores: pd.DataFrame, rules: dict | None = None) -> pd.DataFrame:
    """Add `rfm_segment` (rule id), `rfm_segment_id` (1.. in table order) and names en/fr to scored customers.

    Every customer falls in exactly one cell of the grid, hence exactly one segment.
    """
    rules = rules or load_rfm_rules()
    scale = rules.get("scale", DEFAULT_BINS)
    top = int(max(scores["R"].max(), scores["FM"].max()))
    if top > scale:
        raise UsageError(f"scores go up to {top} but the RFM rules grid has scale={scale}; use bins={scale} or another grid")
    order = {seg["id"]: i for i, seg in enumerate(rules["segment"])}
    ids = [rules["grid"][(int(r), int(fm))] for r, fm in zip(scores["R"], scores["FM"])]
    out = scores.copy()
    out["rfm_segment"] = ids
    out["rfm_segment_id"] = [order[i] + 1 for i in ids]
    by_id = {seg["id"]: seg for seg in rules["segment"]}
    for lang in S.LANGUAGES:
        out[f"name_{lang}"] = [by_id[i]["name"][lang] for i in ids]
    return out


def rfm_segment_table(segmented: pd.DataFrame, rules: dict | None = None) -> pd.DataFrame:
    """One row per segment of the rules table (empty ones included, size 0): size, shares, means, texts."""
    rules = rules or load_rfm_rules()
    total_customers = len(segmented)
    total_revenue = float(segmented["TotalSales"].sum())
    rows = []
    for i, seg in enumerate(rules["segment"]):
        members = segmented[segmented["rfm_segment"] == seg["id"]]
        row = {"rfm_segment_id": i + 1, "rfm_segment": seg["id"]}
        for key in ("name", "description", "action"):
            for lang in S.LANGUAGES:
                row[f"{key}_{lang}"] = seg[key][lang]
        row |= {"size": len(members), "customer_share": len(members) / total_customers if total_customers else math.nan,
                "revenue": float(members["TotalSales"].sum()),
                "revenue_share": float(members["TotalSales"].sum()) / total_revenue if total_revenue else math.nan}
        for column in (*RFM_FEATURES, *LIFETIMES_COLUMNS):
            if column in members.columns:
                row[f"mean_{column}"] = float(members[column].mean()) if len(members) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def rfm(data, config=None, bins: int = DEFAULT_BINS, cuts: dict[str, list[float]] | None = None,
        rules_file: str | Path | None = None, **options) -> RFMResult:
    """RFM segments of the customers of a sales-lines file, DataFrame or ibis table (prepared as `segment` does).

    Options are `RunConfig` fields (`preset=` names a column mapping).

    >>> result = rfm("online_retail.csv", preset="online-retail")  # doctest: +SKIP
    >>> result.segments[["name_en", "size"]]                        # doctest: +SKIP
    """
    rules = load_rfm_rules(rules_file)
    if rules.get("scale", DEFAULT_BINS) != bins:
        raise UsageError(f"bins={bins} does not match the RFM rules grid (scale={rules.get('scale')})")
    config = config_from_options(config, options)
    if config.customers:
        raise UsageError("RFM needs sales lines with dates, not a per-customer table (--customers)")
    prepared = prepare(data, config)
    if "date" not in prepared.lines.columns:
        raise UsageError("RFM needs the date column role; map it with --date or a preset")
    cleaning = prepared.cleaning
    customers = rfm_segments(rfm_scores(rfm_summary(prepared.lines, prepared.as_of), bins, cuts), rules)
    if len(customers) != cleaning["customers_kept"] or customers["rfm_segment"].isna().any():
        raise DataError(f"RFM covers {len(customers)} customers but cleaning kept {cleaning['customers_kept']}")
    info = {"input": prepared.source.name, "as_of": cleaning["as_of"], "bins": bins,
            "cuts": cuts or "quantiles of the rank", "n_customers": len(customers),
            "each_customer_once": bool(customers["customer"].is_unique),
            "rules_file": str(rules_file) if rules_file else "bundled"}
    return RFMResult(customers, rfm_segment_table(customers, rules), cleaning, info)


def rfm_bootstrap_ari(rfm_values: pd.DataFrame, labels, rules: dict, bins: int = 5, n_boot: int = DEFAULT_N_BOOT,
                      sample_frac: float = DEFAULT_SAMPLE_FRAC, seed: int = 0) -> tuple[float, float]:
    """Stability of RFM rule segments: re-score each subsample (its own quantiles) and compare by adjusted Rand."""
    check_subsampling(n_boot, sample_frac)
    labels = np.asarray(labels)
    scores = []
    for rows in subsamples(len(rfm_values), n_boot, sample_frac, seed, max_sample=len(rfm_values)):
        again = rfm_segments(rfm_scores(rfm_values.iloc[rows].reset_index(drop=True), bins), rules)
        scores.append(adjusted_rand_score(labels[rows], again["rfm_segment_id"].to_numpy()))
    return float(np.mean(scores)), float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0
