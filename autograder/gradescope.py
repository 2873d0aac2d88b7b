"""Build a Gradescope autograder bundle that runs the same checks.

Gradescope unpacks the bundle into ``/autograder/source``, runs ``setup.sh``
once when the image is built, then ``run_autograder`` for every submission
with the student's files in ``/autograder/submission`` and expects
``/autograder/results/results.json``. The bundle holds the graders, the
instructor notebooks (the reference solutions), and pinned requirements.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from autograder import ASSIGNMENTS
from autograder.reference import ROOT

# What the sandboxed child and the graders import; versions come from requirements.lock.
RUNTIME_PACKAGES = ("numpy", "pandas", "scipy", "pytest", "tqdm", "matplotlib")

SETUP_SH = """#!/usr/bin/env bash
# Runs once while Gradescope builds the autograder image.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-venv python3-pip bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install -r /autograder/source/requirements.txt
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Runs for every submission. AUTOGRADER_ROOT and PYTHON can be overridden to try the bundle locally.
set -euo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{PYTHON:-$ROOT/venv/bin/python}}"
mkdir -p "$ROOT/results"
NOTEBOOK="$ROOT/submission/{assignment}.ipynb"
if [ ! -f "$NOTEBOOK" ]; then
  NOTEBOOK="$(find "$ROOT/submission" -maxdepth 3 -name '*.ipynb' -type f | sort | head -n 1)"
fi
cd "$ROOT/source"
if [ -z "$NOTEBOOK" ]; then
  printf '%s\\n' '{{"score": 0, "output": "No notebook found: submit {assignment}.ipynb.", "tests": []}}' \\
    > "$ROOT/results/results.json"
  exit 0
fi
"$PYTHON" -m autograder grade-one "$NOTEBOOK" --assignment {assignment} --results "$ROOT/results/results.json"
"""


def pinned_requirements(lock: Path = ROOT / "requirements.lock") -> str:
    """The runtime packages with the versions pinned in requirements.lock."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)$", line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    missing = [name for name in RUNTIME_PACKAGES if name not in pins]
    if missing:
        raise ValueError(f"requirements.lock does not pin {missing}")
    return "".join(f"{name}=={pins[name]}\n" for name in RUNTIME_PACKAGES)


def build_bundle(assignment: str, out: Path, root: Path = ROOT) -> Path:
    """Write ``gradescope_<assignment>.zip`` into ``out`` and return its path."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}; expected one of {sorted(ASSIGNMENTS)}")
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"gradescope_{assignment}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, text, mode in (("setup.sh", SETUP_SH, 0o755),
                                 ("run_autograder", RUN_AUTOGRADER.format(assignment=assignment), 0o755),
                                 ("requirements.txt", pinned_requirements(root / "requirements.lock"), 0o644)):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = mode << 16
            bundle.writestr(info, text)
        for source in sorted((root / "autograder").rglob("*.py")):
            bundle.write(source, source.relative_to(root).as_posix())
        # Every instructor notebook: the reader recognises a notebook of another assignment.
        for other in ASSIGNMENTS:
            notebook = root / "solutions" / other / f"{other}.ipynb"
            bundle.write(notebook, notebook.relative_to(root).as_posix())
    return path
