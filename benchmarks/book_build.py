#!/usr/bin/env python3
"""Measure the cold and the cached build time of the book.

Run from the repository root with the course environment::

    .venv/bin/python benchmarks/book_build.py [--keep]

A cold build starts from an empty output folder, so every chapter executes; the
cached build rebuilds into the same folder right after, when jupyter-cache
already holds every executed chapter. Both are strict builds (-W -n). The
target is a cold build under 3 minutes on a 2-core machine.
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


def build(output: Path, artifacts: Path) -> float:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TQDM_DISABLE"] = "1"
    env["PHISHLAB_ARTIFACTS"] = str(artifacts)
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT),
               "--path-output", str(output), "--builder", "html", "-W", "-n", "--keep-going"]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if completed.returncode:
        sys.exit(f"build failed (exit {completed.returncode}):\n{completed.stdout[-4000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the output folder")
    args = parser.parse_args()
    output = Path(tempfile.mkdtemp(prefix="book-benchmark-"))
    try:
        cold = build(output, output / "artifacts")
        cached = build(output, output / "artifacts")
    finally:
        if not args.keep:
            shutil.rmtree(output, ignore_errors=True)
    chapters = sum(1 for line in (ROOT / "_toc.yml").read_text().splitlines() if "file:" in line) + 1
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"pages built: {chapters}")
    verdict = "met" if cold < TARGET_SECONDS else "MISSED"
    print(f"cold build:   {cold:7.1f} s  (target < {TARGET_SECONDS} s: {verdict})")
    print(f"cached build: {cached:7.1f} s")
    if args.keep:
        print(f"output kept in {output}")


if __name__ == "__main__":
    main()
