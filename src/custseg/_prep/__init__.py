"""Preparation: raw lines (or a customer table) to one row of features per customer, as engine-neutral ibis."""

from ._features import FEATURES

__all__ = ["FEATURES"]
