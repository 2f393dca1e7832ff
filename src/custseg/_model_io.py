"""model.json: the single, pickle-free artifact needed to score new customers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ._errors import DataError

FORMAT_VERSION = 1


def model_document(*, features: list[str], scaler: dict, centers: np.ndarray, segment_ids: list[int], texts: list[dict],
                   columns: dict | None, mode: str, cleaning_rules: dict, training: dict, seed: int, config: dict,
                   preparation: dict | None = None) -> dict:
    """Assemble the model.json content."""
    segments = [{"id": int(i), **{key: dict(t[key]) for key in ("name", "description", "action")}}
                for i, t in zip(segment_ids, texts)]
    return {
        "format": "custseg-model",
        "format_version": FORMAT_VERSION,
        "mode": mode,
        "features": features,
        "columns": columns,
        "cleaning_rules": cleaning_rules,
        "scaler": scaler,
        "centroids": np.asarray(centers).tolist(),
        "segments": segments,
        "training": training,
        "preparation": preparation,
        "seed": seed,
        "config": config,
    }


def load_model(path: str | Path) -> dict:
    """Read and check a model.json (format and version, shapes)."""
    path = Path(path)
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: model file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a custseg model (invalid JSON: {exc})") from None
    if not isinstance(model, dict) or model.get("format") != "custseg-model":
        raise DataError(f"{path}: not a custseg model file")
    if model.get("format_version") != FORMAT_VERSION:
        raise DataError(f"{path}: model format version {model.get('format_version')!r} is not supported (expected {FORMAT_VERSION})")
    centroids = np.asarray(model.get("centroids", []), dtype=float)
    features = model.get("features", [])
    if centroids.ndim != 2 or centroids.shape[1] != len(features) or centroids.shape[0] != len(model.get("segments", [])):
        raise DataError(f"{path}: centroids, features and segments do not agree (edited by hand?)")
    return model
