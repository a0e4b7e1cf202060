"""Involved sites, fracture risk and the imaging regions they imply, through the real CLI (SQLite and
PostgreSQL, freezegun): A29 (SINS >= 7 without a surgical or orthopaedic consult in 14 days), A31
(ilium or SI joint without an orthopaedic/MDT fracture-risk review) and T09 regions from the sites."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok, refused

MDT = ("--set", "resectability=unresectable", "--set", "plan=definitive_rt")


def live(cli: Cli, mrn: str, rule: str) -> list[str]:
    return [a["severity"] for a in as_json(cli("alerts", "--mrn", mrn, "--json")) if a["rule"] == rule]


def follow_ups(cli: Cli, mrn: str, rule: str) -> list[dict[str, Any]]:
    return [f for f in as_json(cli("status", mrn, "--json"))["follow_ups"] if f["rule"] == rule]


def test_ilium_involvement_needs_an_orthopaedic_or_mdt_review_within_fourteen_days(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02", "--set", "sites=ilium,sacral_canal"))
    ok(cli("enroll", "MRN-2", "--on", "2026-03-02", "--set", "sites=si_joint"))
    ok(cli("enroll", "MRN-3", "--on", "2026-03-02", "--set", "sites=SI_joint"))
    ok(cli("enroll", "MRN-4", "--on", "2026-03-02", "--set", "sites=sacral_canal,s1_s3_neuroforamina"))
    [a31] = follow_ups(cli, "MRN-1", "A31")
    assert a31["closes"] == "2026-03-16"
    assert follow_ups(cli, "MRN-4", "A31") == []

    frozen.move_to("2026-03-10 10:00+00:00")
    ok(cli("record", "MRN-2", "surgical_consult", "--set", "specialty=orthopaedic"))
    ok(cli("record", "MRN-3", "surgical_consult", "--set", "specialty=surgical"))  # not a fracture review
    ok(cli("record", "MRN-3", "fracture_risk_assessed", "--set", "sins=4", "--set", "ortho_review=no"))

    frozen.move_to("2026-03-16 23:59+00:00")  # the last minute of the window
    ok(cli("sweep"))
    assert [live(cli, m, "A31") for m in ("MRN-1", "MRN-2", "MRN-3", "MRN-4")] == [[], [], [], []]
    frozen.move_to("2026-03-17 00:01+00:00")
    ok(cli("sweep"))
    assert [live(cli, m, "A31") for m in ("MRN-1", "MRN-2", "MRN-3", "MRN-4")] == [
        ["warning"],
        [],
        ["warning"],
        [],
    ]

    ok(cli("record", "MRN-3", "fracture_risk_assessed", "--set", "sins=4", "--set", "ortho_review=yes"))
    assert live(cli, "MRN-3", "A31") == []


def test_sins_seven_or_more_needs_a_surgical_or_orthopaedic_consult_within_fourteen_days(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("init"))
    for mrn, sins in (("MRN-1", "7"), ("MRN-2", "6"), ("MRN-3", "12")):
        ok(cli("enroll", mrn, "--on", "2026-03-02"))
        ok(cli("record", mrn, "fracture_risk_assessed", "--on", "2026-03-02", "--set", f"sins={sins}"))
    assert [f["closes"] for f in follow_ups(cli, "MRN-1", "T29")] == ["2026-03-16"]
    assert follow_ups(cli, "MRN-2", "T29") == []  # below sins_surgical_consult
    frozen.move_to("2026-03-16 12:00+00:00")
    ok(cli("record", "MRN-3", "surgical_consult", "--set", "specialty=surgical"))  # on the last day
    frozen.move_to("2026-03-17 00:01+00:00")
    ok(cli("sweep"))
    assert [live(cli, m, "A29") for m in ("MRN-1", "MRN-2", "MRN-3")] == [["warning"], [], []]
    ok(cli("record", "MRN-1", "surgical_consult", "--set", "specialty=orthopaedic"))
    assert live(cli, "MRN-1", "A29") == []


def regions(cli: Cli, mrn: str) -> list[str]:
    return sorted(
        f["region"] for f in follow_ups(cli, mrn, "T09") if f["status"] not in ("done", "cancelled")
    )


def test_the_imaging_regions_follow_the_recorded_sites(cli: Cli, frozen: FrozenDateTimeFactory) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02"))  # no sites recorded: today's two regions
    ok(cli("enroll", "MRN-2", "--on", "2026-03-02", "--set", "sites=ilium", "--set", "metastatic_sites=none"))
    ok(cli("enroll", "MRN-3", "--on", "2026-03-02", "--set", "metastatic_sites=lung,liver"))
    frozen.move_to("2026-05-02 10:00+01:00")
    for mrn in ("MRN-1", "MRN-2", "MRN-3"):
        ok(cli("record", mrn, "mdt_decision", *MDT, "--on", "2026-03-05"))
        ok(cli("record", mrn, "rt_started", "--on", "2026-03-20"))
        ok(cli("record", mrn, "rt_completed", "--on", "2026-05-01"))
    assert regions(cli, "MRN-1") == ["chest", "pelvis_sacrum"]
    assert regions(cli, "MRN-2") == ["pelvis_sacrum"]
    assert regions(cli, "MRN-3") == ["chest", "pelvis_sacrum"]

    frozen.move_to("2026-05-20 10:00+01:00")  # restaging finds lung disease: the chest is followed
    ok(cli("record", "MRN-2", "staging_recorded", "--set", "metastatic_sites=lung"))
    assert regions(cli, "MRN-2") == ["chest", "pelvis_sacrum"]
    [chest] = [f for f in follow_ups(cli, "MRN-2", "T09") if f["region"] == "chest"]
    assert chest["opens"] == "2026-07-01"  # 6 weeks after the restaging


def test_an_unknown_site_is_refused_and_nothing_is_enrolled(cli: Cli) -> None:
    ok(cli("init"))
    line = refused(cli("enroll", "MRN-1", "--set", "sites=ilium,femur"))
    assert "'femur' is not allowed" in line and "ilium" in line
    assert "no patient" in cli("status", "MRN-1").stderr
