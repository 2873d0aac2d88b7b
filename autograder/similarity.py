"""Which students' answers are suspiciously alike: winnowed fingerprints of normalised code, as MOSS does.

``python -m autograder similarity SUBMISSIONS --assignment ID --out DIR``

1. Each student's own code is taken from their notebook (the answer cells and any
   cell they added; the read-only cells and test cells are not theirs).
2. It is tokenised and normalised: comments and layout dropped, every
   identifier the student chose becomes ``V``, every string ``S`` and every
   number ``N``; keywords, operators and library attribute names stay. Renaming
   variables, re-commenting and reformatting change nothing.
3. Hashes of every run of :data:`K` tokens are *winnowed* (the smallest hash of
   every :data:`WINDOW` consecutive ones is kept, Schleimer et al. 2003), so two
   programs that share a long enough passage share fingerprints wherever the
   passage sits: reordering functions changes little.
4. Fingerprints of the release notebook (starter code, signatures, docstrings,
   visible tests) are dropped, and so are those a large part of the class shares
   (idioms anyone would write).
5. Two students' similarity is the share of the smaller fingerprint set found in
   the larger; pairs are ranked by it.

The report is a ranked CSV, a heatmap of the students in the top pairs, and one
side-by-side HTML page per top pair with the matching lines marked. It is a
place to look, not a verdict: read the code before concluding anything.
"""

from __future__ import annotations

import builtins
import hashlib
import html
import io
import keyword
import tokenize
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

K = 14
"""Tokens per hashed run: a passage this long (a few lines) must match to count."""
WINDOW = 6
"""Winnowing window: any shared run of ``K + WINDOW - 1`` tokens is guaranteed a shared fingerprint."""
COMMON_SHARE = 0.4
"""Fingerprints in more than this share of the class are ignored as idioms (in a class of 25 or more)."""
COMMON_MINIMUM = 10
"""...and never when fewer students than this share them: in a small class, five copies are five copies."""
MIN_FINGERPRINTS = 8
"""Answers with fewer fingerprints (little of one's own code) are not compared."""
_KEEP = set(keyword.kwlist) | set(dir(builtins))


@dataclass
class Answer:
    """One student's own code and its fingerprints."""

    student: str
    source: str
    fingerprints: dict[int, tuple[int, int]]  # hash -> (first line, last line) of its first occurrence


def _tokens(source: str) -> list[tuple[str, int, int]]:
    """(normalised token, start line, end line) of ``source``; code that does not tokenise yields what it can."""
    found: list[tuple[str, int, int]] = []
    previous = ""
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            kind = token.type
            if kind in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                        tokenize.ENCODING, tokenize.ENDMARKER):
                continue
            text = token.string
            if kind == tokenize.NAME:
                text = text if text in _KEEP or previous == "." else "V"
            elif kind == tokenize.STRING or kind == getattr(tokenize, "FSTRING_START", -1):
                text = "S"
            elif kind == tokenize.NUMBER:
                text = "N"
            found.append((text, token.start[0], token.end[0]))
            previous = token.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return found


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def fingerprints(source: str) -> dict[int, tuple[int, int]]:
    """Winnowed fingerprints of ``source``, each with the lines of its first occurrence."""
    tokens = _tokens(source)
    grams = [(_hash(" ".join(t for t, _, _ in tokens[i:i + K])), tokens[i][1], tokens[i + K - 1][2])
             for i in range(len(tokens) - K + 1)]
    chosen: dict[int, tuple[int, int]] = {}
    for start in range(max(len(grams) - WINDOW + 1, 1 if grams else 0)):
        window = grams[start:start + WINDOW]
        value, first, last = min(window, key=lambda g: g[0])
        chosen.setdefault(value, (first, last))
    return chosen


def own_code(cells: list[dict], release_ids: set[str]) -> list[str]:
    """The code a student wrote, cell by cell: the cells that are not the release's read-only ones."""
    return [cell["source"] for cell in cells if cell["id"] not in release_ids]


def _cell_fingerprints(cells: list[str]) -> tuple[str, dict[int, tuple[int, int]]]:
    """The cells joined into one listing, and their fingerprints (no run spans two cells)."""
    found: dict[int, tuple[int, int]] = {}
    offset = 0
    for cell in cells:
        for value, (first, last) in fingerprints(cell).items():
            found.setdefault(value, (first + offset, last + offset))
        offset += len(cell.splitlines()) + 1
    return "\n\n".join(cells), found


@dataclass
class Comparison:
    """Pairs of students ranked by how much of their own code they share."""

    answers: dict[str, Answer]
    pairs: pd.DataFrame


def compare(codes: dict[str, list[str]], starter: list[str]) -> Comparison:
    """Rank every pair of students by shared fingerprints, ignoring the starter code and common idioms.

    ``codes`` maps each student to the cells of their own code; ``starter`` is the
    release's code cells.
    """
    ignored = set(_cell_fingerprints(starter)[1])
    answers = {}
    for student, cells in codes.items():
        listing, found = _cell_fingerprints(cells)
        answers[student] = Answer(student, listing, {h: span for h, span in found.items() if h not in ignored})
    holders: dict[int, list[str]] = defaultdict(list)
    for student, answer in answers.items():
        for value in answer.fingerprints:
            holders[value].append(student)
    limit = max(COMMON_MINIMUM, COMMON_SHARE * len(answers))
    shared: dict[tuple[str, str], int] = defaultdict(int)
    for value, students in holders.items():
        if len(students) > limit:
            for student in students:
                answers[student].fingerprints.pop(value, None)
            continue
        for pair in combinations(sorted(students), 2):
            shared[pair] += 1
    rows = []
    for (a, b), count in shared.items():
        smaller = min(len(answers[a].fingerprints), len(answers[b].fingerprints))
        if smaller < MIN_FINGERPRINTS:
            continue
        rows.append({"student_a": a, "student_b": b, "similarity": round(count / smaller, 4), "shared": count,
                     "fingerprints_a": len(answers[a].fingerprints), "fingerprints_b": len(answers[b].fingerprints)})
    pairs = pd.DataFrame(rows, columns=["student_a", "student_b", "similarity", "shared", "fingerprints_a",
                                        "fingerprints_b"])
    pairs = pairs.sort_values(["similarity", "shared", "student_a", "student_b"],
                              ascending=[False, False, True, True]).reset_index(drop=True)
    pairs.insert(0, "rank", range(1, len(pairs) + 1))
    return Comparison(answers, pairs)


def _marked_lines(answer: Answer, common: set[int]) -> set[int]:
    lines = set()
    for value in common:
        first, last = answer.fingerprints[value]
        lines.update(range(first, last + 1))
    return lines


def side_by_side(comparison: Comparison, a: str, b: str) -> str:
    """One self-contained page: both students' code, the lines they share marked."""
    first, second = comparison.answers[a], comparison.answers[b]
    common = set(first.fingerprints) & set(second.fingerprints)

    def column(answer: Answer) -> str:
        marked = _marked_lines(answer, common)
        rows = "".join(f'<tr class="{"match" if n in marked else ""}"><td class="n">{n}</td>'
                       f"<td><pre>{html.escape(line)}</pre></td></tr>"
                       for n, line in enumerate(answer.source.splitlines(), start=1))
        return f"<div class='side'><h2>{html.escape(answer.student)}</h2><table>{rows}</table></div>"

    row = comparison.pairs[(comparison.pairs.student_a == a) & (comparison.pairs.student_b == b)].iloc[0]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>{html.escape(a)} and {html.escape(b)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1rem; color: #1a1a1a; background: #fff; }}
.sides {{ display: flex; gap: 1rem; }} .side {{ flex: 1; min-width: 0; overflow-x: auto; }}
table {{ border-collapse: collapse; width: 100%; }} td {{ padding: 0 0.4rem; vertical-align: top; }}
td.n {{ color: #555; text-align: right; user-select: none; }}
pre {{ margin: 0; font-size: 0.85rem; }} tr.match {{ background: #ffe9b3; }}
</style></head><body>
<h1>{html.escape(a)} and {html.escape(b)}: {row.similarity:.0%} of the smaller answer's fingerprints shared</h1>
<p>Highlighted: lines inside a passage both answers contain (after renaming identifiers and dropping comments).
Read both before concluding anything: similar code can have innocent causes.</p>
<div class="sides">{column(first)}{column(second)}</div>
</body></html>
"""


def heatmap(comparison: Comparison, top: int = 25) -> bytes:
    """Similarity between the students of the top pairs, as a PNG heatmap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = comparison.pairs.head(top)
    students = sorted(set(pairs.student_a) | set(pairs.student_b))
    index = {s: i for i, s in enumerate(students)}
    matrix = np.full((len(students), len(students)), np.nan)
    for row in comparison.pairs.itertuples():
        if row.student_a in index and row.student_b in index:
            matrix[index[row.student_a], index[row.student_b]] = matrix[index[row.student_b],
                                                                        index[row.student_a]] = row.similarity
    size = max(4.0, 0.32 * len(students) + 2)
    fig, ax = plt.subplots(figsize=(size + 1.5, size), constrained_layout=True)
    image = ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(students)), students, rotation=90, fontsize=8)
    ax.set_yticks(range(len(students)), students, fontsize=8)
    ax.set_title(f"Shared fingerprints, students of the top {len(pairs)} pairs")
    fig.colorbar(image, ax=ax, label="similarity (share of the smaller answer)")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def write_report(comparison: Comparison, out: Path, top: int = 20) -> Path:
    """``similarity.csv``, ``similarity.png``, ``index.html`` and ``pairs/*.html`` in ``out``; the index path."""
    from autograder.ledger import write_atomically

    out = Path(out)
    write_atomically(out / "similarity.csv", comparison.pairs.to_csv(index=False))
    if len(comparison.pairs):
        write_atomically(out / "similarity.png", heatmap(comparison))
    links = []
    for row in comparison.pairs.head(top).itertuples():
        name = f"pairs/{row.rank:03d}.html"
        write_atomically(out / name, side_by_side(comparison, row.student_a, row.student_b))
        links.append(f"<tr><td>{row.rank}</td><td><a href='{name}'>{html.escape(row.student_a)} and "
                     f"{html.escape(row.student_b)}</a></td><td>{row.similarity:.0%}</td><td>{row.shared}</td></tr>")
    image = "<img src='similarity.png' alt='Heatmap of similarity between the students of the top pairs'>" \
        if len(comparison.pairs) else ""
    write_atomically(out / "index.html", f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Similarity report</title>
<style>body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1a1a1a; background: #fff; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 0.3rem 0.6rem; border-bottom: 1px solid #ccc; }}
img {{ max-width: 100%; }}</style></head><body>
<h1>Similarity report: {len(comparison.answers)} students, {len(comparison.pairs)} pairs with shared code</h1>
<p>Ranked by the share of the smaller answer's fingerprints found in the other. A place to look, not a verdict.</p>
<table><thead><tr><th>rank</th><th>pair</th><th>similarity</th><th>shared fingerprints</th></tr></thead>
<tbody>{''.join(links)}</tbody></table>
{image}
</body></html>
""")
    return out / "index.html"
