"""`pathway fhir export|import` and `pathway users calendar-link|calendar-revoke` through the real CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from fhir.resources.R4B import get_fhir_model_class

from tests.e2e.conftest import Cli, as_json, ok


def test_export_one_patient_and_everyone_in_the_bulk_data_layout(cli: Cli, tmp_path: Path) -> None:
    ok(cli("init", "--demo"))
    single = tmp_path / "demo-006.json"
    ok(cli("fhir", "export", "DEMO-006", "--out", str(single)))
    bundle = json.loads(single.read_text())
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    assert json.loads(ok(cli("fhir", "export", "DEMO-006")).stdout) == {
        **bundle,
        "timestamp": bundle["timestamp"],
    }

    folder = tmp_path / "bulk"
    out = ok(cli("fhir", "export", "--all", "--out", str(folder))).stdout
    counts: Counter[str] = Counter()
    for path in sorted(folder.iterdir()):
        assert path.suffix == ".ndjson", path
        for line in path.read_text().splitlines():
            resource = json.loads(line)
            assert resource["resourceType"] == path.stem
            get_fhir_model_class(path.stem).model_validate(resource)
            counts[path.stem] += 1
    assert counts["Patient"] == 12 and f"{sum(counts.values())} resource(s)" in out


def test_import_dry_run_then_import_then_again(cli: Cli, tmp_path: Path) -> None:
    ok(cli("init"))
    ok(cli("enroll", "FHIR-9", "--on", "2026-02-20"))
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "id": "p",
                    "identifier": [{"system": "urn:oid:1.2.3", "value": "FHIR-9"}],
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "o1",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
                    "subject": {"reference": "Patient/p"},
                    "effectiveDateTime": "2026-03-01T10:00:00Z",
                    "valueQuantity": {"value": 5},
                }
            },
            {"resource": {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p"}}},
        ],
    }
    path = tmp_path / "in.json"
    path.write_text(json.dumps(bundle))
    env = {"PATHWAY_FHIR_MRN_SYSTEM": "urn:oid:1.2.3"}
    dry = ok(cli("fhir", "import", str(path), "--dry-run", env=env)).stdout
    assert "would record pain_score for FHIR-9" in dry and "not mapped: Condition/c1" in dry
    assert as_json(cli("history", "FHIR-9", "--json"))["events"] == []
    done = as_json(cli("fhir", "import", str(path), "--by", "lab.feed", "--json", env=env))
    assert [r["event"] for r in done["recorded"]] == ["pain_score"] and done["not_mapped"]
    again = as_json(cli("fhir", "import", str(path), "--json", env=env))
    assert again["recorded"] == [] and again["already_imported"] == ["Observation/o1"]
    events = as_json(cli("history", "FHIR-9", "--json"))["events"]
    assert [(e["event"], e["actor"]) for e in events] == [("pain_score", "lab.feed")]
    other_site = cli("fhir", "import", str(path), "--json")  # default MRN system: the patient is not found
    assert as_json(other_site)["recorded"] == []


def test_bad_input_is_refused_with_one_line_and_exit_2(cli: Cli, tmp_path: Path) -> None:
    ok(cli("init"))
    not_json = tmp_path / "x.json"
    not_json.write_text("{")
    for args in (["fhir", "import", str(not_json)], ["fhir", "export"], ["fhir", "export", "--all"]):
        result = cli(*args)
        assert (
            result.exit_code == 2 and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
        ), args


def test_calendar_link_and_revoke(cli: Cli) -> None:
    ok(cli("init"))
    admin = {"PATHWAY_TOKEN": ok(cli("users", "add", "a.admin", "--role", "admin")).stdout.split()[-1]}
    ok(cli("users", "add", "c.two", "--role", "coordinator", env=admin))
    out = ok(cli("users", "calendar-link", "c.two", env=admin)).stdout
    assert "/calendar/" in out and out.strip().endswith(".ics")
    assert "revoked" in ok(cli("users", "calendar-revoke", "c.two", env=admin)).stdout
    assert cli("users", "calendar-revoke", "c.two", env=admin).exit_code == 2
    assert cli("users", "calendar-link", "nobody", env=admin).exit_code == 2
