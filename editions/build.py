"""Write the students' or the instructors' edition of the course into a folder.

Standard library only (``tasks.py`` calls it before any environment exists).

* The **students'** edition is what may be published: the book without the
  instructors' part of the table of contents, the assignment releases and
  challenge notebooks in ``exercises/``, the ``phishlab`` package, ``binder/``,
  the build files, the licence, and a README written for students. Nothing
  else of this tree goes in: no solutions, graders, tests, fixtures or guide.
  It is chosen by folder (:data:`STUDENT_TREE`) and by the table of contents
  (the part captioned :data:`INSTRUCTORS_PART`), so a new file elsewhere stays
  out until someone decides otherwise.
* The **instructors'** edition is the whole tree.

Both get the repository, Binder and JupyterHub settings of their audience
from ``editions/editions.toml``; without a URL, no button and no install line
appears. ``publish=True`` refuses an edition whose URL is unset, or in which a
placeholder address remains.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import string
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ROOT / "editions" / "editions.toml"
KINDS = ("students", "instructors")
INSTRUCTORS_PART = "For instructors"
STUDENT_TREE = ("book", "exercises", "src/phishlab", "binder", "_ext", "_static", "_config.yml", "_toc.yml",
                "pyproject.toml", "requirements.lock", "tasks.py", "LICENSE")
"""What the students' edition takes from this tree (the book's instructors' part left out)."""
STUDENT_FILES = ROOT / "editions" / "students"
"""Files written for students in place of the instructors' ones (the README)."""
MARKER = ".edition.json"
"""Written into every edition folder: what it is, and which files it holds (for rewriting it in place)."""
PLACEHOLDER = re.compile(r"your-(org|university|course)\b|<(the )?course repository[^>]*>|github\.com/ORG\b")
KEPT = {"_build", "artifacts", ".venv", ".git", MARKER}
"""Names at the top of an edition folder that rewriting it leaves alone."""
STUDENT_GITIGNORE = """.venv/
__pycache__/
*.egg-info/
.ipynb_checkpoints/
_build/
artifacts/
"""


class EditionError(Exception):
    """The edition cannot be written as asked (one line for the user)."""


def settings(kind: str, path: Path = SETTINGS) -> dict[str, str]:
    """The publishing settings of one audience, with every key present."""
    table = tomllib.loads(path.read_text(encoding="utf-8")).get(kind, {})
    keys = ("repository", "branch", "book", "binderhub", "jupyterhub")
    values = {key: str(table.get(key, "")).strip() for key in keys}
    values["branch"] = values["branch"] or "main"
    return values


def source_files(root: Path = ROOT) -> list[str]:
    """The files of the working tree that are part of the course (git's view, or a walk without git)."""
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root,
                                capture_output=True, check=True).stdout.decode("utf-8").split("\0")
        return sorted(name for name in listed if name and (root / name).is_file())
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "_build", "artifacts", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}
        found = []
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d not in skip and not d.endswith(".egg-info")]
            found += [str((Path(folder) / n).relative_to(root)) for n in names]
        return sorted(found)


def instructors_pages(toc: str) -> tuple[str, set[str], set[str]]:
    """The table of contents without its instructors' part, that part's pages, and the pages kept."""
    kept, hidden, shown, skipping = [], set(), set(), False
    for line in toc.splitlines(keepends=True):
        caption = re.match(r"^  - caption:\s*(.+?)\s*$", line)
        if caption:
            skipping = caption.group(1).strip("'\"") == INSTRUCTORS_PART
        page = re.search(r"(?:file|root):\s*(\S+)", line)
        if page:
            (hidden if skipping else shown).add(page.group(1))
        if not skipping:
            kept.append(line)
    return "".join(kept), hidden, shown


def publishing_config(config: str, values: dict[str, str]) -> str:
    """``_config.yml`` with the repository, launch and install settings of ``values``."""
    url = values["repository"]
    block = (f"# publishing: begin\nrepository:\n  url: {json.dumps(url)}\n  path_to_book: \"\"\n"
             f"  branch: {values['branch']}\nlaunch_buttons:\n  notebook_interface: jupyterlab\n"
             f"  binderhub_url: {json.dumps(values['binderhub'] if url else '')}\n"
             f"  jupyterhub_url: {json.dumps(values['jupyterhub'] if url else '')}\n  thebe: false\n"
             "# publishing: end\n")
    config, count = re.subn(r"# publishing: begin\n.*?# publishing: end\n", lambda _: block, config, flags=re.S)
    install = f" Then run `!pip install git+{url}` in its first cell." if url else ""
    config, buttons = re.subn(r"(?m)^  use_repository_button: \w+.*$",
                              f"  use_repository_button: {'true' if url else 'false'}", config)
    config, substitutions = re.subn(r"(?m)^    colab_install: .*$", f"    colab_install: {json.dumps(install)}",
                                    config)
    if (count, buttons, substitutions) != (1, 1, 1):
        raise EditionError("_config.yml lacks its publishing block, use_repository_button or colab_install")
    return config


def student_readme(values: dict[str, str]) -> str:
    url = values["repository"]
    book = (f"The book is online at {values['book']}." if values["book"] else
            "Your course tells you where the book is online; you can also build it yourself.")
    install = (f"With Python 3.11 or newer, in a virtual environment:\n\n```bash\n"
               f"pip install git+{url}@{values['branch']}\n```\n\n" if url else "")
    install += ("From a copy of this folder, `python3 tasks.py setup` installs it into `.venv` with the exact "
                "versions the book was built with (`python3 tasks.py book` does too, before building the book).")
    template = string.Template((STUDENT_FILES / "README.md").read_text(encoding="utf-8"))
    return template.substitute(book_line=book, install_line=install)


def plan(kind: str, values: dict[str, str], root: Path = ROOT) -> dict[str, str | bytes]:
    """Every file of the edition: its relative path and content."""
    files = source_files(root)
    toc = (root / "_toc.yml").read_text(encoding="utf-8")
    contents: dict[str, str | bytes] = {}
    if kind == "students":
        toc, hidden, shown = instructors_pages(toc)
        # A folder of instructors' pages only (figures and all) stays out with them.
        hidden_folders = {str(Path(page).parent) for page in hidden} - {str(Path(page).parent) for page in shown}
        for name in files:
            path = Path(name)
            if not any(name == top or name.startswith(top + "/") for top in STUDENT_TREE):
                continue
            if path.with_suffix("").as_posix() in hidden or any(
                    name.startswith(folder + "/") for folder in hidden_folders):
                continue
            contents[name] = (root / name).read_bytes()
        contents["README.md"] = student_readme(values)
        contents[".gitignore"] = STUDENT_GITIGNORE
    else:
        contents = {name: (root / name).read_bytes() for name in files}
    contents["_toc.yml"] = toc
    contents["_config.yml"] = publishing_config((root / "_config.yml").read_text(encoding="utf-8"), values)
    return contents


def _check_publishable(kind: str, values: dict[str, str], contents: dict[str, str | bytes]) -> None:
    if not values["repository"] or PLACEHOLDER.search(values["repository"]):
        raise EditionError(f"set the {kind}' repository URL in editions/editions.toml before publishing")
    for name, content in sorted(contents.items()):
        text = content if isinstance(content, str) else content.decode("utf-8", "ignore")
        match = PLACEHOLDER.search(text)
        if match and name != "editions/editions.toml":
            raise EditionError(f"{name} still holds the placeholder {match.group(0)!r}; replace it before publishing")


def write_edition(kind: str, dest: Path, publish: bool = False, values: dict[str, str] | None = None,
                  root: Path = ROOT) -> Path:
    """Write the ``kind`` edition into ``dest`` and return ``dest``.

    ``dest`` must be empty, absent, or an earlier edition of the same kind, which
    is then brought up to date in place (its ``_build`` and ``artifacts`` are kept,
    so a book build there reuses its cache).

    Raises
    ------
    EditionError
        For an unknown kind, a destination that is something else, or (with
        ``publish``) an edition that is not ready to be published.
    """
    if kind not in KINDS:
        raise EditionError(f"unknown edition {kind!r}; choose students or instructors")
    dest = Path(dest)
    values = values or settings(kind)
    contents = plan(kind, values, root)
    if publish:
        _check_publishable(kind, values, contents)
    marker = dest / MARKER
    if dest.exists() and any(dest.iterdir()):
        previous = json.loads(marker.read_text(encoding="utf-8")) if marker.is_file() else None
        if previous is None or previous.get("kind") != kind:
            raise EditionError(f"{dest} is not empty and is not a {kind}' edition; choose an empty folder")
        for name in previous["files"]:
            if name not in contents:
                (dest / name).unlink(missing_ok=True)
    for name, content in contents.items():
        target = dest / name
        data = content.encode("utf-8") if isinstance(content, str) else content
        if target.is_file() and target.read_bytes() == data:
            continue  # unchanged: its timestamp, and any cache keyed on it, stay valid
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if (root / name).is_file():
            shutil.copymode(root / name, target)  # scripts stay executable
    marker.write_text(json.dumps({"kind": kind, "files": sorted(contents)}, indent=1) + "\n", encoding="utf-8")
    return dest


def main(argv: list[str]) -> int:
    """``build.py students|instructors DEST [--publish]``: print the edition's size, or one error line."""
    arguments = [a for a in argv if a != "--publish"]
    if len(arguments) != 2:
        print("usage: python3 tasks.py edition students|instructors DEST [--publish]", file=sys.stderr)
        return 2
    try:
        dest = write_edition(arguments[0], Path(arguments[1]), publish="--publish" in argv)
    except EditionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    files = [p for p in dest.rglob("*") if p.is_file() and not (set(p.relative_to(dest).parts) & KEPT)]
    size = sum(p.stat().st_size for p in files)
    print(f"wrote the {arguments[0]}' edition to {dest}: {len(files)} files, {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
