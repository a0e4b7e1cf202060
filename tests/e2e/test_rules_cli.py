"""`pathway rules`: every timing and alert rule of the pathway file, checked against the rule book."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Cli, as_json, ok

RULE_BOOK = Path(__file__).parents[1] / "data" / "rule_book_ids.txt"
# rules the pathway file adds beyond the rule book, each saying so in its `source`
NEW_RULES = {"A47", "A48", "A49"}


def rule_book_ids() -> set[str]:
    lines = RULE_BOOK.read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_every_printed_rule_is_in_the_rule_book_or_declared_new_and_the_missing_ones_are_printed(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = as_json(cli("rules", "--format", "json"))
    printed = {r["id"] for r in rules}
    book = rule_book_ids()

    assert printed - book == NEW_RULES, "a rule id that is neither in the rule book nor declared new"
    for r in rules:
        assert r["what"] and r["runs"] and len(r["source"]) >= 3
        assert r["kind"] in ("seed", "guideline", "label", "trial", "proposal")
        if r["kind_of_rule"] != "check":
            assert r["window"] and isinstance(r["needs_time"], bool)
    missing = sorted(book - printed, key=lambda i: (i[0], int(i[1:3]), i[3:]))
    with capsys.disabled():
        print(f"\nrule book rules not implemented yet ({len(missing)}): {' '.join(missing)}")
    assert "A01" not in missing and "T09" not in missing


def test_pausable_and_needs_a_time_are_shown_as_the_pathway_file_declares(cli: Cli) -> None:
    rules = {(r["id"], r["kind_of_rule"]): r for r in as_json(cli("rules", "--format", "json"))}
    for rid in ("A01", "T04", "T06", "T03", "A19", "A20", "T01", "T02"):
        assert rules[(rid, "timing")]["pausable"] is False, rid
    for rid in ("T09", "T10", "T16", "T21a", "T17", "T29", "A31"):
        assert rules[(rid, "timing")]["pausable"] is True, rid
    for rid in ("T11", "T15", "A32"):  # neuro and pain clocks, and the contact clock, never pause
        assert rules[(rid, "timing")]["pausable"] is False, rid
    assert rules[("A18", "check")]["ladder"] == ["info", "warning when repeated"]
    assert rules[("A07", "alert")]["ladder"] == ["warning at target", "critical at closes"]
    assert rules[("A10", "alert")]["ladder"] == ["warning at closes", "critical at closes + 28d"]
    assert rules[("T04", "timing")]["needs_time"] is True
    assert rules[("T10", "timing")]["needs_time"] is False
    assert rules[("A06", "check")]["pausable"] is None


def test_the_markdown_table_has_a_row_per_rule(cli: Cli) -> None:
    out = ok(cli("rules")).stdout
    rows = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| id ")]
    assert len(rows) == len(as_json(cli("rules", "--format", "json")))
    assert any(row.startswith("| A49 | timing | Review of a long pause |") for row in rows)
    assert ok(cli("rules", "--format", "json")).stdout.lstrip().startswith("[")
