"""Pathway change control: pathway-diff, pathway-apply, pathway-history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from pathway.adapters.pathway_file import parse_pathway_text
from pathway.bootstrap import App
from pathway.cli import render
from pathway.cli.common import ACTS_AS, JsonOpt, acting, app, get_app, handles_errors
from pathway.domain.clinical_time import local_date
from pathway.domain.definition import PathwayDefinition
from pathway.domain.errors import DefinitionError
from pathway.domain.pathway_diff import Change, summary
from pathway.ports import PathwayVersion
from pathway.services import pathway_change
from pathway.services.pathway_impact import Impact

FileArg = Annotated[Path, typer.Argument(help="The new pathway file (YAML).")]


def _read(path: Path) -> tuple[str, PathwayDefinition]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(f"{path}: cannot read the pathway file ({exc.strerror})") from None
    return text, parse_pathway_text(text, str(path))


def _base(application: App) -> PathwayDefinition:
    """The last applied file (as stored), or the loaded one when none is recorded."""
    version = pathway_change.latest(application.deps)
    if version is None:
        return application.deps.pathway.definition
    try:
        return parse_pathway_text(version.text, f"pathway version {version.number}")
    except DefinitionError:  # the code no longer reads the stored text: compare with the loaded file
        return application.deps.pathway.definition


def _value(value: Any) -> str:
    text = "—" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _changes(changes: list[Change]) -> None:
    item = None
    for c in changes:
        if (c.section, c.item) != item:
            item = (c.section, c.item)
            print(f"{c.section} {c.item}")
        where = c.path or "(rule)"
        print(f"  {where}: {_value(c.old)} → {_value(c.new)}  [{c.effect}: {c.why}]")
    counts = summary(changes)
    print(
        f"{len(changes)} change(s): {counts['loosening']} loosening, {counts['tightening']} tightening, "
        f"{counts['neutral']} neutral"
        + ("; a loosening needs --approved-by a clinician (rule book 4.2)" if counts["loosening"] else "")
    )


def _impact(impact: Impact) -> None:
    print(
        f"live patients: {impact.patients}; {impact.patients_moved} "
        f"affected: {impact.windows} open window(s) would move, {impact.alerts} open alert(s) would change"
    )
    for m in impact.first:
        region = f" ({m.region})" if m.region else ""
        print(f"  {m.mrn} {m.rule}{region}: opens / target / closes {m.before} → {m.after}")
    if impact.windows > len(impact.first):
        print(f"  (first {len(impact.first)} of {impact.windows} windows)")


@app.command("pathway-diff")
@handles_errors
def pathway_diff(file: FileArg, json_: JsonOpt = False) -> None:
    """What a new pathway file changes, rule by rule (loosening, tightening or neutral), and which
    live patients' open windows and alerts would move.

    Example: pathway pathway-diff config/pathways/new.yaml
    """
    application = get_app()
    _, new = _read(file)
    preview = pathway_change.preview(application.deps, _base(application), new)
    if json_:
        render.dump_json(preview.as_json())
        return
    base = preview.base
    origin = f"version {base.number} (hash {preview.old_hash})" if base else f"hash {preview.old_hash}"
    print(f"pathway-diff: {origin} → {file} (hash {preview.new_hash})")
    _changes(preview.changes)
    _impact(preview.impact)


@app.command("pathway-apply", epilog=ACTS_AS)
@handles_errors
def pathway_apply(
    file: FileArg,
    approved_by: Annotated[
        str, typer.Option("--approved-by", help="Who approved the change (a clinician to loosen).")
    ],
    note: Annotated[str, typer.Option(help="Why the pathway changes.")],
    json_: JsonOpt = False,
) -> None:
    """Apply the pathway file in effect: record the version (hash, approver, note, diff), re-derive
    every live patient and refresh open alerts' texts. Put the file in place first.

    Example: pathway pathway-apply new.yaml --approved-by dr.lee --note "T09 closes at 14 weeks"
    """
    application = get_app()
    actor = acting(application, "apply_pathway")
    text, new = _read(file)
    base = _base(application)
    done = pathway_change.apply(application.deps, new, base, text, actor.name, approved_by, note)
    v = done.version
    if json_:
        render.dump_json(
            _version_json(application, v)
            | {"resumed": done.resumed, "texts_refreshed": done.texts_refreshed}
            | {"rederived": done.totals.as_dict()}
        )
        return
    if not done.resumed:
        _changes(done.changes)
    t = done.totals
    print(
        f"pathway version {v.number} (hash {v.content_hash}) "
        + (
            "re-derivation finished"
            if done.resumed
            else f"applied by {v.applied_by}, approved by {v.approved_by}"
        )
        + f"; {t.patients} live patient(s) re-derived: {t.follow_ups_created} follow-up(s) created, "
        f"{t.follow_ups_changed} changed; alerts: {t.alerts_opened} opened, {t.alerts_resolved} resolved, "
        f"{done.texts_refreshed} text(s) refreshed"
    )


def _version_json(application: App, v: PathwayVersion) -> dict[str, Any]:
    return pathway_change.version_json(v, application.deps.zone)


@app.command("pathway-history")
@handles_errors
def pathway_history(json_: JsonOpt = False) -> None:
    """The applied pathway versions, newest first: when, hash, who approved, why, what changed.

    Example: pathway pathway-history
    """
    application = get_app()
    versions = pathway_change.history(application.deps)
    if json_:
        render.dump_json([_version_json(application, v) for v in versions])
        return
    zone = application.deps.zone
    for v in versions:
        s = pathway_change.change_summary(v)
        print(
            f"version {v.number}  {local_date(v.applied_at, zone)} {v.applied_at.astimezone(zone):%H:%M}  "
            f"hash {v.content_hash}  approved by {v.approved_by} (applied by {v.applied_by})  {s}"
        )
        print(f"    note: {v.note}")
    if not versions:
        print("no pathway version recorded yet (`pathway init` records the file in effect)")
