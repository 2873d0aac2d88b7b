"""Check the links of the built HTML: internal targets must exist, external ones are only listed.

The book is built offline (CI has no internet), so external links are
collected for a person to review rather than fetched.
"""

from __future__ import annotations

import html.parser
from pathlib import Path
from urllib.parse import unquote, urlsplit

LINK_ATTRIBUTES = {"a": "href", "link": "href", "img": "src", "script": "src", "iframe": "src", "source": "src"}


class _Collector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.anchors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if values.get(name):
                self.anchors.add(values[name])
        attribute = LINK_ATTRIBUTES.get(tag)
        if attribute and values.get(attribute):
            self.links.append(values[attribute])


def parse(page: Path) -> _Collector:
    collector = _Collector()
    collector.feed(page.read_text(encoding="utf-8", errors="replace"))
    return collector


def check_links(html_root: Path) -> tuple[list[str], set[str]]:
    """Broken internal links and the set of external URLs of every page under ``html_root``.

    Returns
    -------
    broken : list of str
        ``"page -> link: reason"`` for each internal link whose file or anchor is missing.
    external : set of str
        Every http(s) link, not fetched.
    """
    # _static/ holds the theme's template fragments, not pages.
    pages = sorted(page for page in html_root.rglob("*.html") if "_static" not in page.relative_to(html_root).parts)
    anchors: dict[Path, set[str]] = {}
    parsed = {page: parse(page) for page in pages}
    for page, collector in parsed.items():
        anchors[page.resolve()] = collector.anchors
    broken, external = [], set()
    for page, collector in parsed.items():
        for link in collector.links:
            parts = urlsplit(link)
            if parts.scheme in {"http", "https"} or link.startswith("//"):
                external.add(link)
                continue
            if parts.scheme:  # mailto:, javascript:, data:
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.relative_to(html_root)} -> {link}"
            if not target.is_file():
                broken.append(f"{where}: no file {target.name}")
            elif parts.fragment and target.suffix == ".html":
                if target not in anchors:
                    anchors[target] = parse(target).anchors
                if unquote(parts.fragment) not in anchors[target]:
                    broken.append(f"{where}: no anchor #{parts.fragment}")
    return broken, external
