"""review(): the business review of a run folder. Export the editable table, apply it (renames, texts, merges:
every output recomputed and rewritten at once), approve, or say where the run stands."""

from __future__ import annotations

import copy
import datetime as dtm
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _schema as S
from .._atomic import file_sha256, restore_frame, write_text_atomic
from .._cluster._merge import merge_segments
from .._cluster._metrics import evaluate, segment_means
from .._config import config_of_model
from .._errors import DataError, UsageError
from .._locks import reserved_output
from .._outputs import RUN_FILES, dump_json, write_run
from .._prep._features import REVENUE_FEATURE
from .._profile import load_rules, rank_products, segment_profiles, separation
from .._profile._products import REVENUE_COLUMNS
from .._result import SegmentationResult
from .._review import (APPROVED_FILES, Approval, approval_record, approval_status, read_edits, read_review_table,
                       review_table, write_review_table)
from .._review._approval import read_run_record
from .._review._edits import Edits
from ._model import assign_segments, assignment_of, with_assignment
from ._segment import add_stability

REVIEWED = "review"  # name_rule / action_rule of a text the review set (edited, or kept on a merged segment)
TEXT_KEYS = ("name", "description", "action")


@dataclass
class ReviewStatus:
    """Where a run stands: its segments, the reviews applied, the approval, the segments flagged for review;
    and what this call did (`exported`: the table written; `applied`: the review record just added)."""

    run_dir: Path
    segments: pd.DataFrame
    reviews: list[dict]
    approval: Approval
    to_review: list[dict]
    exported: Path | None = None
    applied: dict | None = None
    kept: list[str] = field(default_factory=list)


def review(run_dir: str | Path, *, export: str | Path | None = None, apply: str | Path | None = None,
           approve: bool = False, by: str | None = None, overwrite: bool = False,
           now: dtm.datetime | None = None) -> ReviewStatus:
    """Review a run folder: one action per call, then its status.

    - `export="segments.xlsx"` (or .csv): the table marketing edits (`overwrite` replaces a file);
    - `apply="segments.xlsx", by="A. Name"`: renames, text edits and merges (`merge_into`: the
      segment's customers join that segment); profiles, centres, v-tests, top products and the
      model are recomputed, every output of the run is rewritten at once, run.json records the
      review (who, when, the file's SHA-256, each change). Any approval is cleared;
    - `approve=True, by="A. Name"`: records the sign-off with the SHA-256 of the approved files
      (`_review.APPROVED_FILES`); a later change to them voids it;
    - nothing: the status alone.

    >>> review("out/", export="segments.xlsx")                   # doctest: +SKIP
    >>> review("out/", apply="segments.xlsx", by="A. Name")      # doctest: +SKIP
    >>> review("out/", approve=True, by="A. Name").approval.approved  # doctest: +SKIP
    True
    """
    run_dir = Path(run_dir)
    if sum((export is not None, apply is not None, bool(approve))) > 1:
        raise UsageError("review does one thing at a time: --export, --apply or --approve")
    signer = " ".join(str(by or "").split())
    if (apply is not None or approve) and not signer:
        raise UsageError("say who signs with --by, e.g. --by \"A. Name\" (recorded in run.json)")
    now = now or dtm.datetime.now(dtm.timezone.utc)
    exported, applied, kept = None, None, []
    if export is not None:
        exported = _export(run_dir, Path(export), overwrite)
    elif apply is not None:
        applied, kept = _apply(run_dir, Path(apply), signer, now)
    elif approve:
        _approve(run_dir, signer, now)
    return _status(run_dir, exported, applied, kept)


def _check_run(run_dir: Path) -> None:
    if not run_dir.is_dir():
        raise UsageError(f"run directory {run_dir} not found")
    missing = [name for name in (*APPROVED_FILES, S.RUN_JSON) if not (run_dir / name).is_file()]
    if missing:
        raise DataError(f"{run_dir}: not a finished custseg run (missing {', '.join(missing)})")


def _profiles(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / S.PROFILES_CSV, keep_default_na=False, na_values=[""])


def _model(run_dir: Path) -> dict:
    return json.loads((run_dir / S.MODEL_JSON).read_text(encoding="utf-8"))


def _status(run_dir: Path, exported: Path | None = None, applied: dict | None = None, kept: list[str] | None = None) -> ReviewStatus:
    _check_run(run_dir)
    run = read_run_record(run_dir)
    lang = run.get("lang", "en")
    profiles = restore_frame(_profiles(run_dir)).sort_values(S.SEGMENT_ID)
    segments = pd.DataFrame({S.SEGMENT_ID: profiles[S.SEGMENT_ID].astype(int), "name": profiles[f"name_{lang}"],
                             "size": profiles["size"].astype(int), "customer_share": profiles["customer_share"],
                             "revenue_share": profiles["revenue_share"]}).reset_index(drop=True)
    return ReviewStatus(run_dir, segments, list(run.get("reviews") or []), approval_status(run_dir, run),
                        list(run.get("to_review") or []), exported, applied, list(kept or []))


def _export(run_dir: Path, path: Path, overwrite: bool) -> Path:
    _check_run(run_dir)
    lang = read_run_record(run_dir).get("lang", "en")
    return write_review_table(review_table(_profiles(run_dir), _model(run_dir)["segments"], lang), path, overwrite)


def _approve(run_dir: Path, by: str, now: dtm.datetime) -> None:
    _check_run(run_dir)
    with reserved_output(run_dir, overwrite=True):
        run = read_run_record(run_dir)
        flagged = run.get("to_review") or []
        if flagged:
            ids = ", ".join(str(flag[S.SEGMENT_ID]) for flag in flagged)
            raise DataError(f"{run_dir}: segment(s) {ids} are flagged for review ({flagged[0]['en']}): export the table, "
                            f"check them and apply it (custseg review {run_dir} --export segments.xlsx, then --apply "
                            "segments.xlsx --by NAME) before approving")
        run["approval"] = approval_record(run_dir, by, now)
        write_text_atomic(run_dir / S.RUN_JSON, dump_json(run), durable=True)


def _apply(run_dir: Path, table_path: Path, by: str, now: dtm.datetime) -> tuple[dict, list[str]]:
    _check_run(run_dir)
    with reserved_output(run_dir, overwrite=True):
        result = SegmentationResult.load(run_dir)
        table = read_review_table(table_path)
        current = {int(s["id"]): s for s in result.model["segments"]}
        sizes = dict(zip(result.profiles[S.SEGMENT_ID].astype(int), result.profiles["size"].astype(int)))
        edits = read_edits(table, table_path, current, sizes)
        _check_mergeable(result, edits, run_dir)
        record = {"by": by, "at": now.astimezone(dtm.timezone.utc).isoformat(timespec="seconds"),
                  "file": table_path.name, "sha256": file_sha256(table_path), "segments_before": len(current),
                  "segments_after": len(current) - len(edits.merges), "changes": edits.changes}
        previous = approval_status(run_dir, result.run)
        if previous.by:
            record["cleared_approval"] = {"by": previous.by, "at": previous.at}
        reviewed = reviewed_result(result, edits, record)
        kept = [p.name for p in sorted(run_dir.iterdir()) if p.name not in RUN_FILES]
        write_run(reviewed, run_dir, overwrite=True, report=(run_dir / S.REPORT_HTML).is_file(), keep_others=True)
    return record, kept


def _check_mergeable(result: SegmentationResult, edits: Edits, run_dir: Path) -> None:
    """A merge adds up per-customer revenue and per-product revenue: runs written before custseg kept them cannot merge."""
    if not edits.merges:
        return
    revenue_kept = not result.profiles["revenue"].notna().any() or REVENUE_FEATURE in result.assignments.columns
    products_kept = result.product_revenue is not None or result.top_products.empty
    if not (revenue_kept and products_kept):
        missing = S.PRODUCT_REVENUE_PARQUET if not products_kept else "the customers' revenue in assignments.parquet"
        raise DataError(f"{run_dir}: written by an earlier custseg without {missing}, which a merge adds up; "
                        "run it again with this version, then review")


def reviewed_result(result: SegmentationResult, edits: Edits, record: dict) -> SegmentationResult:
    """The run after the review: texts replaced, merged segments' customers in the segment they join, and
    everything that depends on the segments recomputed from the saved customers (profiles, centres, distances,
    silhouettes, separation, top products, model). Untouched segments keep their centre and numbers, their bootstrap
    Jaccard included; a segment that received a merge was not measured."""
    model, run = copy.deepcopy(result.model), copy.deepcopy(result.run)
    config = config_of_model(model)
    names, assignments = list(result.features), result.assignments
    ids = [int(s["id"]) for s in model["segments"]]  # the model's order: its centroids' rows
    staying = [i for i in ids if i not in edits.merges]
    groups = [staying.index(edits.merges.get(i, i)) for i in ids]
    position = {sid: p for p, sid in enumerate(ids)}
    Z = assignments[[S.z_column(f) for f in names]].to_numpy(dtype=float)
    old_labels = assignments[S.SEGMENT_ID].map(position).to_numpy()
    labels, centers = merge_segments(Z, old_labels, groups, np.asarray(model["centroids"], dtype=float))
    old_profiles = result.profiles.set_index(result.profiles[S.SEGMENT_ID].astype(int))
    received = {edits.merges[i] for i in edits.merges}
    changed = {(c[S.SEGMENT_ID], c["field"].split("_")[0]) for c in edits.changes}
    # a segment that received a merge and whose texts the reviewer left as they were gets texts made by the rules from
    # its new numbers: its old name, description and action described the segment before it grew (words are claims)
    regenerated = [sid for sid in staying if sid in received and not any((sid, key) in changed for key in TEXT_KEYS)]
    texts = []
    for sid in staying:
        own = None if sid in regenerated else dict(edits.texts[sid])
        for key, rule in (("name", "name_rule"), ("action", "action_rule")) if own is not None else ():
            kept = str(old_profiles.loc[sid, rule]) if rule in old_profiles.columns else "kept"
            own[rule] = REVIEWED if sid in received or (sid, key) in changed else kept
        texts.append(own)
    revenue_feature = REVENUE_FEATURE if REVENUE_FEATURE in assignments.columns else None
    profiles, made = segment_profiles(assignments, labels, segment_means(Z, labels, centers), names,
                                      _rules(config.rules_file), revenue_feature, staying, texts,
                                      run.get("supplementary", []), config.label_table(), Z,
                                      assignments[S.CUSTOMER_ID].astype(str).to_numpy())
    if "stability_jaccard" in old_profiles.columns:  # a segment that received a merge was not measured
        add_stability(profiles, [np.nan if sid in received else old_profiles.loc[sid, "stability_jaccard"] for sid in staying])
    profiles = profiles.sort_values(S.SEGMENT_ID, kind="stable").reset_index(drop=True)
    final = dict(edits.texts) | {sid: {key: dict(entry[key]) for key in TEXT_KEYS}
                                 for sid, entry in zip(staying, made) if sid in regenerated}
    record["texts_made_by_rules"] = regenerated

    frame = assignments.copy()
    frame[S.SEGMENT_ID] = np.asarray(staying)[labels]
    frame[S.SEGMENT_NAME] = np.asarray([final[sid]["name"][run.get("lang", "en")] for sid in staying], dtype=object)[labels]
    frame[S.DISTANCE] = np.sqrt(((Z - centers[labels]) ** 2).sum(axis=1))
    per_product, top = result.product_revenue, result.top_products
    if edits.merges:
        frame[S.SILHOUETTE] = evaluate(Z, labels, len(staying), exact_max=config.silhouette_exact_max,
                                       sample_size=config.silhouette_sample_size, seed=config.seed)[1]
        run["separation"] = dict(zip(names, separation(Z, labels).tolist()))
        if per_product is not None:
            per_product = _merged_products(per_product, edits.merges)
            top = rank_products(per_product)
        fitted = model.get("assignment") or assignment_of(model["centroids"], ids)
        model = with_assignment(model, assignment_of(fitted["centroids"],
                                                     [edits.merges.get(int(i), int(i)) for i in fitted["segment_ids"]]))
    model["centroids"] = centers.tolist()
    model["segments"] = [{"id": sid, **{key: dict(final[sid][key]) for key in TEXT_KEYS}} for sid in staying]
    record["score_differs"] = int((assign_segments(model, Z) != labels).sum())
    run["reviews"] = [*(run.get("reviews") or []), record]
    run.pop("approval", None)
    run.pop("to_review", None)
    return SegmentationResult(assignments=frame, profiles=profiles, k_selection=result.k_selection, top_products=top,
                              cleaning=result.cleaning, run=run, model=model, product_revenue=per_product)


def _rules(path: str | None) -> dict:
    """The run's rules table (the bundled one when its file is gone: every text is given, the rules only name)."""
    return load_rules(path if path and Path(path).is_file() else None)


def _merged_products(per_product: pd.DataFrame, merges: dict[int, int]) -> pd.DataFrame:
    """Revenue per product and segment once merged segments add up theirs."""
    per = per_product.copy()
    per[S.SEGMENT_ID] = per[S.SEGMENT_ID].astype(int).map(lambda i: merges.get(i, i))
    summed = per.groupby([S.SEGMENT_ID, "product"], dropna=False, sort=True).agg(label=("label", "first"),
                                                                                revenue=("revenue", "sum"))
    return summed.reset_index()[REVENUE_COLUMNS]
