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
from .._cluster._merge import merge_segments
from .._cluster._metrics import evaluate, inertia, nearest_center
from .._config import RunConfig, config_of_model
from .._engines import engine_failures, engine_record, input_name
from .._errors import DataError, UsageError
from .._prep._prepare import Prepared, prepare
from ._migration import customer_overlap
from .._result import SegmentationResult
from .._review import approval_status
from ._model import assign_segments, assignment_of, load_model
from ._segment import build_result, fit_model, k_record

OUT_OF_RANGE = "out_of_range"
NEW_SEGMENT = {"en": "is new this period: its name comes from the naming rules, nobody reviewed it",
               "fr": "est nouveau sur cette période : son nom vient des règles de nommage, personne ne l'a revu"}
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
    return scaler, Z, centers, assign_segments(model, Z)


def _fit_table(Z: np.ndarray, labels: np.ndarray, centers: np.ndarray, config: RunConfig) -> tuple[pd.DataFrame, np.ndarray]:
    """One-row k table for a fixed model applied to data: its indices and spread."""
    row, samples = evaluate(Z, labels, len(centers), exact_max=config.silhouette_exact_max,
                            sample_size=config.silhouette_sample_size, seed=config.seed)
    row |= {"inertia": inertia(Z, labels, centers), "eligible": True, "knee": False, "chosen": True}
    return pd.DataFrame([row]), samples


READING = ("read", "preset", "config_file", "roles", "id_column", "salesforce_ids", "rates", "spark_master", "spark_wait")
"""What `score` may change of a saved model's config: how the new file is read (and where: a Spark model's master and
its wait for executors), never what is computed."""


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
    rule = (reading.get("roles") or {}).get("cancellations")
    saved = (model["config"].get("mapping") or {}).get("cancellations")
    if rule and rule != saved:
        raise UsageError(f"score keeps the model's cancellation rule ({saved}), which made its features: "
                         f"--cancellations {rule} would compute other ones; use refresh to retrain with it")
    config = config_of_model(model, lang=lang, as_of=as_of, **reading)
    with engine_failures(config, input_name(data)):
        prepared = _prepare_for_model(data, model, config)
        engine = engine_record(config)
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
                          extra_run={"engine": engine,
                                     "model": {"training": model["training"], "n_out_of_range": int(flagged.sum())}})
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


def _fitted_centroids(model: dict) -> tuple[np.ndarray, list[int]]:
    """A model's fitted centroids and the segment id of each: its segments' centroids, or after a merge the
    centroids of its `assignment` (several share an id)."""
    assignment = model.get("assignment")
    if assignment:
        return np.asarray(assignment["centroids"], dtype=float), [int(i) for i in assignment["segment_ids"]]
    return np.asarray(model["centroids"], dtype=float), [int(s["id"]) for s in model["segments"]]


def _identities(part_ids: list[int], pairs: list[tuple], k: int, next_id: int) -> tuple[list[int], list[float]]:
    """The segment id of each of the `k` new fitted segments, and its centre's shift: the id of the old fitted
    centroid it matches, else a new id (in fitted order). Two new segments that match two centroids of one
    merged segment share its id (merged again) while two segments or more remain.

    >>> _identities([1, 2, 2], [(0, 1, 0.2), (1, 0, 0.3), (2, 2, 0.1)], 4, 3)
    ([2, 1, 2, 3], [0.3, 0.2, 0.1, nan])
    """
    ids: list[int | None] = [None] * k
    shifts = [np.nan] * k
    for old, new, distance in pairs:
        if old is not None and new is not None:
            ids[new], shifts[new] = part_ids[old], distance
    if len(set(ids) - {None}) + ids.count(None) < 2:  # merging again would leave one segment: the others are new
        ids = [i if i not in ids[:n] else None for n, i in enumerate(ids)]
    for n in range(k):
        if ids[n] is None:
            ids[n], next_id = next_id, next_id + 1
    return ids, shifts


def _carried(previous, merged_again: list[int]) -> dict:
    """What refresh carried from the previous run, and whether that run was approved (run.json `refresh.carried`)."""
    folder = Path(previous) if not isinstance(previous, dict) else None
    if folder is not None and (folder / S.RUN_JSON).is_file():
        status = approval_status(folder)
        english = status.reason if status.approved else f"not approved: {status.reason}"
        french = f"approuvé par {status.by} le {status.at[:10]}" if status.approved else "non approuvé"
    else:
        status = None
        english, french = "approval unknown: refreshed from a model file", "validation inconnue : repris d'un fichier de modèle"
    return {"previous": str(previous) if folder is not None else "(model)", "approved": bool(status and status.approved),
            "approval_en": english, "approval_fr": french, "merged_again": merged_again}


def _stability(measured: np.ndarray | None, fitted_ids: list[int], new_ids: list[int]) -> np.ndarray | None:
    """Each refreshed segment's bootstrap Jaccard: its fitted segment's, NaN (not measured) where two merged again."""
    if measured is None:
        return None
    return np.array([measured[fitted_ids.index(i)] if fitted_ids.count(i) == 1 else np.nan for i in new_ids])


def refresh(data, previous: str | Path, progress: Callable | None = None, threshold: float = MATCH_THRESHOLD,
            **changes) -> SegmentationResult:
    """Retrain on new data, then give each new segment that matches an old one its id and name.

    The old model scores the new customers; each old segment's center in the new model's
    space is the mean of its new customers there; centers are matched one to one.
    `changes` are RunConfig fields and the reading options of `score`.
    """
    old = _model_of(previous)
    config = config_of_model(old, **changes)
    with engine_failures(config, input_name(data)):
        prepared = _prepare_for_model(data, old, config)
        scaler, Z, segmenter = fit_model(prepared, config, progress)
        engine = engine_record(config)
    old_assignments = Path(previous) / S.ASSIGNMENTS_PARQUET if not isinstance(previous, dict) else None
    overlap = (customer_overlap(pd.read_parquet(old_assignments, columns=[S.CUSTOMER_ID])[S.CUSTOMER_ID], prepared.ids)
               if old_assignments is not None and old_assignments.is_file() else None)
    _, Z_old, old_centers_own, old_labels = _assign(old, prepared)
    part_centers, part_ids = _fitted_centroids(old)
    part_labels = nearest_center(Z_old, part_centers)
    old_in_new = np.array([Z[part_labels == i].mean(axis=0) if (part_labels == i).any() else np.full(Z.shape[1], np.nan)
                           for i in range(len(part_centers))])
    pairs = match_segments(old_in_new, segmenter.cluster_centers_, threshold)
    old_ids = [int(s["id"]) for s in old["segments"]]
    fitted_ids, shifts = _identities(part_ids, pairs, segmenter.k_, max(old_ids) + 1)
    new_ids = list(dict.fromkeys(fitted_ids))  # a segment merged at the previous review merges again here
    labels, centers = merge_segments(Z, segmenter.labels_, [new_ids.index(i) for i in fitted_ids], segmenter.cluster_centers_)
    merged_again = [i for i in new_ids if fitted_ids.count(i) > 1]
    silhouettes = segmenter.silhouette_samples_ if not merged_again else evaluate(
        Z, labels, len(new_ids), exact_max=config.silhouette_exact_max, sample_size=config.silhouette_sample_size,
        seed=config.seed)[1]
    old_of = {sid: segment for sid, segment in zip(old_ids, old["segments"])}
    texts = [{key: old_of[i][key] for key in ("name", "description", "action")} if i in old_of else None for i in new_ids]
    old_shares = dict(zip(old_ids, np.bincount(old_labels, minlength=len(old_ids)) / len(old_labels)))
    new_shares = np.bincount(labels, minlength=len(new_ids)) / len(labels)
    matching = [{"status": "kept" if i in old_of else "new", "old_id": i if i in old_of else None, "new_id": i,
                 "name_en": old_of[i]["name"]["en"] if i in old_of else None,
                 "center_shift": min((d for f, d in zip(fitted_ids, shifts) if f == i), default=np.nan),
                 "old_model_share": float(old_shares[i]) if i in old_of else None, "new_model_share": float(new_shares[n]),
                 "fitted_segments": fitted_ids.count(i)} for n, i in enumerate(new_ids)]
    matching += [{"status": "retired", "old_id": i, "new_id": None, "name_en": old_of[i]["name"]["en"], "center_shift": np.nan,
                  "old_model_share": float(old_shares[i]), "new_model_share": None, "fitted_segments": 0}
                 for i in old_ids if i not in new_ids]
    old_fit, _ = _fit_table(Z_old, old_labels, old_centers_own, config)
    drift = {
        "previous_model": old["training"], "threshold": threshold, "matching": matching,
        "old_model_silhouette_on_new_data": float(old_fit["silhouette"].iloc[0]),
        "new_model_silhouette": float(segmenter.k_selection_.loc[segmenter.k_selection_["chosen"], "silhouette"].iloc[0]),
        "kept": sum(m["status"] == "kept" for m in matching), "new": sum(m["status"] == "new" for m in matching),
        "retired": sum(m["status"] == "retired" for m in matching),
        "customer_overlap": overlap, "carried": _carried(previous, merged_again),
    }
    flags = [{S.SEGMENT_ID: i, "reason": "new", **NEW_SEGMENT} for i in new_ids if i not in old_of]
    result = build_result(prepared, config, scaler, Z, labels, centers, new_ids, texts, segmenter.k_selection_, silhouettes,
                          k_record(segmenter), mode="refresh",
                          extra_run={"engine": engine, "refresh": drift, **({"to_review": flags} if flags else {})},
                          assignment=assignment_of(segmenter.cluster_centers_, fitted_ids) if merged_again else None,
                          stability=_stability(segmenter.segment_stability_, fitted_ids, new_ids))
    order = np.argsort(new_ids)
    result.profiles = result.profiles.iloc[order].reset_index(drop=True)
    return result
