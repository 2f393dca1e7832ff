"""RFM scoring: recency, frequency and monetary scores, and named segments from a rules table.

Per customer (from clean sales lines, one ibis expression): `RecencyDays` (days from the
last purchase to `as_of`), `OrderCount` (distinct orders: the frequency), `TotalSales`
(the monetary value), plus the lifetimes / PyMC-Marketing summary on purchase days:
`frequency` (repeat purchase days), `recency` (days from first to last purchase day),
`T` (days from first purchase day to `as_of`) and `monetary_value` (mean revenue of the
repeat purchase days). docs/methods.md compares the two sets of definitions.

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

import datetime as dtm
import math
import tomllib
from importlib import resources
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt
import numpy as np
import pandas as pd

from .. import _schema as S
from .._errors import DataError, UsageError
from .._prep._features import feature_expression, revenue

RFM_FEATURES = ("RecencyDays", "OrderCount", "TotalSales")
"""The RFM feature set for K-means: recency, frequency, monetary (`features = ["rfm"]`)."""
SCORE_SOURCES = {"R": "RecencyDays", "F": "OrderCount", "M": "TotalSales"}
LIFETIMES_COLUMNS = ("frequency", "recency", "T", "monetary_value")
DEFAULT_BINS = 5


def expand_feature_sets(names) -> tuple[str, ...]:
    """Replace the name `rfm` in a feature list by the RFM features.

    >>> expand_feature_sets(["rfm", "AvgOrderValue"])
    ('RecencyDays', 'OrderCount', 'TotalSales', 'AvgOrderValue')
    """
    out: list[str] = []
    for name in names:
        out.extend(RFM_FEATURES if name.lower() == "rfm" else (name,))
    return tuple(dict.fromkeys(out))


def rfm_expression(lines: ibis.Table, as_of: dtm.date) -> ibis.Table:
    """Lazy per-customer RFM table (custseg's and lifetimes' definitions), see the module docstring."""
    missing = [role for role in ("customer", "date") if role not in lines.columns]
    if missing or not ({"amount"} <= set(lines.columns) or {"quantity", "price"} <= set(lines.columns)):
        raise UsageError("RFM needs the customer, date and price (or amount) column roles; "
                         f"the lines have {', '.join(lines.columns)}")
    ours = feature_expression(lines, list(RFM_FEATURES), as_of)
    end = ibis.literal(as_of, type=dt.date)
    days = lines.mutate(_day=lines.date.cast(dt.date), _revenue=revenue(lines))
    daily = days.group_by(["customer", "_day"]).aggregate(_day_revenue=days._revenue.sum())
    daily = daily.mutate(_first=daily._day.min().over(group_by="customer"))
    summary = daily.group_by("customer").aggregate(
        frequency=(daily._day.nunique() - 1).cast(dt.float64),
        recency=daily._day.max().delta(daily._day.min(), unit="day").cast(dt.float64),
        T=end.delta(daily._day.min(), unit="day").cast(dt.float64),
        _repeat_revenue=daily._day_revenue.sum(where=daily._day != daily._first),
    )
    summary = summary.mutate(
        monetary_value=ibis.ifelse(summary.frequency > 0, summary._repeat_revenue / summary.frequency, 0.0)
    ).drop("_repeat_revenue")
    return ours.inner_join(summary, "customer")


def rfm_table(lines: ibis.Table, as_of: dtm.date) -> pd.DataFrame:
    """Per-customer RFM values, sorted by customer id.

    Columns: customer, RecencyDays, OrderCount, TotalSales, frequency, recency, T,
    monetary_value (the last four as lifetimes' `summary_data_from_transaction_data`
    with `freq="D"` and `observation_period_end=as_of`).
    """
    frame = rfm_expression(lines, as_of).to_pandas()
    frame["customer"] = frame["customer"].astype(str)
    return frame.sort_values("customer", kind="stable").reset_index(drop=True)


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
    try:
        text = (Path(path).read_text(encoding="utf-8") if path
                else resources.files("custseg").joinpath("data/rfm_segments.toml").read_text(encoding="utf-8"))
        rules = tomllib.loads(text)
    except FileNotFoundError:
        raise UsageError(f"RFM rules file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"RFM rules file {path} is not valid TOML: {exc}") from None
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


def rfm_summary(segmented: pd.DataFrame, rules: dict | None = None) -> pd.DataFrame:
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
        rules_file: str | Path | None = None, **options) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """RFM segments of the customers of a sales-lines file, DataFrame or ibis table.

    Returns (customers, summary, cleaning): one row per customer with values, scores and
    segment; one row per segment; the cleaning counts. Options are `RunConfig` fields.

    >>> customers, summary, cleaning = rfm("online_retail.csv", preset="online-retail")  # doctest: +SKIP
    >>> summary[["name_en", "size"]]                                                     # doctest: +SKIP
    """
    from ._compare import prepare_lines

    rules = load_rfm_rules(rules_file)
    if rules.get("scale", DEFAULT_BINS) != bins:
        raise UsageError(f"bins={bins} does not match the RFM rules grid (scale={rules.get('scale')})")
    lines, as_of, cleaning = prepare_lines(data, config, **options)
    customers = rfm_segments(rfm_scores(rfm_table(lines, as_of), bins, cuts), rules)
    if len(customers) != cleaning["customers_kept"] or customers["rfm_segment"].isna().any():
        raise DataError(f"RFM covers {len(customers)} customers but cleaning kept {cleaning['customers_kept']}")
    return customers, rfm_summary(customers, rules), cleaning
