"""`custseg salesforce pull|push|rollback|fields`: thin adapters over `custseg._salesforce`, one call each."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ._support import console, error_console, reported_errors, split_list
from .._config import load_toml
from .._errors import UsageError
from .. import _salesforce as salesforce
from .._salesforce._settings import DEFAULT_API_VERSION, connection_config

app = typer.Typer(
    help=(
        "Salesforce round trip: pull CPQ sales lines with Bulk API 2.0, push each customer's segment to its "
        "Account record (and roll it back), and write the field metadata an admin deploys. Credentials come from environment "
        "variables (SF_INSTANCE_URL + SF_ACCESS_TOKEN, or JWT, client credentials, password); see docs/salesforce.md."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Debug = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]
Config = Annotated[Optional[Path], typer.Option("--config", help="custseg.toml with a salesforce table (non-secret settings).")]
SegmentField = Annotated[Optional[str], typer.Option(help="Field receiving the segment name (default Segment__c).")]
SegmentIdField = Annotated[Optional[str], typer.Option(help="Number field receiving the segment id (default Segment_Id__c; '' leaves it out).")]
ActionField = Annotated[Optional[str], typer.Option(help="Text field receiving the segment's action (default Segment_Action__c; '' leaves it out).")]
DateField = Annotated[Optional[str], typer.Option(help="Date field receiving the run date (default Segment_Date__c; '' leaves it out).")]
ScoreField = Annotated[Optional[str], typer.Option(help="Number field receiving the distance to the segment center (default: none).")]
ModelField = Annotated[Optional[str], typer.Option(help="Text field receiving the model identifier (default: none).")]
JobTimeout = Annotated[Optional[float], typer.Option(
    "--job-timeout", help="Minutes to wait for one Bulk job before stopping (default 30; [salesforce] job_timeout_minutes).")]
STAGES = {"pull": "pulling rows", "read": "reading current values", "send": "updating records"}


def _client(file_config: dict, job_timeout: float | None):
    """A client for the environment's credentials and custseg.toml, with --job-timeout applied."""
    settings = salesforce.settings_from_env(file_config)
    return salesforce.connect(settings if job_timeout is None else replace(settings, job_timeout_minutes=job_timeout))


def _config(path: Path | None) -> dict:
    config = load_toml(path) if path else {}
    connection_config(config)  # refuse secrets and unknown keys early
    return config


class _Bar:
    """A rich progress bar (on stderr, only on a terminal) fed by the library's progress callback."""

    def __init__(self) -> None:
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=error_console, transient=True,
                                 disable=not error_console.is_terminal)
        self.tasks: dict[str, int] = {}

    def __enter__(self) -> "_Bar":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(STAGES.get(stage, stage), total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)


@app.command()
def pull(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write: .parquet, .csv or .xlsx.")],
    year: Annotated[Optional[int], typer.Option(help="Only rows whose date field falls in this year (UTC).")] = None,
    since: Annotated[Optional[str], typer.Option(help="Only rows on or after this day, YYYY-MM-DD.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only rows on or before this day, YYYY-MM-DD.")] = None,
    date_field: Annotated[Optional[str], typer.Option(help="Date or datetime field the dates filter on (default CreatedDate).")] = None,
    object_name: Annotated[Optional[str], typer.Option("--object", help="Object to query (default SBQQ__Subscription__c).")] = None,
    fields: Annotated[Optional[str], typer.Option(help="Comma-separated SOQL fields (default: the CPQ fields of the salesforce-cpq preset).")] = None,
    page_size: Annotated[Optional[int], typer.Option(help="Rows per result page (default 50000).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output file.")] = False,
    job_timeout: JobTimeout = None,
    config: Config = None,
    debug: Debug = False,
) -> None:
    """Pull sales lines with a Bulk API 2.0 query, page by page, into a file `custseg run` reads."""
    with reported_errors(debug):
        file_config = _config(config)
        options = salesforce.PullOptions.from_config(file_config)
        overrides = {"object_name": object_name, "fields": split_list(fields), "date_field": date_field, "page_size": page_size}
        options = replace(options, **{k: v for k, v in overrides.items() if v is not None})
        options = options.with_window(year, since, until)
        client = _client(file_config, job_timeout)
        with _Bar() as bar:
            report = salesforce.pull_records(client, output, options, overwrite=overwrite, progress=bar)
        console.print(f"SOQL: {report.soql}", markup=False, soft_wrap=True)
        console.print(f"{report.rows:,} rows in {report.pages} page(s) written to {output} (query job {report.job_id}).",
                      markup=False, soft_wrap=True)
        console.print(f"Currency: {report.currency_note}.", markup=False, soft_wrap=True)


def _print_push(report) -> None:
    table = Table(title=f"{report.object_name}: {', '.join(report.fields.values())}")
    table.add_column("customers", justify="left")
    table.add_column("count", justify="right")
    rows = [("in the run", report.customers), ("unchanged", report.unchanged), ("to change", report.to_change),
            ("not found in Salesforce", report.not_found)]
    if report.mode == "apply":
        rows += [("updated", report.updated), ("failed", report.failed), ("retried", report.retried)]
    for label, value in rows:
        table.add_row(label, f"{value:,}")
    console.print(table)
    if report.transitions:
        changes = Table(title="segment changes")
        for column in ("from", "to", "count"):
            changes.add_column(column, justify="right" if column == "count" else "left")
        for item in report.transitions[:20]:
            changes.add_row(item["from"] or "(empty)", item["to"], f"{item['count']:,}")
        if len(report.transitions) > 20:
            changes.add_row("...", f"{len(report.transitions) - 20} more in diff.csv", "")
        console.print(changes)
    if report.rewritten:
        console.print(f"Note: {report.rewrite_note()}.", markup=False, soft_wrap=True)
    files = ", ".join(v for k, v in report.files.items() if k not in ("rollback_copy",))
    console.print(f"Files in {report.out_dir}: {files}", markup=False, soft_wrap=True)


def _problems(report, apply: bool, force: bool) -> list[str]:
    """What a push or rollback left undone, one clause each (the command then exits 1)."""
    problems = []
    if apply and report.failed:
        problems.append(f"{report.failed:,} row(s) were not updated (see {report.out_dir / report.files['failures']}): fix them "
                        "and run again, only what still differs is sent")
    if report.changed_since and not force:
        left = "are left as they are" if apply else "would be left as they are"
        problems.append(f"{report.changed_since:,} record(s) changed since custseg wrote them (by someone else or a later "
                        f"push) {left} (see {report.out_dir / report.files['changed_since']}); --force puts them back too")
    if report.not_found:
        problems.append(f"{report.not_found:,} of {report.customers:,} customer(s) have no {report.object_name} visible to this "
                        f"user: deleted, merged or not shared (see {report.out_dir / report.files['not_found']})")
    return problems


def _conclude(report, apply: bool, to_send: str, done: str, nothing: str, force: bool = False) -> None:
    """The last lines of a push or rollback; exit 1 when rows failed, records were left or customers not found."""
    if report.customers and report.not_found == report.customers:
        error_console.print(f"Error: none of the {report.customers:,} customer(s) has an {report.object_name} in this org visible "
                            f"to this user (see {report.out_dir / 'not_found.csv'}); nothing was sent: check that "
                            "SF_INSTANCE_URL / SF_DOMAIN point at the org the data came from", markup=False, soft_wrap=True)
        raise typer.Exit(1)
    if not apply:
        console.print(f"Dry run: nothing was sent. Check {to_send} and {to_send.replace('to_send', 'diff')}, "
                      "then run again with --apply.", markup=False, soft_wrap=True)
    elif report.updated:
        console.print(done.format(updated=report.updated, out_dir=report.out_dir, copy=report.files.get("rollback_copy", "")),
                      markup=False, soft_wrap=True)
    elif not report.failed and not (report.changed_since and not force):
        console.print(f"{nothing}.", markup=False, soft_wrap=True)
    if report.changed_since and force:
        console.print(f"Warning: {report.changed_since:,} record(s) changed since custseg wrote them are put back anyway "
                      f"(--force; see {report.out_dir / report.files['changed_since']}).", markup=False, style="yellow",
                      soft_wrap=True)
    problems = _problems(report, apply, force)
    if problems:
        error_console.print(f"Error: {'; '.join(problems)}.", markup=False, soft_wrap=True)
        raise typer.Exit(1)


@app.command()
def push(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by `custseg run` (reads assignments.parquet).")],
    apply: Annotated[bool, typer.Option("--apply", help="Send the changes. Without it: dry run, nothing is written to Salesforce.")] = False,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Folder for the push files (default RUN_DIR/salesforce).")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Rows per Bulk API update job (default 10000).")] = None,
    segment_field: SegmentField = None, segment_id_field: SegmentIdField = None, action_field: ActionField = None,
    date_field: DateField = None, score_field: ScoreField = None, model_field: ModelField = None,
    max_retries: Annotated[Optional[int], typer.Option(help="Retries of rows refused with UNABLE_TO_LOCK_ROW (default 3).")] = None,
    unapproved: Annotated[bool, typer.Option("--unapproved", help="Let --apply send a run nobody approved (recorded in the audit).")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Write to_send.csv without connecting (no credentials; every customer, no diff).")] = False,
    job_timeout: JobTimeout = None,
    config: Config = None,
    debug: Debug = False,
) -> None:
    """Write each customer's segment, id, action and run date to its Account record, only where they change (dry run
    unless --apply; --apply needs an approved run)."""
    with reported_errors(debug):
        file_config = _config(config)
        fields = salesforce.PushFields.from_config(file_config, segment=segment_field, segment_id=segment_id_field,
                                                   action=action_field, date=date_field, score=score_field, model=model_field)
        settings = salesforce.push_settings(file_config)
        if offline:
            if apply:
                raise UsageError("--offline writes the CSV without connecting; it cannot --apply")
            _print_offline(salesforce.write_offline(run_dir, fields, out_dir=output), run_dir)
            return
        if batch_size is not None:
            settings["batch_size"] = batch_size
        if max_retries is not None:
            settings["max_retries"] = max_retries
        client = _client(file_config, job_timeout)
        with _Bar() as bar:
            report = salesforce.push_segments(run_dir, client, fields=fields, apply=apply, out_dir=output, progress=bar,
                                              unapproved=unapproved, **settings)
        _print_push(report)
        _print_approval(report, run_dir)
        _conclude(report, apply, "to_send.csv", "Done: {updated:,} record(s) updated; previous values in {out_dir}/rollback.csv.",
                  "Nothing to send: the Accounts found already have these values")


def _print_approval(report, run_dir: Path) -> None:
    """The run's sign-off: who approved it, or that it was not (and what --apply does then)."""
    approval = report.approval
    if approval.get("approved"):
        console.print(f"Run {approval['reason']}.", markup=False, soft_wrap=True)
    elif approval.get("unapproved"):
        console.print(f"Warning: {run_dir} is not approved ({approval['reason']}); sent anyway (--unapproved, recorded in "
                      "the audit).", markup=False, style="yellow", soft_wrap=True)
    else:
        console.print(f"Not approved ({approval.get('reason')}): --apply will refuse it until custseg review {run_dir} "
                      "--approve --by \"Your Name\".", markup=False, soft_wrap=True)


def _print_offline(report, run_dir: Path) -> None:
    console.print(f"Offline: {report.customers:,} customer(s) written to {report.out_dir / report.files['to_send']} "
                  f"({', '.join(report.fields.values())} of {report.object_name}). Without a connection custseg cannot read "
                  "the org: the file lists every customer, whether or not its values already hold, and no diff is shown. "
                  "Load it with Data Loader or sf data update bulk (docs/salesforce.md).", markup=False, soft_wrap=True)
    _print_approval(report, run_dir)


@app.command()
def rollback(
    run_dir: Annotated[Path, typer.Argument(help="Run directory pushed with --apply (reads RUN_DIR/salesforce/rollback.csv).")],
    apply: Annotated[bool, typer.Option("--apply", help="Send the old values. Without it: dry run, nothing is written to Salesforce.")] = False,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Folder of the push files (default RUN_DIR/salesforce).")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Rows per Bulk API update job (default 10000).")] = None,
    object_name: Annotated[Optional[str], typer.Option("--object", help="Object pushed to (default Account).")] = None,
    job_timeout: JobTimeout = None,
    force: Annotated[bool, typer.Option("--force", help="Also put back records changed since custseg wrote them (by someone else or a later push).")] = False,
    config: Config = None,
    debug: Debug = False,
) -> None:
    """Put back the values from before the first push (rollback.csv), only where they differ (dry run unless --apply)."""
    with reported_errors(debug):
        file_config = _config(config)
        settings = salesforce.push_settings(file_config)
        if batch_size is not None:
            settings["batch_size"] = batch_size
        target = object_name or salesforce.PushFields.from_config(file_config).object_name
        client = _client(file_config, job_timeout)
        with _Bar() as bar:
            report = salesforce.rollback_segments(run_dir, client, apply=apply, out_dir=output, object_name=target, progress=bar,
                                                  force=force, **settings)
        _print_push(report)
        _conclude(report, apply, "undo_to_send.csv",
                  "Done: {updated:,} record(s) put back; the values they had are in {out_dir}/{copy}.",
                  "Nothing to put back: Salesforce already holds the values of rollback.csv", force)


@app.command()
def fields(
    output: Annotated[Path, typer.Option("-o", "--output", help="SFDX source folder to write.")] = Path("sfdx"),
    segment_field: SegmentField = None, segment_id_field: SegmentIdField = None, action_field: ActionField = None,
    date_field: DateField = None, score_field: ScoreField = None, model_field: ModelField = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing folder.")] = False,
    config: Config = None,
    debug: Debug = False,
) -> None:
    """Write the CustomField metadata and permission sets for an admin to deploy (no Salesforce access needed)."""
    with reported_errors(debug):
        file_config = _config(config)
        targets = salesforce.PushFields.from_config(file_config, segment=segment_field, segment_id=segment_id_field,
                                                    action=action_field, date=date_field, score=score_field, model=model_field)
        version = str(file_config.get("salesforce", {}).get("api_version", DEFAULT_API_VERSION))
        written = salesforce.write_field_metadata(output, targets, api_version=version, overwrite=overwrite)
        for path in written:
            console.print(f"  {path}", markup=False)
        console.print(f"Fields {', '.join(targets.targets().values())} on {targets.object_name}: give {output} to a Salesforce admin "
                      f"(steps in {output / 'README.md'}: deploy, assign the permission sets, add the fields to the page layout).",
                      markup=False, soft_wrap=True)
