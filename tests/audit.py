"""A reader's audit of the built book: what a student would see go wrong on a page.

Two kinds of check, shared by the book tests and runnable by hand:

* on the files (``static_problems``): raw MyST where a directive or role failed
  to parse, paths of the build machine or placeholders, code cells whose
  visible source is glue bookkeeping, and mentions of "Chapter N", "Challenge N"
  or a graded assignment that are not links;
* in Chromium at a laptop's and a phone's width (``browser_problems``): the
  page scrolling sideways, a table wider than the text column without a
  scrolling container, and figure text smaller than :data:`MIN_FIGURE_TEXT_PX`.

Run ``python tests/audit.py _build/html [book/03_concept_drift.html …]`` after
``python3 tasks.py book`` to list every problem of the built book; screenshots of
each page at both widths land in ``_build/screenshots`` (or ``$PHISHLAB_SCREENSHOTS``).
"""

from __future__ import annotations

import html as html_module
import json
import re
import sys
from pathlib import Path
from xml.etree import ElementTree

from bs4 import BeautifulSoup, NavigableString

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Figure text a reader can read: at 1280 px the content column is about 670 px
# wide; on a 400 px phone figures are shown 600 px wide and scroll sideways.
MIN_FIGURE_TEXT_PX = {1280: 9.0, 400: 7.0}
WIDTHS = tuple(MIN_FIGURE_TEXT_PX)

# Markup a reader must never see: it shows when a directive or role failed to parse.
RAW_MYST = re.compile(r"```\{|:::\{|\{(?:glue|glue:text|glue:figure|glue:md|dropdown|doc|ref|numref|cite|"
                      r"admonition|figure|table)\}?[`:]")
# Absolute paths of a build machine, and text left for someone to fill in.
MACHINE_PATH = re.compile(r"(?<![\w.])(?:/(?:home|Users|root|tmp|work|var/folders|private|opt/conda)/[\w.+-]+|"
                          r"[A-Z]:\\\\?[\w.+-]+|…/[\w.-]+/|\.\.\./[\w.-]+/|[\w.-]+/site-packages/)")
PLACEHOLDER = re.compile(r"\b(?:TODO|FIXME|XXX|TBD|lorem ipsum)\b|<your[-_ ][\w-]+>|your-(?:org|user(?:name)?)\b",
                         re.I)
GLUE_LINE = re.compile(r"^\s*(?:glue\(|from myst_nb import glue)")
CROSS_REFERENCE = re.compile(r"\b(?:Chapter|Challenge) \d+\b")


def assignment_ids() -> list[str]:
    """The graded assignments' names, as the graders discover them."""
    from autograder.assignments import assignments

    return list(assignments())


def raw_myst(text: str) -> list[str]:
    """The raw MyST markup in a page's visible text, each with a little context."""
    return [text[max(match.start() - 30, 0):match.end() + 30] for match in RAW_MYST.finditer(text)]


def machine_paths(text: str) -> list[str]:
    """Build-machine paths and placeholders in ``text``."""
    return [match.group() for pattern in (MACHINE_PATH, PLACEHOLDER) for match in pattern.finditer(text)]


def _article(soup: BeautifulSoup):
    return soup.find("article") or soup


def visible_text(soup: BeautifulSoup) -> str:
    """What a reader can read on the page (its article, without scripts and styles)."""
    article = _article(soup)
    for hidden in article.find_all(["script", "style"]):
        hidden.extract()
    return html_module.unescape(article.get_text(" "))


def visible_glue(soup: BeautifulSoup) -> list[str]:
    """Code cells whose shown source contains glue bookkeeping (each as its first glue line)."""
    found = []
    for source in _article(soup).select("div.cell_input pre, div.cell div.highlight pre"):
        lines = [line for line in source.get_text().splitlines() if GLUE_LINE.match(line)]
        if lines:
            found.append(lines[0].strip())
    return sorted(set(found))


def _inside(node, names: tuple[str, ...]) -> bool:
    return any(parent.name in names for parent in node.parents)


def unlinked_references(soup: BeautifulSoup, assignments: list[str]) -> list[str]:
    """Mentions of "Chapter N", "Challenge N" or a graded assignment that are not links.

    An assignment is mentioned as "the canary assignment" or by its name as code (``ks_drift``).

    The page's own title and the text of code cells are not mentions.
    """
    found = []
    names = re.compile(r"\b(" + "|".join(map(re.escape, assignments)) + r")\s+assignments?\b") if assignments \
        else None
    for string in _article(soup).find_all(string=True):
        if not isinstance(string, NavigableString) or _inside(string, ("a", "h1", "pre", "script", "style")):
            continue
        text = str(string)
        found += [match.group() for match in CROSS_REFERENCE.finditer(text)]
        if names:
            found += [match.group() for match in names.finditer(text)]
    # `ks_drift` written as code (the whole code, not a word of a longer command) is the assignment's name.
    for code in _article(soup).find_all("code"):
        if code.get_text().strip() in assignments and not _inside(code, ("a", "pre")):
            found.append(f"{code.get_text().strip()} assignment")
    return found


def static_problems(page: Path, assignments: list[str] | None = None) -> list[str]:
    """What is wrong with one rendered page without opening it in a browser."""
    assignments = assignment_ids() if assignments is None else assignments
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    text = visible_text(soup)
    return ([f"raw MyST: {found!r}" for found in raw_myst(text)]
            + [f"machine path or placeholder: {found!r}" for found in machine_paths(text)]
            + [f"visible glue bookkeeping: {found!r}" for found in visible_glue(soup)]
            + [f"not a link: {found!r}" for found in unlinked_references(soup, assignments)])


def notebook_problems(notebook: Path) -> list[str]:
    """Build-machine paths and placeholders in a downloadable notebook's sources and outputs."""
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    text = json.dumps([[cell.get("source"), cell.get("outputs", [])] for cell in cells], ensure_ascii=False)
    return [f"machine path or placeholder: {found!r}" for found in machine_paths(text.replace("\\n", "\n"))]


# Reported in the page: its sideways overflow, its wide tables, and its figures' displayed widths.
_LAYOUT = """() => {
    const column = document.querySelector('article').getBoundingClientRect().width;
    const scrolls = table => {
        for (let el = table.parentElement; el && el.tagName !== 'ARTICLE'; el = el.parentElement) {
            if (['auto', 'scroll'].includes(getComputedStyle(el).overflowX)
                && el.getBoundingClientRect().width <= column + 1) return true;
        }
        return false;
    };
    const tables = Array.from(document.querySelectorAll('article table'))
        .filter(t => t.getBoundingClientRect().width > column + 1 && !scrolls(t))
        .map(t => t.innerText.trim().slice(0, 40));
    const figures = Array.from(document.querySelectorAll('article img'))
        .filter(img => img.getBoundingClientRect().width > 0)
        .map(img => ({src: img.src, width: img.getBoundingClientRect().width}));
    const overflow = document.documentElement.scrollWidth - document.documentElement.clientWidth;
    return {overflow, tables, figures};
}"""


def svg_text_sizes(svg: Path) -> tuple[float, list[float]]:
    """The width of an SVG's drawing (user units) and the font size of each of its texts (same units)."""
    root = ElementTree.parse(svg).getroot()
    view_box = root.get("viewBox")
    width = float(view_box.split()[2]) if view_box else float(re.sub(r"[a-z]+$", "", root.get("width", "0")))
    sizes = []
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] != "text":
            continue
        style = element.get("style", "") + ";font-size:" + element.get("font-size", "")
        match = re.search(r"font-size:\s*([\d.]+)", style) or re.search(r"font:\s*(?:\w+\s+)*([\d.]+)px", style)
        if match:
            sizes.append(float(match.group(1)))
    return width, sizes


def figure_problems(figures: list[dict], site: Path, base_url: str, width: int) -> list[str]:
    """Figures drawn as bitmaps, or whose smallest text renders below the legible size at this width."""
    problems = []
    for figure in figures:
        relative = figure["src"].removeprefix(base_url).split("#")[0]
        if not relative.endswith(".svg"):
            problems.append(f"figure is a bitmap, not SVG: {relative}")
            continue
        drawing_width, sizes = svg_text_sizes(site / relative)
        if not sizes or not drawing_width:
            continue
        smallest = min(sizes) * figure["width"] / drawing_width
        if smallest < MIN_FIGURE_TEXT_PX[width]:
            problems.append(f"figure text {smallest:.1f} px at {width} px wide (minimum "
                            f"{MIN_FIGURE_TEXT_PX[width]:g}): {Path(relative).name}")
    return problems


def browser_problems(browser, site: Path, base_url: str, page_path: str, shots: Path | None = None) -> list[str]:
    """What is wrong with one page in Chromium at a laptop's and a phone's width.

    With ``shots``, a full-page screenshot at each width is saved there for a person to look at.
    """
    from browser import screenshot_name

    problems = []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(base_url + page_path, wait_until="load")
        page.wait_for_load_state("networkidle")
        # A reader may open every folded answer and cell: measure what they would then see.
        page.evaluate("() => document.querySelectorAll('article details').forEach(d => { d.open = true; })")
        layout = page.evaluate(_LAYOUT)
        if shots is not None:
            page.screenshot(path=shots / screenshot_name(page_path, f"-{width}"), full_page=True)
        context.close()
        if layout["overflow"] > 1:
            problems.append(f"the page scrolls sideways by {layout['overflow']} px at {width} px")
        problems += [f"table wider than the text column at {width} px, without a scroll container: {t!r}"
                     for t in layout["tables"]]
        problems += figure_problems(layout["figures"], site, base_url, width)
    return sorted(set(problems))


def audit(site: Path, pages: list[str], browser=None, shots: Path | None = None) -> dict[str, list[str]]:
    """Every problem of the given pages of a built site (``site`` is the ``_build/html`` folder).

    Without a browser only the file checks run; with one, screenshots at each
    width go to ``shots`` if given. Downloadable notebooks are checked whenever
    the site holds any.
    """
    from browser import serve

    assignments = assignment_ids()
    report = {page: static_problems(site / page, assignments) for page in pages}
    # The executed notebooks a reader downloads: in the site, and where the build executed them.
    for notebook in sorted([*site.rglob("*.ipynb"), *(site.parent / "jupyter_execute").rglob("*.ipynb")]):
        name = notebook.relative_to(site if notebook.is_relative_to(site) else site.parent)
        report[str(name)] = notebook_problems(notebook)
    if browser is not None:
        with serve(site) as base_url:
            for page in pages:
                report[page] += browser_problems(browser, site, base_url, page, shots)
    return {page: problems for page, problems in report.items() if problems}


def main(argv: list[str]) -> int:
    from browser import CHROMIUM_ARGS, chromium_executable, screenshot_dir, toc_pages
    from playwright.sync_api import sync_playwright

    site = Path(argv[0]) if argv else ROOT / "_build" / "html"
    if not (site / "index.html").is_file():
        print(f"error: no built book in {site} (build it with: python3 tasks.py book)", file=sys.stderr)
        return 2
    pages = argv[1:] or [page for page in toc_pages() if (site / page).exists()]
    missing = [page for page in pages if not (site / page).is_file()]
    if missing:
        print(f"error: {site} has no page {', '.join(missing)}", file=sys.stderr)
        return 2
    executable = chromium_executable()
    if executable is None:
        print("note: Chromium is not installed, so only the checks on the files ran "
              "(install it with: sudo apt-get install chromium)", file=sys.stderr)
        report = audit(site, pages)
    else:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            report = audit(site, pages, browser, screenshot_dir())
            browser.close()
    for page, problems in report.items():
        print(page)
        for problem in problems:
            print(f"  {problem}")
    print(f"{sum(map(len, report.values()))} problem(s) on {len(report)} page(s)")
    return 1 if report else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main(sys.argv[1:]))
