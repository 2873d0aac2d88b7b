"""Make the student versions of the practice-challenge notebooks.

The challenge notebooks are practice, not graded assignments: they carry no
nbgrader metadata and no hidden tests. Each solution version here marks the
student's code with ``### BEGIN SOLUTION`` / ``### END SOLUTION``; this script
replaces those regions with nbgrader's usual stub, clears every output and
writes the result to ``exercises/challenges/``::

    .venv/bin/python solutions/challenges/release.py          # write the student versions
    .venv/bin/python solutions/challenges/release.py --check  # exit 1 if one is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearOutput, ClearSolutions

HERE = Path(__file__).resolve().parent
RELEASE = HERE.parents[1] / "exercises" / "challenges"


def student_version(source: Path) -> str:
    """The student version of one solution notebook, as the text of an .ipynb file."""
    notebook = nbformat.read(source, as_version=4)
    text = nbformat.writes(notebook)
    if "BEGIN SOLUTION" not in text:
        raise ValueError(f"{source.name} marks no student code with ### BEGIN SOLUTION")
    if "HIDDEN TESTS" in text:
        raise ValueError(f"{source.name} has hidden tests; practice challenges show every test")
    resources: dict = {}
    # The challenge notebooks have no nbgrader cell metadata, which ClearSolutions
    # would otherwise insist on.
    notebook, resources = ClearSolutions(enforce_metadata=False).preprocess(notebook, resources)
    notebook, resources = ClearOutput().preprocess(notebook, resources)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    return nbformat.writes(notebook) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report student versions that are out of date")
    args = parser.parse_args(argv)
    stale = []
    for source in sorted(HERE.glob("*.ipynb")):
        target = RELEASE / source.name
        try:
            text = student_version(source)
        except (OSError, ValueError) as error:  # unreadable JSON is a ValueError too
            print(f"error: {source.relative_to(HERE.parents[1])}: {error}", file=sys.stderr)
            return 2
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(target)
        if not args.check:
            RELEASE.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(HERE.parents[1])}")
    if args.check and stale:
        print("out of date:", *(str(p.relative_to(HERE.parents[1])) for p in stale), sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
