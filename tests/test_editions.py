"""The two editions: what students may see leads to no solution, and every link goes somewhere real.

The editions are written from a clean clone of this repository by the command
a maintainer runs (``python3 tasks.py edition ...``). The rendered students'
book is the session's first book build (see ``conftest.py``), made from the
students' edition folder alone.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from book_build import PUBLISHED
from leaks import find_leaks, visible_text

from editions.build import PLACEHOLDER, instructors_pages, publishing_config, settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
# A line this long from a grader or a fixture is specific to it.
MIN_SPECIFIC = 40


def tasks(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "tasks.py", *args], cwd=folder, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A clean clone of this repository (what a maintainer starts from)."""
    folder = tmp_path_factory.mktemp("clone") / "course"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(folder)], check=True)
    return folder


@pytest.fixture(scope="module")
def editions(clone, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("editions")
    for kind in ("students", "instructors"):
        completed = tasks(clone, "edition", kind, str(out / kind))
        assert completed.returncode == 0, completed.stderr
        assert f"wrote the {kind}' edition" in completed.stdout
    return {"students": out / "students", "instructors": out / "instructors", "clone": clone}


def files(folder: Path) -> dict[str, Path]:
    return {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*")) if p.is_file()}


def _specific_lines(paths) -> set[str]:
    lines = set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if len(line) >= MIN_SPECIFIC and not line.startswith(("#", '"""', "import ", "from ")):
                lines.add(line)
    return lines


# --- the students' edition ---------------------------------------------------------------------------------


def test_the_students_edition_holds_no_solution_hidden_test_grader_fixture_or_guide(editions):
    students = files(editions["students"])
    text = {name: path.read_text(encoding="utf-8", errors="ignore") for name, path in students.items()}
    assert find_leaks(list(students.values())) == []
    assert not [name for name, content in text.items() if "BEGIN HIDDEN TESTS" in content or "BEGIN SOLUTION"
                in content]
    for top in ("solutions", "autograder", "tests", "benchmarks", "editions", "book/ta_guide", ".ci",
                "nbgrader_config.py"):
        assert not [name for name in students if name == top or name.startswith(top + "/")], top
    clone = editions["clone"]
    # The test plan and its hints, and what each wrong-answer fixture is about -- minus the
    # signatures, docstrings and everyday code lines that the releases and the package share with them.
    public = {line.strip() for path in (clone / "exercises").rglob("*.ipynb")
              for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
              for line in "".join(cell["source"]).splitlines()}
    public |= _specific_lines((clone / "src" / "phishlab").rglob("*.py"))
    descriptions = {ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
                    for path in (clone / "autograder" / "assignments").rglob("fixtures/*/*.py")}
    graders = (_specific_lines(path for path in (clone / "autograder" / "assignments").rglob("*.py")
                               if "fixtures" not in path.parts)
               | {" ".join(text.split())[:80] for text in descriptions if len(text) >= MIN_SPECIFIC}) - public
    assert len(graders) > 200
    flat = {name: " ".join(content.split()) for name, content in text.items()}
    found = [(name, line) for name, content in flat.items() for line in graders if " ".join(line.split()) in content]
    assert found == [], found[:5]
    assert "For instructors" not in text["_toc.yml"] and "ta_guide" not in text["_toc.yml"]


def test_the_students_edition_is_what_a_student_needs(editions):
    students = editions["students"]
    for name in ("README.md", "LICENSE", "_config.yml", "_toc.yml", "pyproject.toml", "requirements.lock",
                 "tasks.py", "binder/requirements.txt", "binder/postBuild", "book/intro.md",
                 "exercises/ks_drift/ks_drift.ipynb", "exercises/mcnemar/mcnemar.ipynb",
                 "exercises/canary/canary.ipynb", "src/phishlab/__init__.py",
                 "src/phishlab/challenges/cost_weighted.py"):
        assert (students / name).is_file(), name
    assert len(list((students / "exercises" / "challenges").glob("*.ipynb"))) == 5
    readme = (students / "README.md").read_text(encoding="utf-8")
    for topic in ("## Read the book", "## Install `phishlab`", "## Do an assignment", "Submitting", "Licence"):
        assert topic in readme
    # In an edition the task runner offers setup and book only: there is nothing to test or to publish.
    for command in ("test", "edition"):
        refused = tasks(students, command)
        assert refused.returncode == 1 and "python3 tasks.py book" in refused.stderr


def test_the_instructors_edition_is_the_whole_course(editions):
    tracked = set(subprocess.run(["git", "ls-files"], cwd=editions["clone"], capture_output=True, text=True,
                                 check=True).stdout.split())
    written = set(files(editions["instructors"])) - {".edition.json"}
    assert written == tracked
    assert "For instructors" in (editions["instructors"] / "_toc.yml").read_text(encoding="utf-8")


# --- links that work or do not exist --------------------------------------------------------------------------


def test_without_a_url_there_is_no_button_and_no_install_line(editions):
    assert settings("students", editions["clone"] / "editions" / "editions.toml")["repository"] == ""
    students = editions["students"]
    config = (students / "_config.yml").read_text(encoding="utf-8")
    assert 'url: ""' in config and "use_repository_button: false" in config
    assert 'binderhub_url: ""' in config and 'jupyterhub_url: ""' in config and 'colab_install: ""' in config
    readme = (students / "README.md").read_text(encoding="utf-8")
    assert "pip install git+" not in readme
    for name, path in files(students).items():
        assert not PLACEHOLDER.search(path.read_text(encoding="utf-8", errors="ignore")), name


def test_with_a_url_the_buttons_and_the_install_line_point_at_that_edition():
    values = PUBLISHED["students"]
    config = publishing_config((ROOT / "_config.yml").read_text(encoding="utf-8"), values)
    assert f"url: \"{values['repository']}\"" in config and "use_repository_button: true" in config
    assert f"pip install git+{values['repository']}" in config
    assert PUBLISHED["instructors"]["repository"] not in config


def test_publishing_an_edition_without_its_url_fails_in_one_line(editions, tmp_path):
    completed = tasks(editions["clone"], "edition", "students", str(tmp_path / "out"), "--publish")
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        "error: set the students' repository URL in editions/editions.toml before publishing"]
    assert not (tmp_path / "out").exists()


def test_publishing_refuses_a_placeholder_left_in_a_page(editions, tmp_path):
    clone = editions["clone"]
    settings_file = clone / "editions" / "editions.toml"
    original = settings_file.read_text(encoding="utf-8")
    page = clone / "book" / "intro.md"
    text = page.read_text(encoding="utf-8")
    try:
        url = PUBLISHED["students"]["repository"]
        settings_file.write_text(original.replace('repository = ""', f'repository = "{url}"', 1), encoding="utf-8")
        page.write_text(text + "\nClone https://github.com/your-org/phishing-detector-course.\n", encoding="utf-8")
        completed = tasks(clone, "edition", "students", str(tmp_path / "out"), "--publish")
    finally:
        settings_file.write_text(original, encoding="utf-8")
        page.write_text(text, encoding="utf-8")
    assert completed.returncode == 2
    assert completed.stderr.strip() == "error: book/intro.md still holds the placeholder 'your-org'; replace it " \
                                       "before publishing"


def test_rewriting_an_edition_in_place_removes_what_left_the_course(tmp_path):
    from editions.build import EditionError, write_edition

    dest = write_edition("students", tmp_path / "students", values=PUBLISHED["students"])
    stale = dest / "book" / "removed-chapter.md"
    stale.write_text("gone\n", encoding="utf-8")
    marker = json.loads((dest / ".edition.json").read_text(encoding="utf-8"))
    marker["files"].append("book/removed-chapter.md")
    (dest / ".edition.json").write_text(json.dumps(marker), encoding="utf-8")
    write_edition("students", dest, values=PUBLISHED["students"])
    assert not stale.exists()
    with pytest.raises(EditionError, match="not a instructors' edition"):
        write_edition("instructors", dest)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine\n", encoding="utf-8")
    with pytest.raises(EditionError, match="choose an empty folder"):
        write_edition("students", tmp_path / "other")


# --- the package says what it is -------------------------------------------------------------------------------


def test_each_challenge_chapter_has_a_module_of_its_name():
    chapters = {re.sub(r"^\d\d_", "", p.stem) for p in (ROOT / "book" / "challenges").glob("[0-9][0-9]_*.md")}
    modules = {p.stem for p in (ROOT / "src" / "phishlab" / "challenges").glob("*.py")} - {"__init__"}
    assert chapters == modules and len(chapters) == 5
    core = (ROOT / "src" / "phishlab").glob("*.py")
    imports = re.compile(r"^\s*(from phishlab\.challenges|from phishlab import challenges|import phishlab\.challenges)",
                         re.M)
    assert not [p.name for p in core if imports.search(p.read_text(encoding="utf-8"))]


def test_the_toc_split_keeps_every_page_but_the_instructors_part():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    students, hidden, shown = instructors_pages(toc)
    assert hidden and all(page.startswith("book/ta_guide/") for page in hidden)
    assert "book/intro" in shown and "book/bibliography" in shown
    assert set(re.findall(r"file:\s*(\S+)", students)) == shown - {"book/intro"}


# --- the students' book, as built from its edition ---------------------------------------------------------------


def _published_files(build: Path) -> list[Path]:
    html = build / "_build" / "html"
    return [p for p in [*html.rglob("*.html"), *(html / "_sources").rglob("*"),
                        *(build / "_build" / "jupyter_execute").rglob("*.ipynb"), *html.rglob("*.ipynb")]
            if p.is_file()]


def test_the_students_book_names_no_placeholder_and_no_build_machine_path(two_builds):
    build = two_builds[0]
    published = _published_files(build)
    assert len(published) > 30
    machine = [str(build), str(ROOT), str(Path.home()) + "/", "pytest-of-"]
    for path in published:
        text = path.read_text(encoding="utf-8", errors="ignore")
        assert not PLACEHOLDER.search(text), f"{path} holds a placeholder"
        found = [word for word in machine if word in text]
        assert not found, f"{path} names the build machine's {found}"


def test_the_students_book_links_to_the_students_edition_only(two_builds):
    build = two_builds[0]
    students, instructors = PUBLISHED["students"]["repository"], PUBLISHED["instructors"]["repository"]
    chapter = (build / "_build" / "html" / "book" / "01_baseline.html").read_text(encoding="utf-8")
    assert f'href="{students}"' in chapter, "no repository button to the students' edition"
    binder = re.search(r'href="(https://mybinder\.org/v2/gh/[^"]+)"', chapter)
    assert binder and "phishlab-course/phishing-detector/main" in binder.group(1)
    assert f"pip install git+{students}" in visible_text(build / "_build" / "html" / "book" / "intro.html")
    for path in _published_files(build):
        assert instructors not in path.read_text(encoding="utf-8", errors="ignore"), path
