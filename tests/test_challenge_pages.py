"""Every challenge poses the question and the exercise first and folds the worked answer after it.

Read from the Markdown sources, so no build is needed: a page passes when its
"Your turn" box (a tip admonition under an ``(ex-...)=`` label) comes before the
"Worked answer" section; in that section every code cell is folded
(``hide-cell``) or removed, and all prose sits in "Worked answer: ..."
dropdowns, apart from one short paragraph under the heading; and no code cell a
reader can unfold calls ``glue``. Each rule is shown to catch a page that breaks it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Every challenge page: the numbered ones in book/challenges (the index is not a challenge).
PAGES = sorted((ROOT / "book" / "challenges").glob("[0-9][0-9]_*.md"))
CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```$", re.S | re.M)
EXERCISE = re.compile(r"^\(ex-[\w-]+\)=\n:::\{admonition\} Your turn\n:class: tip\n", re.M)
WORKED = "\n## Worked answer\n"
HIDDEN = ("remove-cell", "remove-input")


def tags(cell: str) -> list[str]:
    match = re.search(r"^:tags: \[(.*)\]", cell, re.M)
    return [tag.strip() for tag in match.group(1).split(",")] if match else []


def layout_problems(text: str) -> list[str]:
    """What in a challenge page breaks the exercise-first, folded-answer layout (empty if nothing)."""
    problems = []
    exercise = EXERCISE.search(text)
    if not exercise:
        problems.append("no '(ex-…)=' label followed by a ':::{admonition} Your turn' tip box")
    if WORKED not in text:
        return [*problems, "no '## Worked answer' section"]
    answer_start = text.index(WORKED)
    if exercise and exercise.start() > answer_start:
        problems.append("the exercise comes after the worked answer")
    for cell in CELL.finditer(text):
        cell_tags = tags(cell.group(1))
        if "glue(" in cell.group(1) and not any(tag in HIDDEN for tag in cell_tags):
            problems.append(f"a code cell a reader can see or unfold calls glue: {cell.group(1)[:60]!r}")
        if cell.start() > answer_start and not any(tag in (*HIDDEN, "hide-cell") for tag in cell_tags):
            problems.append(f"an unfolded code cell in the worked answer: {cell.group(1)[:60]!r}")
    answer = CELL.sub("", text[answer_start + len(WORKED):])
    depth, paragraphs_outside, in_paragraph = 0, 0, False
    for line in answer.splitlines():
        if depth == 0 and line.startswith("#"):
            problems.append(f"a heading inside the worked answer: {line!r}")
        if re.match(r"^:::\{dropdown\} Worked answer: ", line):
            depth += 1
            in_paragraph = False
            continue
        if depth == 0 and line.startswith(":::{"):
            problems.append(f"a block of the worked answer outside its dropdowns: {line!r}")
        if line.strip() == ":::" and depth:
            depth -= 1
            continue
        if depth == 0 and line.strip() and not in_paragraph:
            paragraphs_outside += 1
        in_paragraph = depth == 0 and bool(line.strip())
    if paragraphs_outside > 1:
        problems.append(f"{paragraphs_outside - 1} paragraph(s) of the worked answer outside its dropdowns")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.stem)
def test_the_exercise_comes_first_and_the_worked_answer_is_folded(page):
    assert layout_problems(page.read_text(encoding="utf-8")) == []


GOOD = """# Challenge

## The question

What is it?

(ex-x)=
:::{admonition} Your turn
:class: tip

Try it.
:::

## Worked answer

Folded below.

```{code-cell} ipython3
:tags: [hide-cell]

x = 1
```

```{code-cell} ipython3
:tags: [remove-cell]

glue("x", x, display=False)
```

:::{dropdown} Worked answer: the result
It is {glue:text}`x`.
:::
"""


def test_the_layout_rules_accept_a_folded_page():
    assert layout_problems(GOOD) == []


@pytest.mark.parametrize("broken, problem", [
    (GOOD.replace(":class: tip\n", ""), "tip box"),
    (GOOD.replace("(ex-x)=\n", ""), "tip box"),
    # The worked answer shown before the exercise, as the pages used to be.
    ("# Challenge\n" + GOOD[GOOD.index(WORKED):] + GOOD[len("# Challenge\n"):GOOD.index(WORKED)],
     "after the worked answer"),
    (GOOD.replace(":tags: [hide-cell]\n\nx = 1", "x = 1"), "unfolded code cell"),
    (GOOD.replace(":tags: [remove-cell]\n\nglue(", ":tags: [hide-cell]\n\nglue("), "calls glue"),
    (GOOD.replace(":::{dropdown} Worked answer: the result\nIt is {glue:text}`x`.\n:::",
                  "It is {glue:text}`x`."), "outside its dropdowns"),
    (GOOD + "\n### Step 2\n", "heading"),
    (GOOD.replace(WORKED, "\n## Answer\n"), "no '## Worked answer'"),
])
def test_the_layout_rules_catch_a_broken_page(broken, problem):
    assert any(problem in found for found in layout_problems(broken)), layout_problems(broken)
