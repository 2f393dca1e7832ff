"""Clustering: numpy in, labels out. Scaling, algorithms, metrics, stability and the Segmenter."""

from ._scale import Scaler
from ._segmenter import Segmenter

__all__ = ["Scaler", "Segmenter"]
