#!/usr/bin/env python3
"""Measure the cold and the cached build time of the book, from its edition.

Run from the repository root with the course environment::

    .venv/bin/python benchmarks/book_build.py [--edition students|instructors] [--keep]

The edition (default: the students', the book that is published) is written
into an empty folder and built there, as ``python3 tasks.py book`` does. A cold
build executes every chapter; the cached build rebuilds into the same folder
right after, when jupyter-cache already holds every executed chapter. Both are
strict builds (-W -n). The target is a cold build under 3 minutes on a 2-core
machine. It also prints the edition's size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 180


def build(edition: Path, artifacts: Path) -> float:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TQDM_DISABLE"] = "1"
    env["PHISHLAB_ARTIFACTS"] = str(artifacts)
    env["PYTHONPATH"] = str(edition / "src")
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(edition),
               "--builder", "html", "-W", "-n", "--keep-going"]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=edition, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if completed.returncode:
        sys.exit(f"build failed (exit {completed.returncode}):\n{completed.stdout[-4000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edition", choices=("students", "instructors"), default="students")
    parser.add_argument("--keep", action="store_true", help="keep the output folder")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from editions.build import write_edition

    output = Path(tempfile.mkdtemp(prefix="book-benchmark-"))
    try:
        edition = write_edition(args.edition, output / args.edition)
        files = [p for p in edition.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        chapters = sum(1 for line in (edition / "_toc.yml").read_text().splitlines() if "file:" in line) + 1
        cold = build(edition, output / "artifacts")
        cached = build(edition, output / "artifacts")
    finally:
        if not args.keep:
            shutil.rmtree(output, ignore_errors=True)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"the {args.edition}' edition: {len(files)} files, {size / 1e6:.1f} MB; pages built: {chapters}")
    verdict = "met" if cold < TARGET_SECONDS else "MISSED"
    print(f"cold build:   {cold:7.1f} s  (target < {TARGET_SECONDS} s: {verdict})")
    print(f"cached build: {cached:7.1f} s")
    if args.keep:
        print(f"output kept in {output}")


if __name__ == "__main__":
    main()
