"""Read the built book in headless Chromium, as a student would; shared by the browser tests.

The browser is Debian's Chromium driven by Playwright (``executable_path``:
Playwright never downloads a browser here). Pages are served over HTTP on
localhost, so the book's JavaScript (search, theme, MathJax) runs as it does
on a web server.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# The offline machine refuses Chromium's own background connections; these
# flags keep it from trying (and from filling the log with refusals).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
VIEWPORT = {"width": 1366, "height": 900}  # a common laptop screen


def chromium_executable() -> str | None:
    """Path of the Chromium to drive: ``$CHROMIUM`` or Debian's ``chromium``."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot_dir() -> Path:
    """Where screenshots go (a CI artifact): ``$PHISHLAB_SCREENSHOTS`` or ``_build/screenshots``."""
    folder = Path(os.environ.get("PHISHLAB_SCREENSHOTS", ROOT / "_build" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def toc_pages(toc: Path | None = None) -> list[str]:
    """Every page of a table of contents (default: the students' book's), in reading order, as ``book/….html``."""

    def walk(entries: list[dict]) -> Iterator[str]:
        for entry in entries:
            if "file" in entry:
                yield f"{entry['file']}.html"
            yield from walk(entry.get("sections", []))
            yield from walk(entry.get("chapters", []))
            for part in entry.get("parts", []):
                yield from walk(part.get("chapters", []))

    if toc is None:
        from editions.build import instructors_pages

        text = instructors_pages((ROOT / "_toc.yml").read_text(encoding="utf-8"))[0]
    else:
        text = toc.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return [f"{data['root']}.html", *walk(data.get("parts", [])), *walk(data.get("chapters", []))]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on a free localhost port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class PageReport:
    """What a reader would have seen go wrong on one page."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    empty_outputs: int = 0

    def problems(self) -> list[str]:
        return ([f"console error: {text}" for text in self.console_errors]
                + [f"failed request: {text}" for text in self.failed_requests]
                + [f"broken image: {src}" for src in self.broken_images]
                + ([f"{self.empty_outputs} code-cell output(s) render empty"] if self.empty_outputs else []))


# Load every image now (also lazy ones and those in closed menus); decode() fails for a broken one.
_BROKEN_IMAGES = """async () => {
    const images = Array.from(document.images);
    const loaded = await Promise.all(images.map(img => {
        img.loading = 'eager';
        return img.decode().then(() => true, () => false);
    }));
    return images.filter((img, i) => !loaded[i]).map(img => img.getAttribute('src'));
}"""

_EMPTY_OUTPUTS = """() => Array.from(document.querySelectorAll('.cell_output'))
    .filter(el => el.getBoundingClientRect().height < 2).length"""


def open_page(page, url: str) -> PageReport:
    """Load ``url`` in a fresh Playwright ``page`` and report what went wrong.

    The page must be new: the listeners registered here stay on it.
    """
    report = PageReport(url)
    page.on("console", lambda message: message.type == "error" and report.console_errors.append(message.text))
    page.on("pageerror", lambda error: report.console_errors.append(f"uncaught {error}"))
    page.on("requestfailed", lambda request: report.failed_requests.append(f"{request.failure} {request.url}"))
    page.on("response", lambda response: response.status >= 400
            and report.failed_requests.append(f"{response.status} {response.url}"))
    page.goto(url, wait_until="load")
    # MathJax and the theme finish their work after "load".
    page.wait_for_load_state("networkidle")
    report.broken_images = page.evaluate(_BROKEN_IMAGES)
    report.empty_outputs = page.evaluate(_EMPTY_OUTPUTS)
    return report


def screenshot_name(page_path: str, suffix: str = "") -> str:
    """``book/01_baseline.html`` -> ``book-01_baseline.png``."""
    return re.sub(r"[^\w.-]+", "-", page_path.removesuffix(".html")) + suffix + ".png"
