"""`pathway fhir export|import`: FHIR R4 Bundles and Bulk Data NDJSON out, Bundles in."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pathway.bootstrap import App
from pathway.cli import render
from pathway.cli.common import ACTS_AS, JsonOpt, acting, app, get_app, handles_errors
from pathway.domain.errors import InvalidInput

if TYPE_CHECKING:
    from pathway.interop.fhir_common import Site

fhir_app = typer.Typer(help="FHIR R4 export and import.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(fhir_app, name="fhir")


def site_of(application: App) -> Site:
    from pathway.interop.fhir_common import Site  # imported when used: the FHIR models are slow to load

    return Site(mrn_system=application.settings.fhir_mrn_system)


@fhir_app.command("export")
@handles_errors
def export(
    mrn: Annotated[str | None, typer.Argument(help="The patient's MRN (or --all).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every patient, NDJSON per resource type.")] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="A file for one patient (default stdout); a folder for --all."),
    ] = None,
) -> None:
    """Export one patient as a FHIR Bundle, or everyone as Bulk Data NDJSON files.

    Example: pathway fhir export MRN-1001 --out MRN-1001.json
    Example: pathway fhir export --all --out export/
    """
    if all_ == (mrn is not None):
        raise InvalidInput("give either an MRN or --all (with --out FOLDER)")
    application = get_app()
    from pathway.services import interop as interop_service

    if mrn is not None:
        text = json.dumps(
            interop_service.export_patient(application.deps, site_of(application), mrn), indent=2
        )
        if out is None:
            print(text)
        else:
            _write(out, text + "\n")
            print(f"wrote {out}")
        return
    if out is None:
        raise InvalidInput("--all needs --out FOLDER (one NDJSON file per resource type)")
    counts = export_ndjson(application, out)
    print(f"wrote {sum(counts.values())} resource(s) to {out}: " + _summary(counts))


def export_ndjson(application: App, folder: Path) -> Counter[str]:
    """Bulk Data layout: `<Type>.ndjson`, one resource per line; written to temporary names first."""
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"--out {folder}: not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    from pathway.services import interop as interop_service

    counts: Counter[str] = Counter()
    files: dict[str, Any] = {}
    try:
        for resource in interop_service.export_all(application.deps, site_of(application)):
            kind = resource["resourceType"]
            if kind not in files:
                files[kind] = (folder / f".{kind}.ndjson.part").open("w", encoding="utf-8")
            files[kind].write(json.dumps(resource, separators=(",", ":")) + "\n")
            counts[kind] += 1
    finally:
        for handle in files.values():
            handle.close()
    for kind in files:
        (folder / f".{kind}.ndjson.part").replace(folder / f"{kind}.ndjson")
    return counts


@fhir_app.command("import", epilog=ACTS_AS)
@handles_errors
def import_(
    bundle: Annotated[Path, typer.Argument(help="A FHIR R4 Bundle (JSON).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and list, record nothing.")] = False,
    by: Annotated[str | None, typer.Option("--by", help="Who records the events.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Record the Observations, Procedures, imaging and MedicationAdministrations of a Bundle as events.

    All in one transaction or nothing; a second import of the same Bundle records nothing again;
    resources that cannot be mapped are listed.

    Example: pathway fhir import results.json --dry-run
    """
    try:
        data = json.loads(bundle.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InvalidInput(f"{bundle}: cannot read ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{bundle}: not JSON ({exc.msg} at line {exc.lineno})") from None
    application = get_app()
    actor = acting(application, "record", by)
    from pathway.services import interop as interop_service

    result = interop_service.import_bundle(application.deps, site_of(application), data, actor.name, dry_run)
    if json_:
        render.dump_json(
            {
                "dry_run": result.dry_run,
                "recorded": [r.__dict__ for r in result.recorded],
                "already_imported": result.already,
                "not_mapped": [u.__dict__ for u in result.unmapped],
            }
        )
        return
    verb = "would record" if dry_run else "recorded"
    for r in result.recorded:
        print(
            f"{verb} {r.event} for {r.mrn} from {r.what}" + (f" (event {r.event_id})" if r.event_id else "")
        )
    by_reason: dict[str, list[str]] = {}
    for u in result.unmapped:
        by_reason.setdefault(u.reason, []).append(u.what)
    for reason, whats in by_reason.items():
        shown = ", ".join(whats[:3]) + (f" and {len(whats) - 3} more" if len(whats) > 3 else "")
        print(f"not mapped: {shown}: {reason}")
    print(
        f"{len(result.recorded)} event(s) {verb}, {len(result.already)} already imported, "
        f"{len(result.unmapped)} resource(s) not mapped" + (" (dry run: nothing saved)" if dry_run else "")
    )


def _write(path: Path, text: str) -> None:
    try:
        part = path.with_name(f".{path.name}.part")
        part.write_text(text, encoding="utf-8")
        part.replace(path)
    except OSError as exc:
        raise InvalidInput(f"--out {path}: cannot write ({exc.strerror})") from None


def _summary(counts: Counter[str]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "nothing"
