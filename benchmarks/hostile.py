#!/usr/bin/env python3
"""What the worst submission costs: the hostile fixtures graded as a class, at every isolation level.

Run from the repository root with the course environment::

    .venv/bin/python benchmarks/hostile.py [--jobs 2]

For each assignment and each isolation level the grader agrees to run on, it
grades one class made of every hostile fixture (``autograder/assignments/*/fixtures/hostile``),
the folder-level attacks and three honest students with ``python -m autograder
grade``, then prints the slowest submission (wall-clock seconds in the grading
process) and the peak memory of the grading processes. Targets: at most 60 s
and 1 GB per submission.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "fixtures" / "hostile"), str(ROOT)]

from layouts import LAYOUTS  # noqa: E402
from submissions import build_submission, fixture_files, reference_submission  # noqa: E402

from autograder.assignments import assignments  # noqa: E402

LEVELS = {"unprivileged uid": {}, "user namespace": {"AUTOGRADER_USER_NAMESPACE": "1"}}


def build_class(folder: Path, assignment: str) -> Path:
    submissions = folder / "submitted"
    for path in fixture_files("hostile"):
        if path.parents[2].name == assignment:
            build_submission(assignment, path, submissions / path.stem / assignment / f"{assignment}.ipynb")
    reference = reference_submission(assignment, folder / "reference.ipynb")
    for number in range(3):
        target = submissions / f"honest_{number}" / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_bytes(reference.read_bytes())
    for name, (build, _status, _score) in LAYOUTS.items():
        build(submissions / name, assignment, reference.read_bytes(), ROOT)
    return submissions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, grading with --jobs {args.jobs}")
    worst_seconds, worst_mb = 0.0, 0.0
    with tempfile.TemporaryDirectory() as scratch:
        for level, env in LEVELS.items():
            for assignment in assignments():
                folder = Path(scratch) / level.replace(" ", "-") / assignment
                submissions = build_class(folder, assignment)
                started = time.perf_counter()
                completed = subprocess.run(
                    [sys.executable, "-m", "autograder", "grade", str(submissions), "--assignment", assignment,
                     "--out", str(folder / "out"), "--jobs", str(args.jobs)],
                    cwd=ROOT, env={**os.environ, "TQDM_DISABLE": "1", **env}, capture_output=True, text=True)
                elapsed = time.perf_counter() - started
                if completed.returncode:
                    sys.exit(f"grading failed ({level}, {assignment}):\n{completed.stderr[-3000:]}")
                run = json.loads((folder / "out" / ".autograder" / "run.json").read_text(encoding="utf-8"))
                costs = run["submissions"]
                slowest = max(costs, key=lambda student: costs[student]["seconds"])
                peak = max([run["peak_mb_main"]] + [cost["peak_mb"] for cost in costs.values()])
                worst_seconds, worst_mb = max(worst_seconds, costs[slowest]["seconds"]), max(worst_mb, peak)
                print(f"{level:16s} {assignment:9s} {len(costs):3d} submissions graded in {elapsed:6.1f} s; "
                      f"slowest {slowest} {costs[slowest]['seconds']:5.1f} s; peak memory {peak:6.0f} MB")
    verdict = "met" if worst_seconds <= 60 and worst_mb <= 1024 else "MISSED"
    print(f"worst case: {worst_seconds:.1f} s and {worst_mb:.0f} MB per submission (target 60 s, 1024 MB): {verdict}")


if __name__ == "__main__":
    main()
