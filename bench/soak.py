"""The fault suite with many kills (issue 17 item 17): `python -m bench.soak --kills 50`.

Runs tests/fault with PATHWAY_FAULT_KILLS kills of import, sweep, notify and the scheduler each,
on SQLite and PostgreSQL, and prints the figures: kills that interrupted work, rows written
twice, notifications lost, deliveries repeated (the receiver drops those by their key).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=50, help="kills per operation and database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "figures.jsonl"
        env = {**os.environ, "PATHWAY_FAULT_KILLS": str(args.kills), "PATHWAY_FAULT_REPORT": str(report)}
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/fault"], env=env
        )
        lines = report.read_text().splitlines() if report.exists() else []
    for line in lines:
        figures = json.loads(line)
        print(
            f"{figures['database']:>10}: {figures['kills']} kills per operation; interrupted "
            + ", ".join(f"{op} {n}" for op, n in figures["interrupted"].items())
            + f"; rows twice {sum(figures['duplicates'].values())}; notifications lost {figures['lost']}"
            + f" of {figures['notifications']}; redelivered (same key) {figures['redelivered']}"
        )
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
