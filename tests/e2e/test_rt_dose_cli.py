"""A06 through the real CLI (SQLite and PostgreSQL, freezegun): the prescription is checked in EQD2
with the histology's alpha/beta, Gy(RBE) only against a Gy(RBE) range, and a prescription recorded
before the histology says it could not be checked, then is checked when the histology arrives."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Cli, as_json, ok

MDT = ("--set", "resectability=unresectable", "--set", "plan=definitive_rt")


def a06(cli: Cli, mrn: str, status: str = "live") -> list[dict[str, Any]]:
    alerts = as_json(cli("alerts", "--mrn", mrn, "--status", status, "--json"))
    return [a for a in alerts if a["rule"] == "A06"]


def prescribe(cli: Cli, mrn: str, *fields: str, histology: str | None = "sts") -> None:
    ok(cli("enroll", mrn, *(("--histology", histology) if histology else ()), "--on", "2026-03-02"))
    ok(cli("record", mrn, "mdt_decision", *MDT))
    ok(cli("record", mrn, "rt_plan_approved", *(f for pair in fields for f in ("--set", pair))))


def test_sixty_gray_in_five_fractions_is_flagged_in_eqd2_and_sixty_in_thirty_is_not(cli: Cli) -> None:
    ok(cli("init"))
    prescribe(cli, "MRN-1", "total_dose_gy=60", "fractions=5")
    [alert] = a06(cli, "MRN-1")
    assert alert["severity"] == "info"
    assert "60 Gy in 5 fractions = 160.0 Gy EQD2 (alpha/beta 4 Gy, proposal)" in alert["message"]
    assert "outside 60–65 Gy EQD2 for sts" in alert["message"]
    prescribe(cli, "MRN-2", "total_dose_gy=60", "fractions=30")
    assert a06(cli, "MRN-2") == []


@pytest.mark.parametrize(("dose", "fires"), [("59.9", True), ("60", False), ("65", False), ("65.1", True)])
def test_an_eqd2_prescription_is_compared_as_given_boundaries_included(
    cli: Cli, dose: str, fires: bool
) -> None:
    ok(cli("init"))
    prescribe(cli, "MRN-1", f"total_dose_gy={dose}", "fractions=5", "dose_unit=EQD2_Gy")
    assert len(a06(cli, "MRN-1")) == (1 if fires else 0)


def test_a_gy_rbe_prescription_is_never_silently_checked_against_an_eqd2_range(cli: Cli) -> None:
    ok(cli("init"))
    prescribe(cli, "MRN-1", "total_dose_gy=70", "fractions=16", "dose_unit=Gy_RBE", histology="chordoma")
    [alert] = a06(cli, "MRN-1")
    assert "70 Gy(RBE) in 16 fractions not checked: the range is in Gy EQD2, not Gy(RBE)" in alert["message"]


def test_before_histology_the_dose_is_not_checked_and_is_checked_when_histology_arrives(cli: Cli) -> None:
    ok(cli("init"))
    prescribe(cli, "MRN-1", "total_dose_gy=100", "fractions=50", histology=None)
    [waiting] = a06(cli, "MRN-1")
    assert waiting["severity"] == "info" and "dose could not be checked" in waiting["message"]
    assert "histology not recorded yet" in waiting["message"]

    ok(cli("record", "MRN-1", "histology_confirmed", "--set", "histology=sts"))
    [checked] = a06(cli, "MRN-1")
    assert "100 Gy in 50 fractions = 100.0 Gy EQD2" in checked["message"]
    assert checked["id"] != waiting["id"] and checked["severity"] == "info"
    [resolved] = [a for a in a06(cli, "MRN-1", "all") if a["status"] == "resolved"]
    assert resolved["id"] == waiting["id"]

    prescribe(cli, "MRN-2", "total_dose_gy=63", "fractions=35", histology=None)
    ok(cli("record", "MRN-2", "histology_confirmed", "--set", "histology=sts"))
    assert a06(cli, "MRN-2") == []
