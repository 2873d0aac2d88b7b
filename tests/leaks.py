"""Find reference-solution code in files a student receives."""

from __future__ import annotations

import html
import re
from pathlib import Path

from autograder.assignments import assignments
from autograder.reference import solution_lines

# Short lines such as ``return table`` occur in any code; a line this long is specific.
MIN_LEAK_LENGTH = 30


def leak_candidates() -> dict[str, set[str]]:
    """Distinctive lines of each assignment's reference solution."""
    return {
        assignment: {line for line in solution_lines(assignment) if len(line) >= MIN_LEAK_LENGTH
                     and not line.startswith("#")}
        for assignment in assignments()
    }


def visible_text(path: Path) -> str:
    """A file's text; for HTML, what a reader sees (tags removed, entities decoded)."""
    text = Path(path).read_text(encoding="utf-8", errors="ignore")
    if Path(path).suffix == ".html":
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return text


def find_leaks(paths) -> list[tuple[str, str, str]]:
    """(file, assignment, line) for every reference-solution line found in ``paths``."""
    candidates = leak_candidates()
    leaks = []
    for path in paths:
        text = visible_text(path)
        for assignment, lines in candidates.items():
            leaks += [(str(path), assignment, line) for line in sorted(lines) if line in text]
    return leaks
