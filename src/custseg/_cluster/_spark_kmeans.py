"""K-means on Spark (MLlib's Lloyd iterations) behind the Segmenter, with Spark's silhouette beside ours.

Spark runs Lloyd's iterations from the same k-means++ starts as the embedded engine
(`kmeans_starts`, drawn on the driver, where the scaled customer table already is for the
choice of k): both engines then reach the same segments (issue 25), where Spark's own
k-means|| starts led it to other local optima of near-equal cost.

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
from ._algorithms import KMEANS_MAX_ITER, KMEANS_TOL, kmeans_starts
from ._metrics import nearest_center
from ._segmenter import Segmenter

SPARK_SILHOUETTE = "silhouette_sqeuclidean_spark"
SPARK_FIT_THREADS = 4  # fits submitted at once from the driver; Spark shares its cores among their jobs


class SparkSegmenter(Segmenter):
    """`Segmenter` whose K-means runs on Spark: MLlib's Lloyd iterations to convergence from each of the `n_init`
    k-means++ starts the embedded engine uses (`kmeans_starts`), the lowest cost kept (a tie: the first); the fits of
    every k submitted side by side from driver threads (Spark runs their jobs at once when it has free cores).

    Spark ML's `KMeans` takes no starting centres (no `initialModel` in Spark 4.0); MLlib's does, called as pyspark's
    `mllib.clustering.KMeans.train` calls it (`trainKMeansModel`) but on vectors unpickled in the JVM (`SerDe`), not
    through its Python `map`: the executors run no Python. Each fit's segments and cost are its centres'
    nearest-centre assignment on the driver, as scikit-learn's. The Euclidean silhouette is computed as by the
    embedded engine (`_silhouette`, on the driver); Spark's squared-Euclidean silhouette is added as
    `silhouette_sqeuclidean_spark`.
    """

    def _fit_models(self, X: np.ndarray, ks: list[int], seed: int):
        if self.algorithm != "kmeans":
            raise UsageError(f"the Spark engine runs K-means only; got algorithm={self.algorithm!r}")
        from pyspark.ml.evaluation import ClusteringEvaluator
        from pyspark.ml.feature import VectorAssembler
        from pyspark.mllib.common import callJavaFunc, callMLlibFunc
        from pyspark.mllib.linalg import DenseVector
        from pyspark.sql import SparkSession

        session = SparkSession.builder.getOrCreate()  # the engine's session (custseg._engines._spark_session)
        context = session.sparkContext
        names = [f"z{j}" for j in range(X.shape[1])]
        batches = context.parallelize([DenseVector(row) for row in X])  # pickled batches of MLlib vectors
        evaluator = ClusteringEvaluator(featuresCol="features", predictionCol="prediction", metricName="silhouette",
                                        distanceMeasure="squaredEuclidean")

        def fit(k: int, centres: np.ndarray) -> SimpleNamespace:
            vectors = context._jvm.org.apache.spark.mllib.api.python.SerDe.pythonToJava(batches._jrdd, True)
            # pyspark's KMeans.train arguments; its init mode, seed and steps ("k-means||", None, 2) are unused here
            model = callMLlibFunc("trainKMeansModel", vectors, k, KMEANS_MAX_ITER, "k-means||", None, 2,
                                  float(KMEANS_TOL), [DenseVector(c) for c in centres], "euclidean")
            centres = np.array([c.toArray() for c in callJavaFunc(context, model.clusterCenters)], dtype=np.float64)
            labels = nearest_center(X, centres)
            return SimpleNamespace(labels_=labels, cluster_centers_=centres,
                                   inertia_=float(((X - centres[labels]) ** 2).sum()))

        def spark_silhouette(labels: np.ndarray) -> float:
            frame = pd.DataFrame(X, columns=names).assign(prediction=labels)
            return float(evaluator.evaluate(VectorAssembler(inputCols=names, outputCol="features")
                                            .transform(session.createDataFrame(frame))))

        with ThreadPoolExecutor(max_workers=SPARK_FIT_THREADS, thread_name_prefix="custseg-spark-kmeans") as pool:
            # each k's fits are submitted as soon as its starts are drawn: Spark runs them while the next k's are drawn
            futures = {(k, start): pool.submit(fit, k, centres)
                       for k in ks for start, centres in enumerate(kmeans_starts(X, k, self.n_init, seed))}
            fits = {job: future.result() for job, future in futures.items()}
        for k in ks:  # the lowest cost of k's restarts; a tie goes to the first
            model = min((fits[k, start] for start in range(self.n_init)), key=lambda m: m.inertia_)
            if len(np.unique(model.labels_)) < 2:
                raise DataError(f"Spark's k-means put every customer in one segment at k={k}")
            model.spark_silhouette = spark_silhouette(model.labels_)
            yield k, model

    def _evaluate(self, X, fits, seed):
        rows, samples = super()._evaluate(X, fits, seed)
        for row, model in zip(rows, fits.values()):
            row[SPARK_SILHOUETTE] = model.spark_silhouette
        return rows, samples
