"""Spark ML's K-means (k-means||) behind the Segmenter, with Spark's silhouette beside ours.

Spark's `ClusteringEvaluator` uses the *squared* Euclidean distance, a different number
from the Euclidean silhouette of the study and of the embedded engine. The k is chosen on
the Euclidean silhouette (computed by `_silhouette` on the collected points, exact or
sampled as stated in `silhouette_method`); Spark's number is written beside it in
`k_selection.csv` as `silhouette_sqeuclidean_spark`, never in its place.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pandas as pd

from .._errors import DataError, UsageError
from ._algorithms import KMEANS_MAX_ITER, KMEANS_TOL
from ._segmenter import Segmenter

SPARK_SILHOUETTE = "silhouette_sqeuclidean_spark"
SPARK_FIT_THREADS = 4  # fits submitted at once from the driver; Spark shares its cores among their jobs


class SparkSegmenter(Segmenter):
    """`Segmenter` whose K-means runs on Spark ML (k-means||): the best of `n_init` seeded fits per k, as the embedded
    engine's restarts, the fits of every k submitted side by side from driver threads (Spark runs their jobs at once
    when it has free cores).

    The Euclidean silhouette is computed as by the embedded engine (`_silhouette`, on the
    driver); Spark's squared-Euclidean silhouette is added as `silhouette_sqeuclidean_spark`.
    """

    def _fit_models(self, X: np.ndarray, ks: list[int], seed: int):
        if self.algorithm != "kmeans":
            raise UsageError(f"the Spark engine runs K-means only; got algorithm={self.algorithm!r}")
        from pyspark.ml.clustering import KMeans
        from pyspark.sql import SparkSession
        from pyspark.ml.evaluation import ClusteringEvaluator
        from pyspark.ml.feature import VectorAssembler

        session = SparkSession.builder.getOrCreate()  # the engine's session (custseg._engines._spark_session)
        names = [f"z{j}" for j in range(X.shape[1])]
        frame = pd.DataFrame(X, columns=names)
        frame.insert(0, "row", np.arange(len(X), dtype=np.int64))
        points = VectorAssembler(inputCols=names, outputCol="features").transform(session.createDataFrame(frame))
        points = points.select("row", "features").cache()
        evaluator = ClusteringEvaluator(featuresCol="features", predictionCol="prediction", metricName="silhouette",
                                        distanceMeasure="squaredEuclidean")

        def fit(k: int, start: int):
            return KMeans(k=k, seed=seed + start, initMode="k-means||", maxIter=KMEANS_MAX_ITER, tol=KMEANS_TOL).fit(points)

        jobs = [(k, start) for k in ks for start in range(self.n_init)]
        threads = max(1, min(len(jobs), SPARK_FIT_THREADS))
        try:
            with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="custseg-spark-kmeans") as pool:
                fits = dict(zip(jobs, pool.map(lambda job: fit(*job), jobs)))
                for k in ks:  # the lowest cost of k's restarts; a tie goes to the first
                    model = min((fits[k, start] for start in range(self.n_init)), key=lambda m: m.summary.trainingCost)
                    predicted = model.transform(points)
                    labels = predicted.select("row", "prediction").toPandas().sort_values("row")["prediction"].to_numpy()
                    if len(np.unique(labels)) < 2:
                        raise DataError(f"Spark's k-means put every customer in one segment at k={k}")
                    yield k, SimpleNamespace(labels_=labels.astype(np.int64), inertia_=float(model.summary.trainingCost),
                                             cluster_centers_=np.asarray(model.clusterCenters()),
                                             spark_silhouette=float(evaluator.evaluate(predicted)))
        finally:
            points.unpersist()

    def _evaluate(self, X, fits, seed):
        rows, samples = super()._evaluate(X, fits, seed)
        for row, model in zip(rows, fits.values()):
            row[SPARK_SILHOUETTE] = model.spark_silhouette
        return rows, samples
