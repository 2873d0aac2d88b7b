"""Build a Gradescope autograder bundle that runs the same checks.

Gradescope unpacks the bundle into ``/autograder/source``, runs ``setup.sh``
once when the image is built, then ``run_autograder`` for every submission
with the student's files in ``/autograder/submission`` and expects
``/autograder/results/results.json``. The bundle holds the graders, this
assignment's instructor notebook only (readable by root only once set up), the
nbgrader cell ids of the other assignments (to recognise a wrong notebook),
and pinned requirements.

``setup.sh`` finds a Python 3.11 or newer (installing Ubuntu 22.04's
``python3.11`` if needed) or stops at once naming the base image to choose, and
installs bubblewrap. Inside, the grader never runs student code below the
strong sandbox: where Gradescope's container cannot provide it, the submission
is not graded and the results say so.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from autograder.assignments import assignments, get
from autograder.reference import ROOT, grade_ids

# What the sandboxed child and the graders import; versions come from requirements.lock.
RUNTIME_PACKAGES = ("numpy", "pandas", "scipy", "pytest", "tqdm", "matplotlib")

SETUP_SH = """#!/usr/bin/env bash
# Runs once while Gradescope builds the autograder image.
set -euo pipefail
SOURCE="${AUTOGRADER_ROOT:-/autograder}/source"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y bubblewrap python3-venv

# The pinned NumPy, pandas and SciPy need Python 3.11 or newer.
newest() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}
PYTHON="$(newest || true)"
if [ -z "$PYTHON" ]; then
  # Ubuntu 22.04 (Gradescope's default base image) packages Python 3.11 next to its 3.10.
  apt-get install -y python3.11 python3.11-venv || true
  PYTHON="$(newest || true)"
fi
if [ -z "$PYTHON" ]; then
  echo "setup.sh: this autograder needs Python 3.11 or newer, which this base image does not provide." >&2
  echo "setup.sh: choose the Ubuntu 22.04 (or newer) base image under Configure Autograder > Base Image." >&2
  exit 1
fi
"$PYTHON" -m venv "${AUTOGRADER_ROOT:-/autograder}/venv"
"${AUTOGRADER_ROOT:-/autograder}/venv/bin/pip" install --upgrade pip
"${AUTOGRADER_ROOT:-/autograder}/venv/bin/pip" install -r "$SOURCE/requirements.txt"

# The reference solution: root's alone (student code never sees it anyway: it runs in the sandbox).
chown -R root:root "$SOURCE/solutions" 2>/dev/null || true
chmod -R go-rwx "$SOURCE/solutions"
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


def bundled_code(folder: Path, root: Path = ROOT) -> list[Path]:
    """The graders' code in a bundle: the package and this assignment's folder, without its fixtures
    (the correct fixtures are solutions) and without the other assignments."""
    package = root / "autograder"
    files = [*package.glob("*.py"), *(package / "assignments").glob("*.py")]
    files += [path for path in folder.rglob("*") if path.is_file() and path.suffix in (".py", ".toml")
              and "fixtures" not in path.relative_to(folder).parts and "__pycache__" not in path.parts]
    return sorted(files)


def build_bundle(assignment: str, out: Path, root: Path = ROOT) -> Path:
    """Write ``gradescope_<assignment>.zip`` into ``out`` and return its path."""
    folder = get(assignment).folder
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"gradescope_{assignment}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, text, mode in (("setup.sh", SETUP_SH, 0o755),
                                 ("run_autograder", RUN_AUTOGRADER.format(assignment=assignment), 0o755),
                                 ("requirements.txt", pinned_requirements(root / "requirements.lock"), 0o644)):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = mode << 16
            bundle.writestr(info, text)
        for source in bundled_code(folder, root):
            bundle.write(source, source.relative_to(root).as_posix())
        notebook = root / "solutions" / assignment / f"{assignment}.ipynb"
        info = zipfile.ZipInfo(notebook.relative_to(root).as_posix(), date_time=(2024, 1, 1, 0, 0, 0))
        info.external_attr = 0o600 << 16
        bundle.writestr(info, notebook.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)
        # Only the cell ids of the other assignments: enough to recognise their notebooks.
        ids = {other: sorted(grade_ids(other, root)) for other in assignments()}
        bundle.writestr(zipfile.ZipInfo("solutions/grade_ids.json", date_time=(2024, 1, 1, 0, 0, 0)),
                        json.dumps(ids, indent=1) + "\n")
    return path
