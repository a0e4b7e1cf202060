"""Bad bytes and lenient numbers at the command line (issue 17 items 7 and 8), SQLite and PostgreSQL.

The bad-byte commands run as real processes so a byte that is not UTF-8 reaches `sys.argv` the
way a terminal sends it (as a lone surrogate), not as text a test harness already decoded.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.conftest import Cli, ok, refused

BAD = b"caf\xe9"  # Latin-1 'é': not valid UTF-8


def pathway(env: dict[str, str], *args: bytes | str) -> subprocess.CompletedProcess[bytes]:
    argv = [sys.executable, "-c", "from pathway.cli.app import main; main()", *args]
    full = {**os.environ, **env, "PYTHONIOENCODING": "utf-8", "LC_ALL": "C.UTF-8"}
    return subprocess.run(argv, env=full, capture_output=True, timeout=120, check=False)


def test_text_that_is_not_utf8_is_refused_at_the_edge_and_nothing_is_written(
    cli: Cli, environ: dict[str, str]
) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--histology", "sts"))
    before = ok(cli("history", "MRN-1", "--json")).stdout
    for args in [
        (b"record", b"MRN-1", b"neuro_exam", b"--set", b"finding=stable", b"--set", b"note=" + BAD),
        (b"record", b"MRN-1", b"pain_score", b"--set", b"nrs=2", b"--by", b"dr." + BAD),
        (b"enroll", b"MRN-2", b"--name", b"Ren" + BAD, b"--histology", b"sts"),
        (b"enroll", b"MRN-" + BAD, b"--histology", b"sts"),
        (b"status", b"MRN-" + BAD),
    ]:
        result = pathway(environ, *args)
        assert result.returncode == 2, (args, result.returncode, result.stdout, result.stderr)
        lines = result.stderr.decode("utf-8").strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, lines)
        assert "SELECT" not in lines[0] and "INSERT" not in lines[0]
    assert ok(cli("history", "MRN-1", "--json")).stdout == before
    ok(cli("status", "MRN-1"))  # the patient's record still reads
    assert "MRN-2" not in ok(cli("list")).stdout


@pytest.mark.parametrize("value", ["1_2", "\u0667", "\uff17", "7 e0", "0x7", "7.", "+-7", "caf\udce9"])
def test_only_plain_ascii_decimal_numbers_are_accepted(cli: Cli, value: str) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--histology", "sts"))
    line = refused(cli("record", "MRN-1", "pain_score", "--set", f"nrs={value}"))
    assert "pain_score.nrs" in line
    assert ok(cli("status", "MRN-1", "--json")).stdout.count('"unassessed"') == 1


def test_plain_numbers_still_work(cli: Cli) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--histology", "sts"))
    for value in ("2", " 3 ", "+2"):
        ok(cli("record", "MRN-1", "pain_score", "--set", f"nrs={value}"))
