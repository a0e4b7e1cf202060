"""The wheel is complete: built from the tree, installed into a fresh environment with only its
declared dependencies, it runs the README's first command (`pathway init --demo && pathway due`).

The dependencies come as wheels gathered by `pip wheel` at the versions of this test environment
(the same sources `pip install -e .[test]` used, its cache first); the fresh environment then
installs with `--no-index` from those wheels alone, so a dependency the code imports but
pyproject.toml forgets fails here. About a minute; `-m 'not slow'` skips it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run(args: list[str | Path], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )
    assert done.returncode == 0, f"{args[:4]} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_installs_alone_and_runs_the_demo(tmp_path: Path) -> None:
    dist, wheels, fresh, work = (tmp_path / d for d in ("dist", "wheels", "venv", "work"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "wheel", "--no-deps", "-q", "-w", dist, ROOT])
    (wheel,) = dist.glob("sacral_pathway-*.whl")
    frozen = run([*pip, "freeze", "--exclude-editable"])
    pins = tmp_path / "pins.txt"
    pins.write_text("\n".join(line for line in frozen.splitlines() if not line.startswith("-e ")))
    run([*pip, "wheel", "-q", "-c", pins, "-w", wheels, wheel])

    venv.create(fresh, with_pip=True)
    isolated = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PATHWAY_", "PYTHON"))},
        "PIP_CONFIG_FILE": os.devnull,
        "PATHWAY_TIMEZONE": "Europe/London",
    }
    bin_dir = fresh / ("Scripts" if os.name == "nt" else "bin")
    run(
        [bin_dir / "python", "-m", "pip", "install", "-q", "--no-index", "--find-links", wheels, wheel],
        isolated,
    )
    freeze = run([bin_dir / "python", "-m", "pip", "freeze"], isolated)
    assert "psycopg" not in freeze.lower(), "psycopg is the optional [postgresql] extra"

    work.mkdir()
    run([bin_dir / "pathway", "init", "--demo"], isolated, cwd=work)
    due = run([bin_dir / "pathway", "due"], isolated, cwd=work)
    assert "DEMO-" in due
    assert (work / "pathway.db").exists()
