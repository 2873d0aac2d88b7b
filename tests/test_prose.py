"""Every number in a page's prose and captions is a glued value or a constant the page names."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import toc_pages
from prose import front_matter, normal, prose, unexplained_numerals

ROOT = Path(__file__).resolve().parents[1]
# The students' book: chapters, challenges and the introduction (the bibliography has no prose).
PAGES = [page.removesuffix(".html") + ".md" for page in toc_pages() if not page.endswith("bibliography.html")]

PAGE = """---
jupytext:
  text_representation:
    format_name: myst
prose_numbers:
  "7": the short rolling window, in days
  "90 %": the operations team's TPR target
---

# 2. Deployment and monitoring

The 7-day TPR of Chapter 3 fell below the 90 % target on {glue:text}`fired_7d`,
as Figure 2 and § 4.1 show for v1.0 in 2024; the rule $z > 1.96$ and `window=30`.

```{code-cell} ipython3
rolling = daily.rolling(14).sum()
```

```{glue:figure} fig_dashboard
:name: fig-dashboard
:width: 600px

Alerts fell from 315 in July.
```

:::{dropdown} 1. The daily TPR on 14 March is low. Should the on-call engineer act?
Not on one day of 12 phishing emails.
:::
"""


@pytest.mark.parametrize("page", PAGES)
def test_every_number_in_the_prose_is_glued_or_a_named_constant(page):
    found = unexplained_numerals((ROOT / page).read_text(encoding="utf-8"))
    assert found == [], f"{page}: numbers with no glued value or named constant behind them: {found}"


@pytest.mark.parametrize("page", PAGES)
def test_every_named_constant_still_appears_in_its_page(page):
    text = (ROOT / page).read_text(encoding="utf-8")
    named = [normal(str(numeral)) for numeral in front_matter(text).get("prose_numbers") or {}]
    body = " ".join(prose(text).split())
    assert [numeral for numeral in named if numeral.replace(" %", "") not in body] == []


def test_numbers_in_prose_captions_and_question_titles_are_found_and_the_rest_is_not():
    found = [numeral for numeral, _ in unexplained_numerals(PAGE)]
    assert found == ["315", "14", "12"]


def test_a_named_constant_explains_only_itself():
    assert [numeral for numeral, _ in unexplained_numerals(PAGE.replace('"7": the short', '"30": the long'))] \
        == ["7", "315", "14", "12"]
