#!/usr/bin/env python3
"""Time each completed assignment notebook top to bottom in a fresh kernel.

Run from the repository root with the course environment::

    .venv/bin/python benchmarks/notebooks.py

"Completed" means the instructor version, whose answer cells hold working code.
Each notebook runs twice: first with an empty artifact folder (the closing cell
trains the course models it needs), then with the models already registered,
which is what a student who has built the book meets. Target: under 30 s.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from autograder.assignments import assignments  # noqa: E402

ASSIGNMENTS = tuple(assignments())
TARGET_SECONDS = 30


def run(path: Path, workdir: Path) -> float:
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return time.perf_counter() - started


def main() -> None:
    os.environ["TQDM_DISABLE"] = "1"
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["PHISHLAB_ARTIFACTS"] = str(Path(scratch) / "artifacts")
        for assignment in ASSIGNMENTS:
            path = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
            cold = run(path, Path(scratch))
            warm = run(path, Path(scratch))
            verdict = "met" if max(cold, warm) < TARGET_SECONDS else "MISSED"
            print(f"{assignment:9s} empty artifacts {cold:6.1f} s, models cached {warm:6.1f} s "
                  f"(target < {TARGET_SECONDS} s: {verdict})")


if __name__ == "__main__":
    main()
