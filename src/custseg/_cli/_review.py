"""`custseg review`: a thin Typer adapter over `custseg.review` (export, apply, approve, or the status).

Registered in cli.py with `app.command("review")(review)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

import custseg

from ._support import console, reported_errors

CHANGE_LIMIT = 30  # changes listed on the console; all are in run.json


def review(
    run_dir: Annotated[Path, typer.Argument(help="A finished run directory.")],
    export: Annotated[Optional[Path], typer.Option("--export", help="Write the editable table of the segments (.xlsx or .csv).")] = None,
    apply: Annotated[Optional[Path], typer.Option("--apply", help="Apply an edited table: renames, texts, merges; rewrites every output of the run.")] = None,
    approve: Annotated[bool, typer.Option("--approve", help="Sign the run off (recorded with the SHA-256 of what is approved).")] = False,
    by: Annotated[Optional[str], typer.Option("--by", help="Who applies or approves, e.g. \"A. Name\" (recorded in run.json).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --export file.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")] = False,
) -> None:
    """The business review of a run: export the segments table, apply the edited table, approve; alone, the status."""
    with reported_errors(debug):
        status = custseg.review(run_dir, export=export, apply=apply, approve=approve, by=by, overwrite=overwrite)
        if status.exported is not None:
            console.print(f"Review table: {status.exported} ({len(status.segments)} segments). Edit the names, descriptions "
                          f"and actions (en, fr), and merge_into to merge a segment into another; then: custseg review "
                          f"{run_dir} --apply {status.exported} --by \"Your Name\"", markup=False, soft_wrap=True)
            return
        if status.applied is not None:
            _print_applied(status)
        _print_status(status)


def _print_applied(status) -> None:
    record = status.applied
    changes = record["changes"]
    console.print(f"Applied {record['file']} (sha256 {record['sha256'][:12]}) by {record['by']}: {len(changes)} change(s), "
                  f"{record['segments_before']} -> {record['segments_after']} segments.", markup=False, soft_wrap=True)
    for change in changes[:CHANGE_LIMIT]:
        if change["field"] == "merge_into":
            console.print(f"  segment {change['segment_id']} merged into {change['new']}", markup=False)
        else:
            console.print(f"  segment {change['segment_id']} {change['field']}: {change['old']!r} -> {change['new']!r}",
                          markup=False, soft_wrap=True)
    if len(changes) > CHANGE_LIMIT:
        console.print(f"  ... {len(changes) - CHANGE_LIMIT} more in run.json", markup=False)
    for sid in record.get("texts_made_by_rules", []):
        console.print(f"  segment {sid}: texts made by the rules from its merged numbers (its old ones described it before "
                      "it grew; edit them in the table to set your own)", markup=False, soft_wrap=True)
    if record.get("score_differs"):
        console.print(f"Warning: {record['score_differs']:,} customer(s) are nearer a centroid of another segment than of "
                      "their own: scoring assigns by nearest centroid (docs/methods.md).", markup=False, style="yellow")
    kept = f"; kept as they were: {', '.join(status.kept)}" if status.kept else ""
    if record.get("cleared_approval"):
        kept += f"; the approval by {record['cleared_approval']['by']} is cleared"
    console.print(f"Every output of {status.run_dir} rewritten{kept}.", markup=False, soft_wrap=True)


def _print_status(status) -> None:
    table = Table(title=f"{len(status.segments)} segments of {status.run_dir}")
    for column in ("id", "name", "customers", "share", "revenue share"):
        table.add_column(column, justify="left" if column == "name" else "right")
    for row in status.segments.to_dict("records"):
        revenue = "" if row["revenue_share"] != row["revenue_share"] else f"{row['revenue_share']:.1%}"
        table.add_row(str(row["segment_id"]), str(row["name"]), f"{row['size']:,}", f"{row['customer_share']:.1%}", revenue)
    console.print(table)
    for record in status.reviews:
        console.print(f"Reviewed by {record['by']} on {record['at'][:10]}: {len(record['changes'])} change(s) "
                      f"({record['file']}).", markup=False, soft_wrap=True)
    if not status.reviews:
        console.print("Not reviewed yet.", markup=False)
    for flag in status.to_review:
        console.print(f"To review: segment {flag['segment_id']} {flag['en']}.", markup=False, style="yellow", soft_wrap=True)
    if status.approval.approved:
        console.print(f"Approved by {status.approval.by} on {status.approval.at[:10]}: assignments.parquet, profiles.csv and "
                      "model.json are those approved.", markup=False, soft_wrap=True)
    else:
        console.print(f"Not approved: {status.approval.reason}. To approve: custseg review {status.run_dir} --approve "
                      "--by \"Your Name\"", markup=False, soft_wrap=True)
