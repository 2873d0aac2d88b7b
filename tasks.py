#!/usr/bin/env python3
"""Set up the course environment and build the book or run the tests.

Usage (from the repository root, with Python 3.11 or newer)::

    python3 tasks.py book     # set up .venv, then build the students' book strictly
    python3 tasks.py book --instructors   # the same with the instructors' guide
    python3 tasks.py test     # set up .venv, then run ruff and the test suite
    python3 tasks.py setup    # only set up .venv
    python3 tasks.py edition students|instructors DEST [--publish]
                              # write one audience's edition of the course into DEST

The book students read is built from the students' edition alone (written to
``_build/editions/students``), so it cannot show what that edition leaves out;
it lands in ``_build/html``, the instructors' book in ``_build/instructors/html``.
In an edition (which has no ``editions/`` folder) ``book`` builds the folder
itself, and only ``setup`` and ``book`` exist.

The first run creates ``.venv`` and installs the pinned ``requirements.lock``
plus this package; later runs reinstall only when those files change. Every
command also makes sure bubblewrap, the graders' sandbox, is installed: as root
on Debian it is installed with apt-get, elsewhere a line says how. Only the
standard library is used here, so this works on a fresh machine.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("PHISHLAB_VENV", ROOT / ".venv"))
STAMP = VENV / ".phishlab-installed"
INSTALL_INPUTS = ("requirements.lock", "pyproject.toml")
MIN_PYTHON = (3, 11)


# Debian packages, by the command each provides.
GRADING_PACKAGES = {"bwrap": "bubblewrap"}  # the graders run student code only in its sandbox
TEST_PACKAGES = {"chromium": "chromium"}  # the browser tests read the book as a student does
WHY = {"bubblewrap": "the graders refuse to run student code without it",
       "chromium": "the browser tests are skipped without it"}


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    completed = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if completed.returncode:
        sys.exit(completed.returncode)


def setup() -> None:
    """Create the virtual environment and install what the course needs, bubblewrap included."""
    if sys.version_info < MIN_PYTHON:
        sys.exit(f"Python {'.'.join(map(str, MIN_PYTHON))}+ is required; this is {sys.version.split()[0]}")
    if (ROOT / "autograder").is_dir():  # the graders' edition
        system_tools(GRADING_PACKAGES)
    digest = hashlib.sha256(b"".join((ROOT / f).read_bytes() for f in INSTALL_INPUTS)).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest and venv_python().exists():
        return
    if not venv_python().exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    python = venv_python()
    run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(python, "-m", "pip", "install", "--quiet", "-r", "requirements.lock")
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", "-e", ".")
    STAMP.write_text(digest)


def book_env() -> dict[str, str]:
    """Environment of a book build: the venv first on PATH, progress bars off."""
    env = dict(os.environ)
    env["PATH"] = f"{venv_python().parent}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    # Progress bars write to stderr, which the strict build treats as a warning.
    env["TQDM_DISABLE"] = "1"
    return env


def build_book(instructors: bool = False) -> None:
    """Build an edition's book into _build, failing on any warning or cell error."""
    if not (ROOT / "editions").is_dir():  # this folder is an edition: build it as it is
        source, html = ROOT, ROOT / "_build" / "html"
    else:
        sys.path.insert(0, str(ROOT))
        from editions.build import EditionError, write_edition

        kind = "instructors" if instructors else "students"
        source = ROOT / "_build" / "editions" / kind
        try:
            write_edition(kind, source)
        except EditionError as error:
            sys.exit(f"error: {error}")
        html = ROOT / "_build" / ("instructors/html" if instructors else "html")
    env = book_env()
    # The edition's own phishlab, not the one this folder installed into .venv.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(source / "src"), env.get("PYTHONPATH")) if p)
    completed = subprocess.run([venv_python().parent / "jupyter-book", "build", ".", "--builder", "html",
                                "-W", "-n", "--keep-going"], cwd=source, env=env)
    if completed.returncode:
        sys.exit(completed.returncode)
    if source != ROOT:
        shutil.rmtree(html, ignore_errors=True)
        shutil.copytree(source / "_build" / "html", html)
    print(f"\nThe book is in {html / 'index.html'}")


def edition(args: list[str]) -> None:
    """Write one audience's edition of the course (standard library only: no environment needed)."""
    completed = subprocess.run([sys.executable, str(ROOT / "editions" / "build.py"), *args], cwd=ROOT)
    sys.exit(completed.returncode)


def system_tools(packages: dict[str, str]) -> None:
    """Install Debian packages the course needs, where that is possible without asking.

    Only as root on a Debian-like system (a CI machine, a container). Elsewhere
    nothing is installed, and a line says what to install and why.
    """
    missing = [package for command, package in packages.items() if not shutil.which(command)]
    if not missing:
        return
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        for package in missing:
            print(f"note: {package} is not installed ({WHY[package]}); install it with your package manager, "
                  f"e.g. sudo apt-get install {package}", flush=True)
        return
    print(f"installing {', '.join(missing)} from Debian", flush=True)
    quiet = {"cwd": ROOT, "stdout": subprocess.DEVNULL, "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}}
    if subprocess.run(["apt-get", "update", "-qq"], **quiet).returncode or subprocess.run(
        ["apt-get", "install", "-y", "-qq", *missing], **quiet
    ).returncode:
        sys.exit(f"could not install {', '.join(missing)} with apt-get")


def test(pytest_args: list[str]) -> None:
    """Lint, then run the whole test suite (it includes a strict book build)."""
    system_tools(TEST_PACKAGES)
    python = venv_python()
    run(python, "-m", "ruff", "check", ".")
    run(python, "-m", "pytest", *pytest_args, env=book_env())


def main(argv: list[str]) -> None:
    commands = {"setup", "book"}
    if (ROOT / "tests").is_dir():
        commands.add("test")
    if (ROOT / "editions").is_dir():
        commands.add("edition")
    if not argv or argv[0] not in commands:
        sys.exit(__doc__)
    if argv[0] == "edition":
        edition(argv[1:])
    setup()
    if argv[0] == "book":
        build_book(instructors="--instructors" in argv[1:])
    elif argv[0] == "test":
        test(argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
