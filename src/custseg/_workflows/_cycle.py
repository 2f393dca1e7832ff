"""The yearly cycle: score new data with a saved model, refresh it keeping segment identities."""

from __future__ import annotations

import datetime as dtm
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from .. import _schema as S
from .._cluster import Scaler
from .._cluster._metrics import evaluate, inertia, nearest_center
from .._config import RunConfig, config_of_model
from .._errors import DataError, UsageError
from .._prep._prepare import Prepared, prepare
from ._migration import customer_overlap
from .._result import SegmentationResult
from ._model import load_model
from ._segment import build_result, fit_model, k_record

OUT_OF_RANGE = "out_of_range"
MATCH_THRESHOLD = 1.0  # z units: farther apart than this, two segments are not the same segment


def _model_of(model: str | Path | dict) -> dict:
    if isinstance(model, dict):
        return model
    path = Path(model)
    return load_model(path / S.MODEL_JSON if path.is_dir() else path)


def _prepare_for_model(data, model: dict, config: RunConfig) -> Prepared:
    imputation = {name: note["median"] for name, note in ((model.get("preparation") or {}).get("imputed") or {}).items()}
    prepared = prepare(data, config, imputation)
    missing = [f for f in model["features"] if f not in prepared.customers.columns]
    one_hot = {c for cols in ((model.get("preparation") or {}).get("one_hot") or {}).values() for c in cols}
    if any(f not in one_hot for f in missing):
        raise DataError(f"{prepared.source.name}: the model needs feature(s) {', '.join(missing)}, which this input does not have")
    for column in missing:  # a category absent from the new data
        prepared.customers[column] = 0.0
    prepared.names = list(model["features"])
    return prepared


def _assign(model: dict, prepared: Prepared) -> tuple[Scaler, np.ndarray, np.ndarray, np.ndarray]:
    scaler = Scaler.from_dict(model["scaler"])
    Z = scaler.transform(prepared.X, prepared.ids)
    centers = np.asarray(model["centroids"], dtype=float)
    return scaler, Z, centers, nearest_center(Z, centers)


def _fit_table(Z: np.ndarray, labels: np.ndarray, centers: np.ndarray, config: RunConfig) -> tuple[pd.DataFrame, np.ndarray]:
    """One-row k table for a fixed model applied to data: its indices and spread."""
    row, samples = evaluate(Z, labels, len(centers), exact_max=config.silhouette_exact_max,
                            sample_size=config.silhouette_sample_size, seed=config.seed)
    row |= {"inertia": inertia(Z, labels, centers), "eligible": True, "knee": False, "chosen": True}
    return pd.DataFrame([row]), samples


READING = ("read", "preset", "config_file", "roles", "id_column", "salesforce_ids", "rates")
"""What `score` may change of a saved model's config: how the new file is read, never what is computed."""


def score(data, model: str | Path | dict, lang: str | None = None, as_of: dtm.date | str | None = None,
          **reading) -> SegmentationResult:
    """Apply a saved model to new data: same cleaning, features and scaler, nearest center.

    `as_of` cuts the new data as `segment` does (default: the day after their last line).
    `reading` reads a file laid out differently from the training data (`READING`, see
    `config_of_model`): `read` (ReadOptions, or a dict of the saved reading options to
    change), `preset`, `config_file` and `roles` (e.g. {"customer": "AccountId",
    "date_format": "%Y-%m-%d"}), `id_column` (a per-customer table), `salesforce_ids`, `rates`
    (this year's conversion rates file: a model's own are never reused).

    Customers with a feature outside the training range are flagged in `out_of_range`.
    """
    unknown = sorted(set(reading) - set(READING))
    if unknown:
        raise UsageError(f"score changes how the data are read ({', '.join(READING)}), not {', '.join(unknown)}: "
                         "use refresh to retrain")
    model = _model_of(model)
    config = config_of_model(model, lang=lang, as_of=as_of, **reading)
    prepared = _prepare_for_model(data, model, config)
    scaler, Z, centers, labels = _assign(model, prepared)
    table, samples = _fit_table(Z, labels, centers, config)
    ids = [s["id"] for s in model["segments"]]
    texts = [{key: s[key] for key in ("name", "description", "action")} for s in model["segments"]]
    flagged = scaler.out_of_range(prepared.X)
    k_info = {"chosen": len(centers), "knee": None, "rule": "saved model",
              "reason_en": f"k={len(centers)} from the saved model trained on {model['training'].get('input')} "
                           f"({model['training'].get('date_min')} to {model['training'].get('date_max')}); "
                           f"{int(flagged.sum()):,} customer(s) outside the training range.",
              "reason_fr": f"k={len(centers)} du modèle enregistré, entraîné sur {model['training'].get('input')} "
                           f"({model['training'].get('date_min')} au {model['training'].get('date_max')}) ; "
                           f"{int(flagged.sum()):,} client(s) hors de l'étendue d'entraînement."}
    result = build_result(prepared, config, scaler, Z, labels, centers, ids, texts, table, samples, k_info, mode="score",
                          extra_columns={OUT_OF_RANGE: flagged},
                          extra_run={"model": {"training": model["training"], "n_out_of_range": int(flagged.sum())}})
    result.model = model
    return result


def match_segments(old_centers: np.ndarray, new_centers: np.ndarray, threshold: float = MATCH_THRESHOLD) -> list[tuple[int | None, int | None, float]]:
    """Optimal one-to-one matching of old to new centers (Hungarian), pairs farther than `threshold` left unmatched.

    Returns (old index or None, new index or None, distance) for every old and new segment.
    """
    cost = np.sqrt(((old_centers[:, None, :] - new_centers[None, :, :]) ** 2).sum(axis=2))
    rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e9))
    pairs = [(int(r), int(c), float(cost[r, c])) for r, c in zip(rows, cols) if cost[r, c] <= threshold]
    matched_old, matched_new = {p[0] for p in pairs}, {p[1] for p in pairs}
    pairs += [(i, None, np.nan) for i in range(len(old_centers)) if i not in matched_old]
    pairs += [(None, j, np.nan) for j in range(len(new_centers)) if j not in matched_new]
    return pairs


def refresh(data, previous: str | Path, progress: Callable | None = None, threshold: float = MATCH_THRESHOLD,
            **changes) -> SegmentationResult:
    """Retrain on new data, then give each new segment that matches an old one its id and name.

    The old model scores the new customers; each old segment's center in the new model's
    space is the mean of its new customers there; centers are matched one to one.
    `changes` are RunConfig fields and the reading options of `score`.
    """
    old = _model_of(previous)
    config = config_of_model(old, **changes)
    prepared = _prepare_for_model(data, old, config)
    old_assignments = Path(previous) / S.ASSIGNMENTS_PARQUET if not isinstance(previous, dict) else None
    overlap = (customer_overlap(pd.read_parquet(old_assignments, columns=[S.CUSTOMER_ID])[S.CUSTOMER_ID], prepared.ids)
               if old_assignments is not None and old_assignments.is_file() else None)
    scaler, Z, segmenter = fit_model(prepared, config, progress)
    _, Z_old, old_centers_own, old_labels = _assign(old, prepared)
    k_old = len(old_centers_own)
    old_in_new = np.array([Z[old_labels == i].mean(axis=0) if (old_labels == i).any() else np.full(Z.shape[1], np.nan)
                           for i in range(k_old)])
    pairs = match_segments(old_in_new, segmenter.cluster_centers_, threshold)
    old_ids = [s["id"] for s in old["segments"]]
    next_id = max(old_ids) + 1
    new_ids, texts = [0] * segmenter.k_, [None] * segmenter.k_
    matching = []
    old_shares = np.bincount(old_labels, minlength=k_old) / len(old_labels)
    new_shares = np.bincount(segmenter.labels_, minlength=segmenter.k_) / len(segmenter.labels_)
    for o, n, distance in sorted(pairs, key=lambda p: (p[1] is None, p[1] if p[1] is not None else p[0])):
        if n is not None and o is not None:
            new_ids[n] = old_ids[o]
            texts[n] = {key: old["segments"][o][key] for key in ("name", "description", "action")}
            status = "kept"
        elif n is not None:
            new_ids[n], next_id, status = next_id, next_id + 1, "new"
        else:
            status = "retired"
        matching.append({
            "status": status, "old_id": old_ids[o] if o is not None else None, "new_id": new_ids[n] if n is not None else None,
            "name_en": old["segments"][o]["name"]["en"] if o is not None else None, "center_shift": distance,
            "old_model_share": float(old_shares[o]) if o is not None else None,
            "new_model_share": float(new_shares[n]) if n is not None else None,
        })
    old_fit, _ = _fit_table(Z_old, old_labels, old_centers_own, config)
    drift = {
        "previous_model": old["training"], "threshold": threshold, "matching": matching,
        "old_model_silhouette_on_new_data": float(old_fit["silhouette"].iloc[0]),
        "new_model_silhouette": float(segmenter.k_selection_.loc[segmenter.k_selection_["chosen"], "silhouette"].iloc[0]),
        "kept": sum(m["status"] == "kept" for m in matching), "new": sum(m["status"] == "new" for m in matching),
        "retired": sum(m["status"] == "retired" for m in matching),
        "customer_overlap": overlap,
    }
    result = build_result(prepared, config, scaler, Z, segmenter.labels_, segmenter.cluster_centers_, new_ids, texts,
                          segmenter.k_selection_, segmenter.silhouette_samples_, k_record(segmenter), mode="refresh",
                          extra_run={"refresh": drift})
    order = np.argsort(new_ids)
    result.profiles = result.profiles.iloc[order].reset_index(drop=True)
    return result
