#!/usr/bin/env python3
"""Grading throughput: ``python -m autograder grade`` against ``nbgrader autograde``.

Run from the repository root with the course environment::

    .venv/bin/python benchmarks/grading.py [--submissions 100] [--nbgrader-sample 12]

For each assignment it builds one class of submissions in nbgrader's layout --
a third complete, a third untouched releases, a third with one function left
unanswered -- grades all of them with the course's command (``--jobs`` = all
cores), and grades the first ``--nbgrader-sample`` of the *same* submissions
with stock ``nbgrader autograde`` (which runs each notebook in a kernel) in a
scratch copy of the course (a full class would take nbgrader most of an hour).
It prints both throughputs and their ratio, and the throughput of this course's
own ``nbgrader autograde``, whose Execute step is the sandboxed grader.
Targets: 100 submissions per assignment in under 60 s, and at least 10 times
stock nbgrader's throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from autograder.assignments import assignments  # noqa: E402

ASSIGNMENTS = tuple(assignments())


# Appended to the scratch course's config: nbgrader's own autograde steps, the notebook run in a kernel.
STOCK_AUTOGRADE = """
c.Autograde.autograde_preprocessors = Autograde.class_traits()["autograde_preprocessors"].default()
"""


def build_class(assignment: str, folder: Path, count: int) -> list[str]:
    source = json.loads((ROOT / "solutions" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    release = (ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8")
    answers = [c for c in source["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    students = []
    for number in range(count):
        student = f"student{number:03d}"
        target = folder / student / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        if number % 3 == 1:
            target.write_text(release, encoding="utf-8")
        else:
            notebook = json.loads(json.dumps(source))
            if number % 3 == 2:  # one function left as the stub
                skipped = answers[number % len(answers)]["id"]
                cell = next(c for c in notebook["cells"] if c.get("id") == skipped)
                header = "".join(cell["source"]).split("### BEGIN SOLUTION")[0]
                cell["source"] = header + "raise NotImplementedError()\n"
            target.write_text(json.dumps(notebook), encoding="utf-8")
        students.append(student)
    return students


def timed(command: list[str], cwd: Path, env: dict) -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if completed.returncode:
        sys.exit(f"{' '.join(command[:4])} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--nbgrader-sample", type=int, default=12)
    parser.add_argument("--assignments", nargs="+", default=list(ASSIGNMENTS), choices=ASSIGNMENTS)
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "TQDM_DISABLE": "1", "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        courses = {"stock": scratch / "stock", "sandboxed": scratch / "sandboxed"}
        for kind, course in courses.items():
            course.mkdir()
            config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
            if kind == "stock":
                config += STOCK_AUTOGRADE
            (course / "nbgrader_config.py").write_text(config, encoding="utf-8")
            shutil.copytree(ROOT / "solutions", course / "solutions")
            shutil.copytree(ROOT / "autograder", course / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
        env["PHISHLAB_ARTIFACTS"] = str(scratch / "artifacts")
        for assignment in args.assignments:
            students = build_class(assignment, scratch / "class" / assignment, args.submissions)
            ours = timed([sys.executable, "-m", "autograder", "grade", str(scratch / "class" / assignment),
                          "--assignment", assignment, "--out", str(scratch / "out" / assignment)], ROOT, env)
            sample = students[: args.nbgrader_sample]
            times = {}
            for kind, course in courses.items():
                timed([str(bin_dir / "nbgrader"), "generate_assignment", assignment, "--force"], course, env)
                for student in sample:
                    shutil.copytree(scratch / "class" / assignment / student / assignment,
                                    course / "submitted" / student / assignment)
                times[kind] = timed([str(bin_dir / "nbgrader"), "autograde", assignment, "--force"], course, env)
            ours_rate, theirs_rate = args.submissions / ours, len(sample) / times["stock"]
            verdict = "met" if ours < 60 or args.submissions != 100 else "MISSED"
            print(f"{assignment:9s} autograder: {args.submissions} submissions in {ours:6.1f} s "
                  f"({ours_rate:5.2f}/s; 100 in < 60 s: {verdict}) | stock nbgrader autograde: {len(sample)} in "
                  f"{times['stock']:6.1f} s ({theirs_rate:5.2f}/s) | ratio {ours_rate / theirs_rate:5.1f}x | "
                  f"this course's nbgrader autograde: {len(sample) / times['sandboxed']:5.2f}/s")


if __name__ == "__main__":
    main()
