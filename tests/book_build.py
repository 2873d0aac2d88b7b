"""Helpers to build an edition of the book in a scratch folder, shared by the book tests."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Cells whose output is a wall-clock measurement carry this tag; everything
# else must be identical between two builds.
WALL_CLOCK_TAG = "wall-clock"
# Where the test builds say each edition is published (realistic addresses, not placeholders).
PUBLISHED = {
    "students": {"repository": "https://github.com/phishlab-course/phishing-detector", "branch": "main",
                 "book": "https://phishlab-course.github.io/phishing-detector/",
                 "binderhub": "https://mybinder.org", "jupyterhub": ""},
    "instructors": {"repository": "https://github.com/phishlab-course/phishing-detector-instructors",
                    "branch": "main", "book": "", "binderhub": "", "jupyterhub": ""},
}


def jupyter_book() -> str:
    """The jupyter-book executable of the running interpreter's environment."""
    return str(Path(sys.executable).parent / "jupyter-book")


def start_build(output: Path, artifacts: Path, log: Path, kind: str) -> subprocess.Popen:
    """Write the ``kind`` edition into ``output`` and start a strict, cold build of it there (non-blocking).

    The build sees nothing but the edition: its sources, and its own ``phishlab``.
    """
    from editions.build import write_edition

    write_edition(kind, output, values=PUBLISHED[kind])
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TQDM_DISABLE"] = "1"
    env["PHISHLAB_ARTIFACTS"] = str(artifacts)
    env["PYTHONPATH"] = str(output / "src")
    handle = log.open("w")
    return subprocess.Popen(
        [jupyter_book(), "build", str(output), "--builder", "html", "-W", "-n", "--keep-going"],
        cwd=output, env=env, stdout=handle, stderr=subprocess.STDOUT,
    )


def executed_outputs(build: Path) -> dict[str, list]:
    """Outputs of every executed chapter, without run-specific metadata."""
    result = {}
    for notebook in sorted((build / "_build" / "jupyter_execute").rglob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        outputs = []
        for index, cell in enumerate(cells):
            if cell["cell_type"] != "code":
                continue
            if WALL_CLOCK_TAG in cell.get("metadata", {}).get("tags", []):
                continue
            for output in cell.get("outputs", []):
                output = {k: v for k, v in output.items() if k != "execution_count"}
                # Messages may name the artifact folder, which differs per build.
                text = json.dumps(output).replace(str(build), "<build>")
                outputs.append((index, json.loads(text)))
        result[str(notebook.relative_to(build))] = outputs
    return result


def html(build: Path, page: str) -> str:
    """The text of one rendered page, e.g. ``html(build, "book/intro.html")``."""
    return (build / "_build" / "html" / page).read_text(encoding="utf-8")


def glued(build: Path, chapter: str) -> dict[str, str]:
    """The values a chapter glued, as their text representation.

    ``chapter`` is the source path without suffix, e.g. ``"book/05_ab_canary"``.
    """
    path = build / "_build" / "jupyter_execute" / f"{chapter}.glue.json"
    return {name: output["data"]["text/plain"]
            for name, output in json.loads(path.read_text(encoding="utf-8")).items()
            if "text/plain" in output.get("data", {})}


def glued_numbers(build: Path, chapter: str) -> dict[str, float]:
    """The values a chapter glued that are plain numbers, as floats (see :func:`glued`)."""
    return {name: float(value) for name, value in glued(build, chapter).items()
            if re.fullmatch(r"-?[\d.e+-]+", value)}
