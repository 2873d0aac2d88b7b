"""A reader's audit of the built book: it passes on every page, and each of its checks finds its defect."""

from __future__ import annotations

import json
import shutil

import pytest
from audit import (
    audit,
    machine_paths,
    notebook_problems,
    raw_myst,
    svg_text_sizes,
    unlinked_references,
    visible_glue,
)
from browser import screenshot_dir, toc_pages
from bs4 import BeautifulSoup

ASSIGNMENTS = ["canary", "ks_drift", "mcnemar"]


def soup(body: str) -> BeautifulSoup:
    return BeautifulSoup(f"<html><body><article>{body}</article></body></html>", "html.parser")


def test_raw_myst_is_found_in_a_broken_fence_and_not_in_rendered_text():
    broken = "Question 4\n```{dropdown} A colleague replaces `model.pkl`\nSummary: {glue:text}`n_train` emails"
    assert len(raw_myst(broken)) == 2
    assert raw_myst("A dropdown that rendered: its answer, and 7,000 emails.") == []


def test_machine_paths_and_placeholders_are_found_and_relative_paths_are_not():
    assert machine_paths("saved to /home/runner/work/course/artifacts/models") != []
    assert machine_paths("saved to …/artifacts/models/model_v1.0.pkl") != []
    assert machine_paths(r"saved to C:\Users\ana\course") != []
    assert machine_paths("TODO: explain the threshold") != []
    assert machine_paths("saved to models/model_v1.0.pkl in the artifact folder (artifacts/ by default)") == []


def test_glue_bookkeeping_in_a_shown_code_cell_is_found():
    shown = soup('<div class="cell"><div class="cell_input"><pre>rate = hits / n\nglue("rate", rate)</pre></div></div>')
    assert visible_glue(shown) == ['glue("rate", rate)']
    assert visible_glue(soup('<div class="cell_input"><pre>rate = hits / n</pre></div>')) == []


def test_chapter_and_assignment_mentions_must_be_links():
    page = soup('<h1>Challenge 2: active learning</h1>'
                '<p>As <a href="03.html">Chapter 3</a> showed, and Chapter 4 repeats, the '
                '<code>ks_drift</code> assignment asks for <code>ks_statistic</code>; the canary assignment too.</p>'
                '<p>Release <code class="literal"><span class="pre">mcnemar</span></code> in week 3, with '
                '<code><span class="pre">nbgrader</span> <span class="pre">generate_assignment</span> '
                '<span class="pre">canary</span></code>.</p>'
                '<p>The <a href="intro.html#assignment-mcnemar"><code>mcnemar</code> assignment</a>.</p>'
                '<div class="cell_input"><pre># Chapter 5 trains v2.0</pre></div>')
    assert sorted(unlinked_references(page, ASSIGNMENTS)) == ["Chapter 4", "canary assignment", "ks_drift assignment",
                                                                "mcnemar assignment"]


def test_the_size_of_svg_text_is_read_in_the_drawing_units(tmp_path):
    svg = tmp_path / "figure.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="648pt" height="324pt" viewBox="0 0 648 324">'
                   '<text style="font-size: 11px; font-family: sans-serif">TPR</text>'
                   '<g><text style="font: 9px \'DejaVu Sans\'">daily</text></g></svg>')
    assert svg_text_sizes(svg) == (648.0, [11.0, 9.0])


def test_a_notebook_printing_a_build_path_is_reported(tmp_path):
    notebook = tmp_path / "chapter.ipynb"
    output = {"output_type": "stream", "name": "stdout", "text": ["saved to /work/build/artifacts/models\n"]}
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": "save()", "outputs": [output]}]}))
    assert notebook_problems(notebook) == ["machine path or placeholder: '/work/build'"]


# A page of the real book, broken in every way the audit knows.
DEFECTS = {
    "raw MyST": '<p>```{dropdown} 4. A colleague replaces the model</p><p>{glue:text}`n_train` emails</p>',
    "machine path or placeholder": "<p>Models are saved to /home/runner/work/course/artifacts/models.</p>",
    "visible glue bookkeeping": '<div class="cell"><div class="cell_input"><pre>glue("n", 7, display=False)</pre>'
                                "</div></div>",
    "not a link": "<p>As Chapter 3 showed, the <code>ks_drift</code> assignment asks for it.</p>",
    "table wider than the text column": "<table>" + "".join(f"<td>a&nbsp;long&nbsp;cell&nbsp;{i}</td>"
                                                            for i in range(40)) + "</table>",
    "figure text": '<img src="../_images/tiny-text.svg" alt="A figure whose labels are four pixels high">',
    "figure is a bitmap": '<img src="../_static/favicon.png" alt="A figure drawn as a bitmap" style="width:300px">',
    "the page scrolls sideways": '<div style="width: 1800px">a line wider than any screen</div>',
}


@pytest.mark.slow
def test_every_page_and_download_of_both_books_passes_the_readers_audit(two_builds, browser):
    students, instructors = two_builds
    assert audit(students / "_build" / "html", toc_pages(), browser, screenshot_dir()) == {}
    guide = [page for page in toc_pages(instructors / "_toc.yml") if page not in toc_pages()]
    assert guide, "the instructors' book has no pages of its own"
    assert audit(instructors / "_build" / "html", guide, browser) == {}


@pytest.mark.slow
def test_a_page_broken_on_purpose_fails_every_check(two_builds, browser, tmp_path):
    build, _ = two_builds
    site = tmp_path / "html"
    shutil.copytree(build / "_build" / "html", site)
    (site / "_images" / "tiny-text.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="648pt" height="200pt" viewBox="0 0 648 200">'
        '<text x="10" y="20" style="font-size: 4px">a label four units high</text></svg>')
    page = "book/02_deployment_monitoring.html"
    text = (site / page).read_text(encoding="utf-8")
    (site / page).write_text(text.replace("</article>", "".join(DEFECTS.values()) + "</article>", 1),
                             encoding="utf-8")
    notebook = site / "_sources" / "broken.ipynb"
    notebook.parent.mkdir(exist_ok=True)
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": "print(folder)", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": "/home/runner/artifacts/models"}]}]}))

    report = audit(site, [page, "book/01_baseline.html"], browser)

    assert set(report) == {page, "_sources/broken.ipynb"}, "only the broken page and notebook are reported"
    for defect in DEFECTS:
        assert any(defect in problem for problem in report[page]), f"{defect!r} not found in {report[page]}"


def test_the_audit_runs_on_the_files_alone_without_a_browser(tmp_path):
    page = tmp_path / "book" / "page.html"
    page.parent.mkdir()
    page.write_text(f"<html><body><article>{DEFECTS['not a link']}</article></body></html>")
    assert audit(tmp_path, ["book/page.html"]) == {
        "book/page.html": ["not a link: 'Chapter 3'", "not a link: 'ks_drift assignment'"]}
