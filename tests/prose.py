"""Find the numbers a page's prose states without a source; shared by the book tests.

A number a reader sees in a chapter's text must come from the build (a glued
value) or be a constant the text names (the 7-day window, the 90 % target).
This module strips what is not prose from a MyST Markdown page -- code cells,
math, inline code, roles such as ``{glue:text}`` -- and lists the numerals
left. A page writes its named constants down in its front matter::

    prose_numbers:
      "7": the short rolling window, in days
      "90 %": the operations team's TPR target

Structural numbers (Chapter 3, Figure 2, § 4.1, Step 11, v2.0, years, list
markers) are not data and are never listed.

Run ``python tests/prose.py book/03_concept_drift.md`` to see a page's list.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
FENCE = re.compile(r"^\s*(`{3,}|:{3,})\s*(\S.*)?$")
# Fenced blocks whose body is not prose (a figure's or a table's caption is prose).
NOT_PROSE = re.compile(r"\{(?:code-cell|code|code-block|math|glue|glue:md|glue:any|image|bibliography|"
                       r"raw|eval-rst|csv-table)\}|^[\w+-]+$")
OPTION = re.compile(r"^\s*:[\w-]+:")
INLINE = [
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"\$\$.*?\$\$", re.S),
    re.compile(r"(?<!\\)\$[^$\n]+\$"),
    re.compile(r"\{[\w:-]+\}`[^`]*`"),  # roles: glue, numref, doc, cite, math …
    re.compile(r"``[^`]*``|`[^`]*`"),
    re.compile(r"\]\([^)]*\)|\]\[[^\]]*\]|<https?://[^>]*>|https?://\S+"),
    re.compile(r"^\([\w-]+\)=\s*$", re.M),  # targets
    re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.M),  # table rules
]
STRUCTURAL = re.compile(
    r"(?:Chapters?|Challenges?|Figures?|Tables?|Steps?|Sections?|Questions?|Parts?|Weeks?|§)\s*\d+(?:\.\d+)*"
    r"(?:\s*(?:,|and|to|or|–|-)\s*\d+(?:\.\d+)*)*"
    r"|\bv\d+(?:\.\d+)+|\b(?:19|20)\d\d\b|^\s*#+\s*[\d.]+|^\s*(?:[-*]\s+)?\d+[.)]\s",
    re.M,
)
NUMERAL = re.compile(r"(?<![\w.,])\d+(?:,\d{3})*(?:\.\d+)?(?:\s?%)?")


def front_matter(text: str) -> dict:
    """The page's YAML front matter (empty if it has none)."""
    match = FRONT_MATTER.match(text)
    return yaml.safe_load(match.group(1)) or {} if match else {}


def prose(text: str) -> str:
    """The page's prose: its text without front matter, code, math, directive options or roles."""
    text = FRONT_MATTER.sub("", text)
    kept, stack = [], []  # stack of (fence, is_prose)
    for line in text.splitlines():
        match = FENCE.match(line)
        if match and stack and not match.group(2) and match.group(1)[0] == stack[-1][0][0] \
                and len(match.group(1)) >= len(stack[-1][0]):
            stack.pop()
            continue
        if match and match.group(2) and (not stack or stack[-1][1]):
            head = match.group(2).strip()
            is_prose = not NOT_PROSE.search(head)
            stack.append((match.group(1), is_prose))
            if is_prose:  # a dropdown's or an admonition's title is prose
                kept.append(re.sub(r"^\{[\w:-]+\}\s*", "", head))
            continue
        if stack and not stack[-1][1]:
            continue
        if OPTION.match(line):
            continue
        kept.append(line)
    result = "\n".join(kept)
    for pattern in INLINE:
        result = pattern.sub(" ", result)
    return STRUCTURAL.sub(" ", result)


def normal(numeral: str) -> str:
    """A numeral as it is written down in ``prose_numbers`` (``"90 %"``, ``"1,000"``)."""
    return re.sub(r"\s?%$", " %", numeral.strip())


def unexplained_numerals(text: str) -> list[tuple[str, str]]:
    """(numeral, context) for every number in the prose that is neither glued nor a named constant."""
    allowed = {normal(str(key)) for key in (front_matter(text).get("prose_numbers") or {})}
    body = prose(text)
    found = []
    for match in NUMERAL.finditer(body):
        if normal(match.group()) not in allowed:
            context = " ".join(body[max(match.start() - 50, 0):match.end() + 25].split())
            found.append((normal(match.group()), context))
    return found


if __name__ == "__main__":
    for name in sys.argv[1:]:
        if not Path(name).is_file():
            sys.exit(f"error: no page {name} (give a MyST page such as book/03_concept_drift.md)")
        numerals = unexplained_numerals(Path(name).read_text(encoding="utf-8"))
        print(f"{name}: {len(numerals)} unexplained numeral(s)")
        for numeral, context in numerals:
            print(f"  {numeral!r:>10}  …{context}…")
