"""The systemd units in deploy/ are valid (systemd-analyze verify) and run the commands the CLI has."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy").glob("*.service"))
PATHWAY = Path(sys.executable).parent / "pathway"


def installed(unit: Path, into: Path) -> Path:
    """The unit with ExecStart pointing at this environment's `pathway` (verify checks it exists)."""
    target = into / unit.name
    target.write_text(unit.read_text().replace("/opt/pathway/venv/bin/pathway", str(PATHWAY)))
    return target


def test_there_is_a_unit_for_the_web_app_and_one_for_the_scheduler() -> None:
    commands = {
        line.split()[1] for u in UNITS for line in u.read_text().splitlines() if line.startswith("ExecStart=")
    }
    assert commands == {"serve", "scheduler"}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_systemd_analyze_verifies_the_unit(unit: Path, tmp_path: Path) -> None:
    assert PATHWAY.exists()
    result = subprocess.run(
        ["systemd-analyze", "verify", str(installed(unit, tmp_path))],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0 and unit.name not in result.stderr, result.stderr
