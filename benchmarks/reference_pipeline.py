"""The study's pipeline, re-implemented faithfully (pandas + scikit-learn, 2021 style).

Used as the reference in tests (features must match) and in the benchmarks (speed).
Column names come from the salesforce-cpq preset; the logic is the study's, unchanged:
drop quantity <= 0, Sales = quantity x net price, group by account with a `nunique`
lambda, rank(method='first') then z-score, KMeans per k and an exact silhouette.
"""

from __future__ import annotations

import time

import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from custseg import preset

CPQ = preset("salesforce-cpq")
FEATURES = ["TotalSales", "OrderCount", "AvgOrderValue"]


def read_export(path) -> pd.DataFrame:
    """pandas' reader, as the study did (openpyxl for .xlsx)."""
    path = str(path)
    if path.endswith(".xlsx"):
        return pd.read_excel(path, engine="openpyxl")
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path)


def customer_features(df: pd.DataFrame) -> pd.DataFrame:
    """The study's feature engineering."""
    df = df.loc[df[CPQ.quantity] > 0].copy()
    df["Sales"] = df[CPQ.quantity] * df[CPQ.price]
    customer_df = df.groupby(CPQ.customer).agg({"Sales": "sum", CPQ.order: lambda x: x.nunique()})
    customer_df.columns = ["TotalSales", "OrderCount"]
    customer_df["AvgOrderValue"] = customer_df["TotalSales"] / customer_df["OrderCount"]
    return customer_df


def normalise(customer_df: pd.DataFrame) -> pd.DataFrame:
    """rank(method='first') then z-score, as in the study."""
    rank_df = customer_df.rank(method="first")
    return (rank_df - rank_df.mean()) / rank_df.std()


def silhouettes(normalized_df: pd.DataFrame, ks=range(4, 9), seed: int | None = None) -> dict[int, tuple[float, object]]:
    """KMeans and exact silhouette per k; returns {k: (silhouette, labels)}."""
    out = {}
    for n_cluster in ks:
        kmeans = KMeans(n_clusters=n_cluster, n_init=10, random_state=seed).fit(normalized_df[FEATURES])
        out[n_cluster] = (silhouette_score(normalized_df[FEATURES], kmeans.labels_), kmeans.labels_)
    return out


def run(path, ks=range(4, 9), elbow_ks=range(1, 11)) -> dict[str, float]:
    """The whole study pipeline on one export; returns seconds per stage."""
    timings = {}
    start = time.perf_counter()
    df = read_export(path)
    timings["read"] = time.perf_counter() - start
    start = time.perf_counter()
    normalized_df = normalise(customer_features(df))
    timings["features"] = time.perf_counter() - start
    start = time.perf_counter()
    for k in elbow_ks:
        KMeans(n_clusters=k, n_init=10).fit(normalized_df[FEATURES])
    timings["elbow"] = time.perf_counter() - start
    start = time.perf_counter()
    silhouettes(normalized_df, ks)
    timings["silhouette"] = time.perf_counter() - start
    return timings
