#!/usr/bin/env python3
"""The graders' strength, in full: every mutant of every assignment, graded.

Run from the repository root with the course environment::

    .venv/bin/python benchmarks/mutants.py [--out DIR] [--jobs N]

For each assignment it runs ``python -m autograder mutants ID --out DIR/ID``
(every mutant, in the sandbox, ``--jobs`` graders at once), then prints the
per-function table -- generated, killed, timed out, equivalent, survived -- and
the wall time. CI grades an even sample of each assignment's mutants
(``tests/test_mutants.py``); this is the whole set. Target: every mutant that is
not a reviewed equivalent loses points, and the whole run fits in CI's budget
on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from autograder.assignments import assignments  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="where the reports go (default: a scratch folder)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="mutants-"))
    print(f"{os.cpu_count()} cores, {args.jobs} graders; reports in {out}")
    failed, total_seconds = [], 0.0
    for assignment in assignments():
        started = time.monotonic()
        completed = subprocess.run([sys.executable, "-m", "autograder", "mutants", assignment,
                                    "--out", str(out / assignment), "--jobs", str(args.jobs)],
                                   cwd=ROOT, capture_output=True, text=True)
        total_seconds += time.monotonic() - started
        print(f"\n{completed.stdout.strip()}")
        if completed.returncode == 2:
            print(completed.stderr, file=sys.stderr)
            return 2
        if completed.returncode:
            failed.append(assignment)
    print(f"\nwhole run: {total_seconds:.0f} s on {args.jobs} graders; "
          + (f"survivors or a wrong equivalent list in {', '.join(failed)}" if failed else "0 survivors"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
