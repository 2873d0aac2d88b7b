"""The bibliography holds the sources the chapters rely on, and each is cited where it is used."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

# Where the course relies on a source, the chapter must say so.
REQUIRED_CITATIONS = {
    "dietterich1998approximate": "05_ab_canary.md",  # McNemar's test for comparing classifiers
    "gama2014survey": "03_concept_drift.md",  # concept drift
    "huyen2022designing": "06_full_loop.md",  # ML systems in production
    "chawla2002smote": "01_baseline.md",
    "mcnemar1947note": "05_ab_canary.md",
    "benjamini1995controlling": "03_concept_drift.md",
}


def bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([^,\s]+),", (BOOK / "references.bib").read_text(encoding="utf-8"), flags=re.M))


def citations() -> dict[str, set[str]]:
    """Cited keys per chapter file (relative to book/)."""
    cited = {}
    for source in BOOK.rglob("*.md"):
        keys = set()
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", source.read_text(encoding="utf-8")):
            keys.update(key.strip() for key in group.split(","))
        cited[str(source.relative_to(BOOK))] = keys
    return cited


def test_every_cited_key_is_in_the_bibliography():
    known = bib_keys()
    unknown = {chapter: keys - known for chapter, keys in citations().items() if keys - known}
    assert unknown == {}


def test_every_bibliography_entry_is_cited_somewhere():
    cited = set().union(*citations().values())
    assert bib_keys() - cited == set()


def test_the_sources_the_course_relies_on_are_cited_where_used():
    cited = citations()
    missing = {key: chapter for key, chapter in REQUIRED_CITATIONS.items() if key not in cited.get(chapter, set())}
    assert missing == {}


def test_bib_entries_have_author_title_and_year():
    text = (BOOK / "references.bib").read_text(encoding="utf-8")
    for entry in re.split(r"\n(?=@)", text.strip()):
        key = re.match(r"@\w+\{([^,]+),", entry).group(1)
        for field in ("author", "title", "year"):
            assert re.search(rf"^\s*{field}\s*=", entry, flags=re.M), f"{key} has no {field}"
