"""What the grader wrote: outputs it can resume from and verify.

The grading process writes every output file itself, and keeps, in
``OUT/.autograder/ledger.json``, the SHA-256 of each file it wrote and the key
of what produced each student's result (the submission's content, the graders,
the reference and the isolation level). So:

* a re-run reuses a stored grading result only when its key matches *and* the
  stored result is byte for byte what the grader wrote -- a replaced notebook,
  new graders or a stronger sandbox means grading again;
* the outputs (feedback, ``results.json``, ``grades.csv``) are derived anew on
  every run from those results, the overrides and the late policy;
* at the end of a run every output is checked against what was written; a file
  changed behind the grader's back is rewritten and reported.

Files are written through a temporary file and a rename, never through a
symbolic link.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

LEDGER = Path(".autograder") / "ledger.json"
RAW = Path(".autograder") / "raw"
"""Each student's grading result before overrides and late penalties, as plain data."""
RESERVED = {"grades.csv", ".autograder"}
"""Top-level names of the output folder that are not student folders."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_folder(root: Path, *parts: str) -> Path:
    """``root/parts...`` as real folders: a symbolic link on the way is removed, not followed."""
    folder = Path(root)
    folder.mkdir(parents=True, exist_ok=True)
    for part in parts:
        folder = folder / part
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            folder.unlink()
        folder.mkdir(exist_ok=True)
    return folder


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file and a rename (no partial file, no link followed)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Ledger:
    """The grader's record of one output folder."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.path = self.out / LEDGER
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.students: dict[str, dict] = data["students"] if isinstance(data.get("students"), dict) else {}
        except (OSError, ValueError, AttributeError):
            self.students = {}
        self.written: dict[str, bytes] = {}  # every file written or kept this run: relative path -> content

    def raw(self, student: str, key: str) -> bytes | None:
        """The stored grading result of ``student`` if it was made from ``key`` and is intact."""
        entry = self.students.get(student)
        if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("raw"), dict):
            return None
        path = self.out / str(entry["raw"].get("path", ""))
        try:
            if path.is_symlink() or not path.is_file():
                return None
            data = path.read_bytes()
        except OSError:
            return None
        return data if sha256(data) == entry["raw"].get("sha256") else None

    def record(self, student: str, key: str, raw: bytes, files: dict[str, str], row: dict,
               about: dict | None = None) -> None:
        """Write a student's grading result and outputs, and remember them."""
        raw_path = f"{RAW.as_posix()}/{student}.json"
        self.write(raw_path, raw)
        for relative, text in files.items():
            self.write(relative, text)
        self.students[student] = {"key": key, "raw": {"path": raw_path, "sha256": sha256(raw)}, "row": row,
                                  "about": about or {},
                                  "files": {relative: sha256(self.written[relative]) for relative in files}}

    def write(self, relative: str, content: str | bytes) -> None:
        """Write one output file and remember what it holds."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        safe_folder(self.out, *Path(relative).parent.parts)
        write_atomically(self.out / relative, data)
        self.written[relative] = data

    def save(self) -> None:
        safe_folder(self.out, LEDGER.parent.name)
        write_atomically(self.path, json.dumps({"students": self.students}, indent=1, sort_keys=True) + "\n")

    def verify(self) -> list[str]:
        """Rewrite every output that is no longer what the grader wrote; return their paths."""
        changed = []
        for relative, data in sorted(self.written.items()):
            path = self.out / relative
            try:
                intact = not path.is_symlink() and path.read_bytes() == data
            except OSError:
                intact = False
            if not intact:
                if path.is_symlink():
                    path.unlink()
                self.write(relative, data)
                changed.append(relative)
        return changed
