"""Pathway change control through the real CLI (issue 12 item 10): T09's window closes at 14 weeks
instead of 12 in a copy of the shipped file; the diff shows it (loosening) and the patients it
moves; the sweep refuses the file until it is applied; a coordinator cannot approve a loosening;
a clinician can; windows move, open alert texts follow, and the history lists the version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory

from config import DEFAULT_PATHWAY
from tests.e2e.conftest import Cli, as_json, ok, refused

OLD_WINDOW = "window: {opens: 6w, target: 8w, closes: 12w}"
NEW_WINDOW = "window: {opens: 6w, target: 8w, closes: 14w}"
OLD_SOURCE = 'source: "Seed: imaging every 6-12 weeks; critical grace'
NEW_SOURCE = 'source: "Local change 2026-06: imaging every 6-14 weeks; critical grace'


@pytest.fixture
def new_file(tmp_path: Path) -> Path:
    text = DEFAULT_PATHWAY.read_text(encoding="utf-8")
    assert text.count(OLD_WINDOW) == 1 and text.count(OLD_SOURCE) == 1
    path = tmp_path / "new.yaml"
    path.write_text(text.replace(OLD_WINDOW, NEW_WINDOW).replace(OLD_SOURCE, NEW_SOURCE), encoding="utf-8")
    return path


def on_rt(cli: Cli, mrn: str, enrolled: str, completed: str) -> None:
    ok(cli("enroll", mrn, "--histology", "sts", "--on", enrolled))
    decision = ("--set", "resectability=unresectable", "--set", "plan=definitive_rt")
    ok(cli("record", mrn, "mdt_decision", "--on", enrolled, *decision))
    ok(cli("record", mrn, "rt_started", "--on", enrolled))
    ok(cli("record", mrn, "rt_completed", "--on", completed))


def t09(cli: Cli, mrn: str, env: dict[str, str] | None = None) -> dict[str | None, dict[str, Any]]:
    status = as_json(cli("status", mrn, "--json", env=env))
    return {f["region"]: f for f in status["follow_ups"] if f["rule"] == "T09"}


def a10(cli: Cli, mrn: str) -> list[dict[str, Any]]:
    return [a for a in as_json(cli("alerts", "--mrn", mrn, "--json")) if a["rule"] == "A10"]


def test_a_pathway_change_is_diffed_refused_until_applied_approved_and_applied(
    cli: Cli, frozen: FrozenDateTimeFactory, new_file: Path
) -> None:
    assert "recorded as version 1" in ok(cli("init")).stdout
    frozen.move_to("2026-03-10 09:00+00:00")
    on_rt(cli, "P-1", "2026-03-02", "2026-03-04")  # T09 closes 2026-05-27 (12 weeks)
    frozen.move_to("2026-05-20 09:00+00:00")
    on_rt(cli, "P-2", "2026-05-18", "2026-05-20")  # T09 closes 2026-08-12
    frozen.move_to("2026-06-20 09:00+00:00")
    ok(cli("sweep"))
    before = a10(cli, "P-1")
    assert {a["severity"] for a in before} == {"warning"} and len(before) == 2
    assert all("window closes 2026-05-27" in a["message"] for a in before)
    assert t09(cli, "P-2")["chest"]["closes"] == "2026-08-12"

    # the diff: T09's close is later (loosening), A10's source is words only; who would move
    diff = as_json(cli("pathway-diff", str(new_file), "--json"))
    by_path = {(c["item"], c["path"]): c for c in diff["changes"]}
    closes = by_path[("T09", "window.closes")]
    assert (closes["section"], closes["old"], closes["new"]) == ("follow_ups", "12w", "14w")
    assert (closes["effect"], closes["why"]) == ("loosening", "later window closes")
    assert by_path[("T09", "alert.source")]["effect"] == "neutral"
    assert diff["summary"] == {"loosening": 1, "tightening": 0, "neutral": 1}
    impact = diff["impact"]
    assert impact["live_patients"] == 2 and impact["patients_affected"] == 2
    assert impact["open_windows_moving"] == 4 and impact["open_alerts_changing"] == 2
    moved = {(m["mrn"], m["region"]): (m["before"], m["after"]) for m in impact["first"]}
    assert moved[("P-1", "chest")] == (
        "2026-04-15 / 2026-04-29 / 2026-05-27",
        "2026-04-15 / 2026-04-29 / 2026-06-10",
    )
    assert moved[("P-2", "pelvis_sacrum")][1].endswith("2026-08-26")
    text = ok(cli("pathway-diff", str(new_file))).stdout
    assert "window.closes: 12w → 14w  [loosening: later window closes]" in text
    assert "P-1 T09 (chest): opens / target / closes" in text

    # the new file in place: the sweep refuses it and says what to run; status warns
    new = {"PATHWAY_PATHWAY_FILE": str(new_file)}
    line = refused(cli("sweep", env=new))
    assert "not the last applied version 1" in line
    assert f"pathway pathway-apply {new_file} --approved-by NAME --note TEXT" in line
    warned = cli("status", "P-1", env=new)
    assert warned.exit_code == 0 and "warning: the pathway file loaded" in warned.stderr

    # accounts: a coordinator cannot approve a loosening; a clinician can
    admin = {"PATHWAY_TOKEN": ok(cli("users", "add", "a.admin", "--role", "admin")).stdout.split()[-1]}
    for name, role in (("c.jones", "coordinator"), ("dr.lee", "clinician")):
        ok(cli("users", "add", name, "--role", role, env=admin))
    apply = ("pathway-apply", str(new_file), "--note", "T09 window closes at 14 weeks")
    assert "--approved-by must name a clinician" in refused(
        cli(*apply, "--approved-by", "c.jones", env=new | admin)
    )
    assert "no active user account" in refused(cli(*apply, "--approved-by", "nobody", env=new | admin))
    assert "not the pathway file in effect" in refused(cli(*apply, "--approved-by", "dr.lee", env=admin))
    assert [v["number"] for v in as_json(cli("pathway-history", "--json"))] == [1]
    out = ok(cli(*apply, "--approved-by", "dr.lee", env=new | admin)).stdout
    assert "pathway version 2" in out and "approved by dr.lee" in out and "2 text(s) refreshed" in out

    # windows moved, open alerts re-texted (message and source), the sweep runs again
    assert t09(cli, "P-1", new)["chest"]["closes"] == "2026-06-10"
    assert t09(cli, "P-2", new)["pelvis_sacrum"]["closes"] == "2026-08-26"
    assert "2026-06-10" in ok(cli("why", "P-1", "T09", env=new)).stdout
    after = a10(cli, "P-1")
    assert [a["id"] for a in after] == [a["id"] for a in before]  # the same alerts, not new ones
    assert all("window closes 2026-06-10" in a["message"] for a in after)
    assert all(a["source"].startswith("Local change 2026-06") for a in after)
    ok(cli("sweep", env=new))
    assert "warning" not in cli("status", "P-1", env=new).stderr
    refused(cli("sweep"))  # the old file is no longer the one applied

    history = as_json(cli("pathway-history", "--json"))
    assert [(v["number"], v["approved_by"], v["applied_by"]) for v in history] == [
        (2, "dr.lee", "a.admin"),
        (1, "pathway init", "pathway init"),
    ]
    assert history[0]["note"] == "T09 window closes at 14 weeks" and history[0]["rederived"]
    assert "1 loosening" in history[0]["summary"]
    assert "T09 window closes at 14 weeks" in ok(cli("pathway-history")).stdout
    assert "already applied as version 2" in cli(*apply, "--approved-by", "dr.lee", env=new | admin).stderr


def test_a_malformed_file_is_refused_and_nothing_is_written(cli: Cli, tmp_path: Path) -> None:
    ok(cli("init"))
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT_PATHWAY.read_text(encoding="utf-8").replace("closes: 12w", "closes: 2w"))
    for command in ("pathway-diff", "pathway-apply"):
        args = (command, str(bad)) + (
            ("--approved-by", "dr.lee", "--note", "x") if "apply" in command else ()
        )
        assert "rules.follow_ups.T09.window" in refused(cli(*args))
    assert [v["number"] for v in as_json(cli("pathway-history", "--json"))] == [1]
    ok(cli("sweep"))


def test_a_tightening_with_no_accounts_is_recorded_as_declared(cli: Cli, tmp_path: Path) -> None:
    ok(cli("init"))
    path = tmp_path / "tight.yaml"
    path.write_text(
        DEFAULT_PATHWAY.read_text(encoding="utf-8").replace(
            OLD_WINDOW, "window: {opens: 6w, target: 8w, closes: 11w}"
        )
    )
    diff = as_json(cli("pathway-diff", str(path), "--json"))
    assert [(c["path"], c["effect"]) for c in diff["changes"]] == [("window.closes", "tightening")]
    env = {"PATHWAY_PATHWAY_FILE": str(path)}
    ok(cli("pathway-apply", str(path), "--approved-by", "Dr Somebody", "--note", "tighter", env=env))
    assert as_json(cli("pathway-history", "--json"))[0]["approved_by"] == "Dr Somebody"
    ok(cli("sweep", env=env))
