"""The built book in a real browser: pages, figures, outputs, navigation, search, downloads, layout."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from browser import (
    VIEWPORT,
    open_page,
    screenshot_dir,
    screenshot_name,
    serve,
    toc_pages,
)

pytestmark = pytest.mark.slow

PAGES = toc_pages()
# Pages that are executed notebooks (they have code cells, downloads and launch buttons).
NOTEBOOK_PAGES = [page for page in PAGES if re.search(r"/(\d\d_[^/]+)\.html$", page)]



@pytest.fixture(scope="module")
def site(two_builds):
    """Base URL of the first build, served on localhost."""
    build, _ = two_builds
    with serve(build / "_build" / "html") as url:
        yield url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    yield page
    context.close()


def visit(browser, url: str, **context_options):
    """A fresh page (own context) loaded at ``url`` and the report of its loading."""
    context = browser.new_context(viewport=VIEWPORT, **context_options)
    page = context.new_page()
    return context, page, open_page(page, url)


_IMAGES = """() => Array.from(document.querySelectorAll('article img'))
    .map(img => ({src: img.getAttribute('src'), alt: img.getAttribute('alt') || '',
                  width: img.getBoundingClientRect().width}))"""
_VISIBLE_OUTPUTS = """() => Array.from(document.querySelectorAll('.cell_output'))
    .filter(el => el.getBoundingClientRect().height >= 2).length"""
_LINKS = """selector => Array.from(document.querySelectorAll(selector))
    .map(a => new URL(a.getAttribute('href'), document.baseURI).href)"""


# The effective background of an element: the first non-transparent one up the tree.
_TEXT_COLOURS = """() => {
    const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
    const background = el => {
        for (; el; el = el.parentElement) {
            const c = rgb(getComputedStyle(el).backgroundColor);
            if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
        }
        return [255, 255, 255];
    };
    return Array.from(document.querySelectorAll('article p, article li, article td, article th, article pre'))
        .filter(el => el.innerText.trim() && el.getBoundingClientRect().height > 0)
        .map(el => ({text: el.innerText.trim().slice(0, 40), fg: rgb(getComputedStyle(el).color).slice(0, 3),
                     bg: background(el)}));
}"""


@pytest.fixture(scope="module")
def pages_seen(browser, site) -> dict[str, dict]:
    """What a reader sees on every page: one visit per page in light mode and one in dark mode.

    The dark mode's first screen is saved on the way; the reader's audit
    (tests/test_audit.py) saves the full pages at 1280 and 400 px.
    """
    shots = screenshot_dir()
    seen = {}
    for path in PAGES:
        context, page, report = visit(browser, site + path)
        facts = {
            "report": report,
            "images": page.evaluate(_IMAGES),
            "visible_outputs": page.evaluate(_VISIBLE_OUTPUTS),
            "sidebar": page.evaluate(_LINKS, "nav.bd-docs-nav a.reference"),
            "downloads": page.evaluate(_LINKS, ".dropdown-download-buttons a"),
            "launches": page.evaluate(_LINKS, ".dropdown-launch-buttons a"),
            "heading": page.locator("article h1").first.inner_text().strip("#¶ \n"),
            "colours light": page.evaluate(_TEXT_COLOURS),
            "theme light": page.evaluate("document.documentElement.dataset.theme"),
        }
        context.close()

        context = browser.new_context(viewport=VIEWPORT)
        context.add_init_script("localStorage.setItem('theme', 'dark'); localStorage.setItem('mode', 'dark');")
        page = context.new_page()
        page.goto(site + path)
        page.screenshot(path=shots / screenshot_name(path, "-dark"))
        facts["colours dark"] = page.evaluate(_TEXT_COLOURS)
        facts["theme dark"] = page.evaluate("document.documentElement.dataset.theme")
        context.close()
        seen[path] = facts
    return seen


def test_the_toc_lists_every_chapter_and_challenge():
    assert PAGES[0] == "book/intro.html"
    assert len(NOTEBOOK_PAGES) >= 11, NOTEBOOK_PAGES


def test_every_page_loads_without_console_errors_or_broken_images(pages_seen):
    problems = {path: seen["report"].problems() for path, seen in pages_seen.items() if seen["report"].problems()}
    assert problems == {}


def test_every_figure_is_displayed_with_its_alt_text(pages_seen):
    missing = {}
    for path, seen in pages_seen.items():
        for image in seen["images"]:
            alt = image["alt"].strip()
            # myst-nb's fallback alt text is the image's file name: not a description.
            if len(alt) < 15 or alt.endswith(".png") or image["width"] < 100:
                missing.setdefault(path, []).append(image)
    assert missing == {}
    assert sum(len(seen["images"]) for seen in pages_seen.values()) >= 15, "too few figures: checked nothing?"


def test_code_cells_show_their_outputs(pages_seen, two_builds):
    build, _ = two_builds
    for path in NOTEBOOK_PAGES:
        notebook = build / "_build" / "jupyter_execute" / path.replace(".html", ".ipynb")
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        shown = [cell for cell in cells if cell["cell_type"] == "code" and cell.get("outputs")
                 and not {"remove-cell", "remove-output"} & set(cell["metadata"].get("tags", []))]
        seen = pages_seen[path]
        assert shown, f"{path} shows no output at all"
        assert seen["visible_outputs"] >= len(shown), \
            f"{path}: {seen['visible_outputs']} visible outputs for {len(shown)} cells with output"
        assert seen["report"].empty_outputs == 0, path


def test_previous_and_next_links_walk_the_whole_book_in_toc_order(page, site):
    visited = []
    url = site + PAGES[0]
    while url and len(visited) <= len(PAGES):
        page.goto(url)
        visited.append(page.url.removeprefix(site))
        following = page.locator("a.right-next")
        url = following.get_attribute("href") if following.count() else None
        url = page.evaluate("href => new URL(href, document.baseURI).href", url) if url else None
    assert visited == PAGES
    backwards = []
    url = site + PAGES[-1]
    while url and len(backwards) <= len(PAGES):
        page.goto(url)
        backwards.append(page.url.removeprefix(site))
        previous = page.locator("a.left-prev")
        href = previous.get_attribute("href") if previous.count() else None
        url = page.evaluate("href => new URL(href, document.baseURI).href", href) if href else None
    assert backwards == PAGES[::-1]


def test_the_sidebar_reaches_every_page_from_every_page(pages_seen, site):
    for path, seen in pages_seen.items():
        reached = {link.removeprefix(site).split("#")[0] for link in seen["sidebar"]}
        assert set(PAGES) - {PAGES[0]} <= reached, f"{path}: the sidebar misses {set(PAGES) - reached}"


def search_term(page) -> str:
    """The longest word of the page's title: a term search must find on that page."""
    title = page.locator("article h1").first.inner_text()
    words = re.findall(r"[A-Za-z][a-z]{5,}", title)
    return max(words, key=len)


def test_search_finds_every_chapter(page, site):
    for path in PAGES:
        page.goto(site + path)
        term = search_term(page)
        page.goto(f"{site}search.html?q={term}")
        # Results appear one by one; the summary line changes when the last is shown.
        page.wait_for_function("""() => {
            const summary = document.querySelector('#search-results p.search-summary');
            return summary && /Search finished|did not match/.test(summary.innerText);
        }""", timeout=30_000)
        hits = page.locator("#search-results ul.search li a").evaluate_all(
            "els => els.map(a => new URL(a.getAttribute('href'), document.baseURI).pathname)")
        assert any(hit.endswith("/" + path) or hit == "/" + path for hit in hits), f"'{term}' does not find {path}"


def test_download_buttons_give_the_source_and_the_executed_notebook(pages_seen, page):
    for path in NOTEBOOK_PAGES:
        links = pages_seen[path]["downloads"]
        sources = [link for link in links if link.endswith(".md")]
        notebooks = [link for link in links if link.endswith(".ipynb")]
        assert sources and notebooks, f"{path} offers {links}"
        source = page.request.get(sources[0])
        assert source.ok and pages_seen[path]["heading"].split(":")[0] in source.text(), sources[0]
        notebook = page.request.get(notebooks[0])
        assert notebook.ok, notebooks[0]
        cells = json.loads(notebook.text())["cells"]
        assert any(cell.get("outputs") for cell in cells if cell["cell_type"] == "code"), \
            f"{notebooks[0]} is not the executed notebook"


def test_notebook_pages_offer_launching_on_binder(pages_seen):
    for path in NOTEBOOK_PAGES:
        links = pages_seen[path]["launches"]
        binder = [link for link in links if "mybinder.org" in link]
        assert binder, f"{path} offers no Binder launch: {links}"
        query = parse_qs(urlparse(binder[0]).query)
        assert query["urlpath"] == [f"lab/tree/{path.replace('.html', '.md')}"], binder[0]


def contrast_ratio(foreground: list[float], background: list[float]) -> float:
    """WCAG contrast ratio of two sRGB colours given as 0-255 triples."""

    def luminance(rgb: list[float]) -> float:
        channels = [c / 255 for c in rgb[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_and_tables_are_readable_in_light_and_dark_mode(pages_seen, theme):
    unreadable = {}
    for path, seen in pages_seen.items():
        assert seen[f"theme {theme}"] == theme
        low = [element for element in seen[f"colours {theme}"] if contrast_ratio(element["fg"], element["bg"]) < 4.5]
        if low:
            unreadable[path] = low
    assert unreadable == {}


def test_a_deleted_figure_and_a_throwing_page_are_reported(browser, two_builds, tmp_path):
    """The checks above fail on a broken copy of the book, so they can fail at all."""
    build, _ = two_builds
    broken = tmp_path / "html"
    shutil.copytree(build / "_build" / "html", broken)
    figure_page = "book/03_concept_drift.html"
    text = (broken / figure_page).read_text(encoding="utf-8")
    figure = re.findall(r'<img[^>]+src="([^"]*_images/[^"]+\.svg)"', text)[0]
    (broken / Path(figure_page).parent / figure).resolve().unlink()
    throwing_page = "book/05_ab_canary.html"
    text = (broken / throwing_page).read_text(encoding="utf-8")
    (broken / throwing_page).write_text(
        text.replace("</body>", "<script>throw new Error('deliberately broken page');</script></body>"),
        encoding="utf-8")
    with serve(broken) as url:
        reports = {}
        for path in (figure_page, throwing_page, "book/intro.html"):
            context, _, reports[path] = visit(browser, url + path)
            context.close()
    assert any(Path(figure).name in src for src in reports[figure_page].broken_images)
    assert any("deliberately broken page" in error for error in reports[throwing_page].console_errors)
    assert reports["book/intro.html"].problems() == []
