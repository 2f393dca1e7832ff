"""Choosing k on a sample of customers changes neither k nor the segments (M: 3M lines, 80k customers)."""

from __future__ import annotations

import pytest
from sklearn.metrics import adjusted_rand_score

from custseg import Segmenter
from custseg._cluster import Scaler
from custseg._config import RunConfig, preset
from custseg._prep._prepare import prepare
from custseg._workflows._demo_data import write_cpq_export


@pytest.mark.slow
def test_k_chosen_on_a_sample_of_m_matches_fitting_everyone(tmp_path):
    path = write_cpq_export(tmp_path / "m.parquet", n_lines=3_000_000, n_accounts=80_000, seed=42)
    prepared = prepare(path, RunConfig(mapping=preset("salesforce-cpq")))
    Z = Scaler("rank").fit_transform(prepared.X, prepared.ids)
    everyone = Segmenter(k_range=(2, 10), random_state=42, k_sample_size=None, k_rule="silhouette").fit(Z)
    # 10,000 of ~80,000 customers: the ratio of the default 100,000 at L (800,000 customers)
    sampled = Segmenter(k_range=(2, 10), random_state=42, k_sample_size=10_000, k_rule="silhouette").fit(Z)
    assert sampled.k_sample_["size"] == 10_000 and sampled.k_sample_["of"] == len(Z)
    assert sampled.k_ == everyone.k_
    assert adjusted_rand_score(everyone.labels_, sampled.labels_) >= 0.95
