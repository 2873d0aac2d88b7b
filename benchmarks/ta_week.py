#!/usr/bin/env python3
"""A TA's week, timed: a class of 100 through import, grading, overrides and export; similarity on 300.

Run from the repository root with the course environment::

    .venv/bin/python benchmarks/ta_week.py [--class-size 100] [--similarity-size 300]

The class is a Canvas zip (Canvas's file names, a quarter submitted late) of
complete, untouched, partly wrong and independently written notebooks of the
``mcnemar`` assignment, with a roster. The similarity run compares that many
notebooks: the course's correct styles with their identifiers renamed and their
functions reordered at random, plus untouched releases. Targets: the similarity
report on 300 submissions in under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from submissions import (  # noqa: E402
    build_submission,
    mistake_submission,
    read_fixture,
    reference_submission,
    untouched_submission,
)

from autograder.mistakes import known_mistakes  # noqa: E402

CORRECT = ROOT / "autograder" / "assignments" / "mcnemar" / "fixtures" / "correct"
POLICY = """[late]
penalty_per_day = 0.1
max_penalty = 0.5
[assignments.mcnemar]
due = "2024-10-01 23:59"
"""


def run(*args: str, cwd: Path) -> float:
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, capture_output=True, text=True,
                               env={**os.environ, "TQDM_DISABLE": "1", "PYTHONPATH": str(ROOT)})
    if completed.returncode:
        sys.exit(f"{args[0]} failed:\n{completed.stderr[-3000:]}")
    return time.perf_counter() - started


def notebooks(folder: Path) -> list[bytes]:
    """Complete (reference and independent styles), untouched and partly wrong notebooks."""
    made = [reference_submission("mcnemar", folder / "reference.ipynb").read_bytes(),
            untouched_submission("mcnemar", folder / "untouched.ipynb").read_bytes()]
    for path in sorted(CORRECT.glob("*.py")):
        made.append(build_submission("mcnemar", path, folder / f"{path.stem}.ipynb").read_bytes())
    for mistake in known_mistakes("mcnemar")[:4]:
        made.append(mistake_submission("mcnemar", mistake, folder / f"{mistake.name}.ipynb").read_bytes())
    return made


def disguised(folder: Path, number: int, rng: random.Random) -> bytes:
    """A correct style with its local names renamed and its functions shuffled: distinct, alike in structure."""
    style = rng.choice(sorted(CORRECT.glob("*.py")))
    code = read_fixture(style).code
    names = set(re.findall(r"\b([a-z_][a-z0-9_]*)\s*=", code)) - {"exact", "correction", "alpha", "dtype"}
    for name in sorted(names):
        code = re.sub(rf"\b{name}\b", f"{name}_{rng.randrange(10**6)}", code)
    header, *functions = re.split(r"\n(?=def )", code)
    rng.shuffle(functions)
    path = folder / "mcnemar" / "fixtures" / "correct" / f"student{number}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n" + "\n".join(functions), encoding="utf-8")
    return build_submission("mcnemar", path, folder / f"student{number}.ipynb").read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--class-size", type=int, default=100)
    parser.add_argument("--similarity-size", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(0)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        kinds = notebooks(scratch / "made")
        roster = ["student_id,name,canvas_id"]
        with zipfile.ZipFile(scratch / "canvas.zip", "w") as archive:
            for number in range(args.class_size):
                late = number % 4 == 0
                when = dt.datetime(2024, 10, 3 if late else 1, 20, number % 60)
                name = f"student{number:03d}_{'late_' if late else ''}{10000 + number}_{number}_mcnemar.ipynb"
                archive.writestr(zipfile.ZipInfo(name, when.timetuple()[:6]), kinds[number % len(kinds)])
                roster.append(f"s{number:03d},Student {number:03d},{10000 + number}")
        (scratch / "roster.csv").write_text("\n".join(roster) + "\n", encoding="utf-8")
        (scratch / "grading.toml").write_text(POLICY, encoding="utf-8")
        steps = {"import": run("import", str(scratch / "canvas.zip"), "--assignment", "mcnemar", "--to",
                               str(scratch / "submitted"), "--roster", str(scratch / "roster.csv"), cwd=scratch)}
        steps["grade"] = run("grade", str(scratch / "submitted"), "--assignment", "mcnemar", "--out",
                             str(scratch / "graded"), "--policy", str(scratch / "grading.toml"), cwd=scratch)
        (scratch / "overrides.csv").write_text("student,assignment,target,points,adjustment,comment,who\n"
                                               "s001,mcnemar,*,,+1,reviewed,TA\ns002,mcnemar,*,5,,reviewed,TA\n",
                                               encoding="utf-8")
        steps["regrade with overrides"] = run("grade", str(scratch / "submitted"), "--assignment", "mcnemar",
                                              "--out", str(scratch / "graded"), "--policy",
                                              str(scratch / "grading.toml"), "--overrides",
                                              str(scratch / "overrides.csv"), cwd=scratch)
        steps["export to Canvas"] = run("export", str(scratch / "graded"), "--assignment", "mcnemar", "--to",
                                        "canvas", "--roster", str(scratch / "roster.csv"), cwd=scratch)
        for step, seconds in steps.items():
            print(f"class of {args.class_size}: {step:24s} {seconds:6.1f} s")
        print(f"class of {args.class_size}: the whole week          {sum(steps.values()):6.1f} s")

        similar = scratch / "similar"
        for number in range(args.similarity_size):
            target = similar / f"student{number:03d}" / "mcnemar" / "mcnemar.ipynb"
            target.parent.mkdir(parents=True)
            content = kinds[1] if number % 10 == 0 else disguised(scratch / "disguised", number, rng)
            target.write_bytes(content)
        seconds = run("similarity", str(similar), "--assignment", "mcnemar", "--out", str(scratch / "report"),
                      cwd=scratch)
        verdict = "met" if seconds < 60 else "MISSED"
        print(f"similarity report on {args.similarity_size} submissions: {seconds:.1f} s "
              f"(target < 60 s: {verdict})")


if __name__ == "__main__":
    main()
