"""The per-(segment, feature) table: profiles.csv's feature columns, one row per segment and feature.

Every view of the report (cards, heatmap, centres of the scatters, the summary sentences'
numbers, the analyst's table) reads this one table, so a value can be drawn in one place
only: the cell of its (segment, feature).

>>> profiles = pd.DataFrame({"segment_id": [1, 2], "median_Spend": [10.0, 2.0], "z_Spend": [0.9, -0.4]})
>>> feature_table(profiles, ["Spend"])[["segment_id", "feature", "median", "z"]].to_dict("records")
[{'segment_id': 1, 'feature': 'Spend', 'median': 10.0, 'z': 0.9}, {'segment_id': 2, 'feature': 'Spend', 'median': 2.0, 'z': -0.4}]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _schema as S
from ._labels import label_of

STATISTICS = ("mean", "median", "z", "lift", "vtest", "pvalue")  # numeric columns, from <statistic>_<feature>
LEVEL = "level"


def feature_table(profiles: pd.DataFrame, features: list[str], supplementary: list[str] | tuple = (),
                  labels: dict | None = None) -> pd.DataFrame:
    """One row per (segment, feature): segment_id, feature, label_en, label_fr, clustered, the
    STATISTICS (NaN where profiles.csv has none, e.g. no z for a described-only feature) and level.

    Segments in the order of `profiles`, features in run order (`features`, then the
    `supplementary` ones that are not clustered). `labels` are the run's [labels].
    """
    labels = labels or {}
    described = list(features) + [f for f in supplementary if f not in features]
    rows = []
    for record in profiles.to_dict("records"):
        for feature in described:
            row = {S.SEGMENT_ID: int(record[S.SEGMENT_ID]), "feature": feature,
                   **{f"label_{lang}": label_of(feature, labels, lang) for lang in S.LANGUAGES},
                   "clustered": feature in features}
            for statistic in STATISTICS:
                value = record.get(f"{statistic}_{feature}")
                row[statistic] = np.nan if pd.isna(value) else float(value)
            level = record.get(f"{LEVEL}_{feature}")
            row[LEVEL] = level if isinstance(level, str) else ""
            rows.append(row)
    columns = [S.SEGMENT_ID, "feature", *(f"label_{lang}" for lang in S.LANGUAGES), "clustered", *STATISTICS, LEVEL]
    return pd.DataFrame(rows, columns=columns)


def matrix(table: pd.DataFrame, statistic: str, segment_ids: list[int], features: list[str]) -> np.ndarray:
    """segments x features array of one statistic, rows in `segment_ids` order and columns in `features` order."""
    wide = table.pivot(index=S.SEGMENT_ID, columns="feature", values=statistic)
    return wide.loc[list(segment_ids), list(features)].to_numpy(dtype=float)
