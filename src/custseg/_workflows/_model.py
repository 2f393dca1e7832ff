"""model.json: the single, pickle-free artifact needed to score new customers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._atomic import read_json
from .._cluster import Scaler
from .._cluster._metrics import nearest_center
from .._config import config_of_model
from .._errors import CustsegError, DataError

FORMAT_VERSION = 1
MERGED_FORMAT_VERSION = 2  # a model with an `assignment` (merged segments): custseg before it would score by `centroids`


def model_document(*, features: list[str], scaler: dict, centers: np.ndarray, segment_ids: list[int], texts: list[dict],
                   columns: dict | None, mode: str, cleaning_rules: dict, training: dict, seed: int, config: dict,
                   preparation: dict | None = None, assignment: dict | None = None) -> dict:
    """Assemble the model.json content; `assignment` (after a merge: `assignment_of`) says which segment each
    fitted centroid assigns to."""
    segments = [{"id": int(i), **{key: dict(t[key]) for key in ("name", "description", "action")}}
                for i, t in zip(segment_ids, texts)]
    merged = {"assignment": assignment} if assignment else {}
    return {
        "format": "custseg-model",
        "format_version": MERGED_FORMAT_VERSION if assignment else FORMAT_VERSION,
        "mode": mode,
        "features": features,
        "columns": columns,
        "cleaning_rules": cleaning_rules,
        "scaler": scaler,
        "centroids": np.asarray(centers).tolist(),
        "segments": segments,
        **merged,
        "training": training,
        "preparation": preparation,
        "seed": seed,
        "config": config,
    }


def with_assignment(model: dict, assignment: dict) -> dict:
    """`model` scoring by `assignment` (`assignment_of`), marked with the format version that says so."""
    return model | {"format_version": MERGED_FORMAT_VERSION, "assignment": assignment}


def assignment_of(centroids: np.ndarray, segment_ids) -> dict:
    """model.json's `assignment`: the fitted centroids and the segment id each one assigns to (several
    centroids share an id once their segments are merged), so that scoring gives the merged segmentation."""
    return {"centroids": np.asarray(centroids, dtype=float).tolist(), "segment_ids": [int(i) for i in segment_ids]}


def assign_segments(model: dict, Z: np.ndarray) -> np.ndarray:
    """Each row's segment (position in `model["segments"]`): its nearest centroid's, or with an `assignment`
    (merged segments) the segment of its nearest fitted centroid.

    >>> model = {"centroids": [[0.0], [7.0]], "segments": [{"id": 1}, {"id": 2}],
    ...          "assignment": {"centroids": [[0.0], [4.0], [9.0]], "segment_ids": [1, 2, 2]}}
    >>> assign_segments(model, np.array([[1.0], [3.0], [8.0]])).tolist()
    [0, 1, 1]
    """
    assignment = model.get("assignment")
    if not assignment:
        return nearest_center(Z, np.asarray(model["centroids"], dtype=float))
    position = {segment["id"]: i for i, segment in enumerate(model["segments"])}
    of_centroid = np.array([position[i] for i in assignment["segment_ids"]], dtype=np.int64)
    return of_centroid[nearest_center(Z, np.asarray(assignment["centroids"], dtype=float))]


def load_model(path: str | Path) -> dict:
    """Read and check a model.json (format and version, shapes)."""
    path = Path(path)
    model = read_json(path, "model file not found", "not a custseg model (invalid JSON: {error})")
    if not isinstance(model, dict) or model.get("format") != "custseg-model":
        raise DataError(f"{path}: not a custseg model file")
    if model.get("format_version") not in (FORMAT_VERSION, MERGED_FORMAT_VERSION):
        raise DataError(f"{path}: model format version {model.get('format_version')!r} is not supported "
                        f"(expected {FORMAT_VERSION} or {MERGED_FORMAT_VERSION})")
    try:
        centroids = np.asarray(model.get("centroids", []), dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{path}: centroids must be a table of numbers (edited by hand?)") from None
    features = model.get("features", [])
    if centroids.ndim != 2 or centroids.shape[1] != len(features) or centroids.shape[0] != len(model.get("segments", [])):
        raise DataError(f"{path}: centroids, features and segments do not agree (edited by hand?)")
    _check_parts(path, model)
    _check_assignment(path, model)
    return model


def _check_assignment(path: Path, model: dict) -> None:
    """A merged model's `assignment`: one segment id per fitted centroid, ids of the model's segments, each used."""
    assignment = model.get("assignment")
    if assignment is None:
        return
    try:
        centroids = np.asarray(assignment["centroids"], dtype=float)
        ids = [int(i) for i in assignment["segment_ids"]]
    except (KeyError, TypeError, ValueError):
        raise DataError(f"{path}: damaged model (assignment); was it edited by hand?") from None
    segments = {int(s["id"]) for s in model["segments"]}
    if centroids.ndim != 2 or centroids.shape[1] != len(model["features"]) or len(ids) != len(centroids) or set(ids) != segments:
        raise DataError(f"{path}: the assignment's centroids and segments do not agree (edited by hand?)")


REQUIRED_PARTS = {"features": list, "scaler": dict, "segments": list, "config": dict, "training": dict, "cleaning_rules": dict}


def _check_parts(path: Path, model: dict) -> None:
    """Every part `score` and `refresh` read is present and usable: one clear line instead of a KeyError later."""
    wrong = [key for key, kind in REQUIRED_PARTS.items() if not isinstance(model.get(key), kind)]
    if wrong:
        raise DataError(f"{path}: model part(s) {', '.join(wrong)} missing or of the wrong type (edited by hand?)")
    try:
        scaler = Scaler.from_dict(model["scaler"])
        if not all(len(v) == len(model["features"]) for v in (scaler.center_, scaler.scale_, scaler.min_, scaler.max_)):
            raise ValueError("scaler and features do not agree")
        for segment in model["segments"]:
            int(segment["id"]), *(str(segment[k]["en"]) for k in ("name", "description", "action"))
        config_of_model(model)
    except CustsegError as exc:
        raise DataError(f"{path}: the model's settings are invalid ({exc})") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc).splitlines()[0]
        raise DataError(f"{path}: damaged model ({what}); was it edited by hand?") from None
