"""Spark ML's K-means (k-means||) behind the Segmenter, with Spark's silhouette beside ours.

Spark's `ClusteringEvaluator` uses the *squared* Euclidean distance, a different number
from the Euclidean silhouette of the study and of the embedded engine. The k is chosen on
the Euclidean silhouette (computed by `_silhouette` on the collected points, exact or
sampled as stated in `silhouette_method`); Spark's number is written beside it in
`k_selection.csv` as `silhouette_sqeuclidean_spark`, never in its place.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from .._errors import DataError, UsageError
from ._segmenter import Segmenter

SPARK_SILHOUETTE = "silhouette_sqeuclidean_spark"
SPARK_MAX_ITER = 300


class SparkSegmenter(Segmenter):
    """`Segmenter` whose K-means runs on Spark ML (k-means||, one run per k, seeded).

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

        session = SparkSession.builder.getOrCreate()  # the engine's session (custseg._engines._spark)
        names = [f"z{j}" for j in range(X.shape[1])]
        frame = pd.DataFrame(X, columns=names)
        frame.insert(0, "row", np.arange(len(X), dtype=np.int64))
        points = VectorAssembler(inputCols=names, outputCol="features").transform(session.createDataFrame(frame))
        points = points.select("row", "features").cache()
        evaluator = ClusteringEvaluator(featuresCol="features", predictionCol="prediction", metricName="silhouette",
                                        distanceMeasure="squaredEuclidean")
        try:
            for k in ks:
                model = KMeans(k=k, seed=seed, initMode="k-means||", maxIter=SPARK_MAX_ITER, tol=1e-6).fit(points)
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
