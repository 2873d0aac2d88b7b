"""Submissions in: from an LMS download, nbgrader's exchange or a flat folder, into nbgrader's layout.

``python -m autograder import SOURCE --assignment ID --to SUBMISSIONS [--roster roster.csv]``
recognises, file by file, how each notebook was named by whatever produced it:

==============  =====================================================================
nbgrader        ``inbound/<student>+<ID>+<timestamp>[+<random>]/<file>.ipynb`` (the
                exchange) or ``<student>/<ID>/<file>.ipynb`` with ``timestamp.txt``
Canvas          ``<lastfirst>[_LATE]_<user id>_<submission id>_<file>.ipynb``
Moodle          ``<Full Name>_<participant id>_assignsubmission_file_<file>.ipynb``, as
                a file or as a folder holding the file
Blackboard      ``<item>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file>.ipynb``
flat            ``<student>_<ID>.ipynb``
==============  =====================================================================

in a folder or a zip (read in memory: no path from an archive is ever written).
A roster (``student_id`` plus any of ``name``, ``email``, ``username``,
``canvas_id``, ``moodle_id``, ``sis_user_id``) maps the LMS's names and numbers
to student ids; a submission it cannot match is reported, not guessed. Each
student's latest submission is written to ``SUBMISSIONS/<student>/<ID>/<ID>.ipynb``
with nbgrader's ``timestamp.txt`` (the time the LMS or the exchange recorded,
else the file's own), which the late policy reads.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.ledger import write_atomically
from autograder.submission import MAX_BYTES

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
"""nbgrader's timestamp format (``timestamp.txt``, exchange folder names)."""
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")

_NBGRADER_FOLDER = re.compile(r"^(?P<student>[^+/]+)\+(?P<assignment>[^+/]+)\+(?P<timestamp>[^+/]+)(\+[^/]*)?$")
_CANVAS = re.compile(r"^(?P<name>[a-z]+)(?P<late>_late)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$",
                     re.IGNORECASE)
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<participant>\d+)_assignsubmission_(?:file|onlinetext)_(?P<file>.*)$")
_BLACKBOARD = re.compile(r"^(?P<item>.+)_(?P<username>[^_]+)_attempt_"
                         r"(?P<time>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)(?:_(?P<file>.+))?$")


@dataclass
class Found:
    """One notebook found in the source, and who the LMS says submitted it."""

    origin: str                     # where it was found, for the report
    content: bytes
    kind: str                       # nbgrader, canvas, moodle, blackboard, flat
    identity: dict[str, str]        # what the LMS tells about the student: name, canvas_id, username...
    submitted: dt.datetime | None   # aware
    late_flag: bool = False
    filename: str = ""


@dataclass
class ImportReport:
    """What an import did: one row per notebook found."""

    rows: list[dict] = field(default_factory=list)

    @property
    def imported(self) -> list[dict]:
        return [row for row in self.rows if row["status"] == "imported"]

    @property
    def unmatched(self) -> list[dict]:
        return [row for row in self.rows if row["status"] == "unmatched"]

    def csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, ["student_id", "status", "found", "kind", "submitted", "matched_by"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return buffer.getvalue()


# -- reading the source --------------------------------------------------------------------------------------


def _entries(source: Path) -> list[tuple[str, bytes, dt.datetime | None]]:
    """(relative path, content, modification time) of every file in a folder or a zip."""
    found = []
    if source.is_file() and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for info in archive.infolist():
                if info.is_dir() or info.file_size > MAX_BYTES:
                    continue
                name = info.filename.replace("\\", "/")
                when = dt.datetime(*info.date_time)
                with archive.open(info) as handle:
                    found.append((name, handle.read(MAX_BYTES + 1)[:MAX_BYTES], when))
        return found
    if source.is_file():
        return [(source.name, source.read_bytes(), dt.datetime.fromtimestamp(source.stat().st_mtime))]
    for folder, dirs, names in os.walk(source):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_BYTES:
                continue
            found.append((str(path.relative_to(source)), path.read_bytes(),
                          dt.datetime.fromtimestamp(path.stat().st_mtime)))
    return found


def parse_timestamp(text: str, zone: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """An nbgrader (or ISO) timestamp as an aware datetime; naive times are read in ``zone``."""
    text = text.strip()
    for pattern in ("%Y-%m-%d %H:%M:%S.%f %Z", "%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            when = dt.datetime.strptime(text, pattern)
            break
        except ValueError:
            continue
    else:
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    return when if when.tzinfo else when.replace(tzinfo=zone)


def recognise(entries: list[tuple[str, bytes, dt.datetime | None]], assignment: str,
              zone: dt.tzinfo = dt.UTC) -> list[Found]:
    """Every notebook of ``entries``, with what its path says about its author."""
    stamps = {str(Path(name).parent): content.decode("utf-8", "ignore") for name, content, _ in entries
              if Path(name).name == "timestamp.txt"}
    found = []
    for name, content, modified in entries:
        path = Path(name)
        if path.suffix.lower() != ".ipynb" or any(part.startswith(".") for part in path.parts):
            continue
        local = modified.replace(tzinfo=zone) if modified else None
        stamp = parse_timestamp(stamps[str(path.parent)], zone) if str(path.parent) in stamps else None
        folder = _NBGRADER_FOLDER.match(path.parent.name)
        if folder and folder.group("assignment") == assignment:
            found.append(Found(name, content, "nbgrader", {"username": folder.group("student")},
                               stamp or parse_timestamp(folder.group("timestamp"), zone) or local,
                               filename=path.name))
            continue
        if len(path.parts) >= 3 and path.parent.name == assignment:
            found.append(Found(name, content, "nbgrader", {"username": path.parts[-3]}, stamp or local,
                               filename=path.name))
            continue
        for candidate in (path.name, path.parent.name):
            moodle = _MOODLE.match(candidate)
            if moodle:
                found.append(Found(name, content, "moodle", {"name": moodle.group("name"),
                                                              "moodle_id": moodle.group("participant")},
                                   local, filename=moodle.group("file") or path.name))
                break
            blackboard = _BLACKBOARD.match(candidate)
            if blackboard:
                when = dt.datetime.strptime(blackboard.group("time"), "%Y-%m-%d-%H-%M-%S").replace(tzinfo=zone)
                found.append(Found(name, content, "blackboard", {"username": blackboard.group("username")}, when,
                                   filename=blackboard.group("file") or path.name))
                break
            canvas = _CANVAS.match(candidate)
            if canvas and candidate == path.name:
                found.append(Found(name, content, "canvas", {"name": canvas.group("name").lower(),
                                                              "canvas_id": canvas.group("user")},
                                   local, late_flag=bool(canvas.group("late")), filename=canvas.group("file")))
                break
        else:
            flat = re.match(rf"^(?P<student>.+?)[_-]{re.escape(assignment)}(?:[-_ ]?\(?\d+\)?)?\.ipynb$", path.name)
            if flat:
                found.append(Found(name, content, "flat", {"username": flat.group("student")}, stamp or local,
                                   filename=path.name))
    return found


# -- who is who -----------------------------------------------------------------------------------------------


def _letters(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text.lower() if c.isalnum() and c.isascii())


class Roster:
    """Student ids and what an LMS may call the same students."""

    KEYS = ("canvas_id", "moodle_id", "sis_user_id", "username", "email", "student_id")

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self.rows = rows
        self.index: dict[tuple[str, str], set[str]] = {}
        for row in rows:
            student = row["student_id"].strip()
            for key in self.KEYS:
                value = (row.get(key) or "").strip().lower()
                if value:
                    self.index.setdefault((key, value), set()).add(student)
            if key_value := (row.get("email") or "").strip().lower():
                self.index.setdefault(("username", key_value.split("@")[0]), set()).add(student)
            name = (row.get("name") or "").strip()
            if name:
                parts = name.replace(",", " ").split()
                for variant in {_letters(name), _letters("".join(parts[-1:] + parts[:-1])),
                                _letters("".join(parts[1:] + parts[:1]))}:
                    self.index.setdefault(("name", variant), set()).add(student)

    @classmethod
    def read(cls, path: Path) -> Roster:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        if not rows or "student_id" not in rows[0]:
            raise ValueError(f"{path}: a roster needs a student_id column (and any of name, email, username, "
                             "canvas_id, moodle_id, sis_user_id)")
        return cls(rows)

    def match(self, identity: dict[str, str]) -> tuple[str | None, str]:
        """(student id or None, what matched it)."""
        for key in ("canvas_id", "moodle_id", "sis_user_id", "username", "email"):
            value = identity.get(key, "").strip().lower()
            hits = self.index.get((key, value), set()) | (self.index.get(("student_id", value), set())
                                                          if key == "username" else set())
            if len(hits) == 1:
                return next(iter(hits)), key
        if identity.get("name"):
            hits = self.index.get(("name", _letters(identity["name"])), set())
            if len(hits) == 1:
                return next(iter(hits)), "name"
        return None, ""


def _default_id(found: Found) -> str:
    """A student id from the LMS's own naming, when there is no roster."""
    identity = found.identity
    if identity.get("username"):
        return identity["username"]
    name = re.sub(r"[^a-z0-9]+", "-", _letters_keep_spaces(identity.get("name", ""))).strip("-") or "student"
    number = identity.get("canvas_id") or identity.get("moodle_id")
    return f"{name}-{number}" if number else name


def _letters_keep_spaces(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


# -- writing ----------------------------------------------------------------------------------------------------


def import_submissions(source: Path, assignment: str, to: Path, roster: Roster | None = None,
                       zone: dt.tzinfo = dt.UTC) -> ImportReport:
    """Write each student's latest notebook of ``assignment`` from ``source`` into nbgrader's layout under ``to``.

    Raises
    ------
    ValueError
        When ``source`` does not exist or holds no notebook at all.
    """
    source = Path(source)
    if not source.exists():
        raise ValueError(f"{source} does not exist")
    found = recognise(_entries(source), assignment, zone)
    if not found:
        raise ValueError(f"no notebook in {source} is named as an LMS, nbgrader or '<student>_{assignment}.ipynb' "
                         "would name it")
    report = ImportReport()
    latest: dict[str, tuple[Found, str]] = {}
    for item in found:
        student, matched_by = roster.match(item.identity) if roster else (_default_id(item), "lms name")
        row = {"student_id": student or "", "status": "imported", "found": item.origin, "kind": item.kind,
               "submitted": item.submitted.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)
               if item.submitted else "", "matched_by": matched_by}
        if student is None:
            row["status"] = "unmatched"
        elif not SAFE_ID.match(student) or student in (".", ".."):
            row["status"], row["matched_by"] = "unsafe_id", f"{student!r} is not usable as a folder name"
        report.rows.append(row)
        if row["status"] != "imported":
            continue
        previous = latest.get(student)
        if previous is None or _later(item, previous[0]):
            latest[student] = (item, matched_by)
    for row in report.rows:
        if row["status"] == "imported" and latest[row["student_id"]][0].origin != row["found"]:
            row["status"] = "older_submission"
    for student, (item, _) in sorted(latest.items()):
        folder = Path(to) / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(folder / f"{assignment}.ipynb", item.content)
        when = item.submitted or dt.datetime.now(dt.UTC)
        write_atomically(folder / "timestamp.txt", when.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT))
    return report


def _later(a: Found, b: Found) -> bool:
    """Whether ``a`` is a later submission than ``b`` (by time, then by an LMS's resubmission suffix)."""
    if a.submitted and b.submitted and a.submitted != b.submitted:
        return a.submitted > b.submitted
    return _attempt(a.filename) > _attempt(b.filename)


def _attempt(filename: str) -> int:
    match = re.search(r"-(\d+)\.ipynb$", filename)
    return int(match.group(1)) if match else 0


def read_timestamp(folder: Path, zone: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """The submission time nbgrader (or an import) recorded in ``folder/timestamp.txt``, if any."""
    path = Path(folder) / "timestamp.txt"
    if path.is_symlink() or not path.is_file() or path.stat().st_size > 200:
        return None
    return parse_timestamp(path.read_text(encoding="utf-8", errors="ignore"), zone)
