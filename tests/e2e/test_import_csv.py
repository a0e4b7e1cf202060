"""`pathway import`: quoted newlines stay inside their field and errors name physical lines."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Cli, as_json, ok

HEADER = "mrn,enrolled_on,histology,event,on,fields\n"
NOTE = "finding=baseline;note=seen in clinic\nno new deficit"


def test_a_quoted_newline_is_kept_inside_its_field(cli: Cli, tmp_path: Path) -> None:
    csv_file = tmp_path / "cohort.csv"
    csv_file.write_text(
        HEADER + "MRN-1,2026-02-02,sts,,,\n" + f'MRN-1,,,neuro_exam,2026-02-03,"{NOTE}"\n', encoding="utf-8"
    )
    ok(cli("init"))
    assert "1 patient(s) and 1 event(s)" in ok(cli("import", str(csv_file))).stdout

    [event] = as_json(cli("history", "MRN-1", "--json"))["events"]
    assert event["data"]["note"] == "seen in clinic\nno new deficit"


def test_errors_name_the_physical_line_after_multi_line_fields_and_blank_lines(
    cli: Cli, tmp_path: Path
) -> None:
    rows = [
        "MRN-1,2026-02-02,sts,,,",  # line 2
        f'MRN-1,,,neuro_exam,2026-02-03,"{NOTE}"',  # lines 3-4
        "",  # line 5: blank, skipped by the CSV reader
        f'MRN-1,,,neuro_exam,2026-02-04,"{NOTE}\nand a third line"',  # lines 6-8
        "MRN-1,,,pain_score,2026-02-05,nrs=11",  # line 9: out of range
    ]
    csv_file = tmp_path / "cohort.csv"
    csv_file.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    physical = csv_file.read_text(encoding="utf-8").splitlines()
    assert physical[8].startswith("MRN-1,,,pain_score")

    ok(cli("init"))
    result = cli("import", str(csv_file))

    assert result.exit_code == 2
    assert "line 9: " in result.stderr and "nrs" in result.stderr
    assert "line 5" not in result.stderr
    assert as_json(cli("list", "--json")) == []


def test_a_file_with_crlf_line_ends_numbers_lines_the_same(cli: Cli, tmp_path: Path) -> None:
    csv_file = tmp_path / "cohort.csv"
    csv_file.write_bytes(
        (HEADER + "MRN-1,2026-02-02,sts,,,\n" + f'MRN-1,,,neuro_exam,2026-02-03,"{NOTE}"\n' + "MRN-2,,,x,,\n")
        .replace("\n", "\r\n")
        .encode()
    )
    ok(cli("init"))
    result = cli("import", str(csv_file))
    assert result.exit_code == 2
    assert "line 5: MRN-2 is not enrolled earlier in the file" in result.stderr


def test_importing_twice_reports_the_rows_already_imported(cli: Cli, tmp_path: Path) -> None:
    csv_file = tmp_path / "cohort.csv"
    csv_file.write_text(
        HEADER.replace("\n", ",row_id\n")
        + "MRN-1,2026-02-02,sts,,,,\n"
        + "MRN-1,,,neuro_exam,2026-02-03,finding=baseline,a1\n"
        + "MRN-1,,,pain_score,2026-02-03,nrs=2,a2\n",
        encoding="utf-8",
    )
    ok(cli("init"))
    first = as_json(cli("import", str(csv_file), "--json"))
    assert (first["patients"], first["events"], first["skipped"]) == (1, 2, 0)
    again = as_json(cli("import", str(csv_file), "--json"))
    assert (again["patients"], again["events"], again["skipped"]) == (0, 0, 3)
    assert len(as_json(cli("history", "MRN-1", "--json"))["events"]) == 2
