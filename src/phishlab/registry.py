"""Model registry: versioned artifacts with a human-readable index.

Layout of a registry folder::

    registry.json          the index: one entry per version (JSON, sorted keys)
    pipeline_v1.0.pkl      the fitted scaler -> SMOTE -> forest pipeline
    model_v1.0.pkl         the forest alone
    scaler_v1.0.pkl        the scaler alone

Every artifact's SHA-256 is recorded in the index, and :meth:`ModelRegistry.load`
refuses a file whose hash changed or that is missing. Loading a pickle runs
code, so the hash check is also a (minimal) safeguard against loading a file
someone swapped in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from numbers import Real
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
from imblearn.pipeline import Pipeline

__all__ = [
    "ArtifactIntegrityError",
    "ModelRegistry",
    "RegistryError",
    "VersionExistsError",
]

INDEX_NAME = "registry.json"
_VERSION = re.compile(r"^\d+\.\d+$")


class RegistryError(ValueError):
    """Base class of the registry's errors (a ``ValueError``)."""


class VersionExistsError(RegistryError):
    """Raised when saving a version that is already registered."""


class ArtifactIntegrityError(RegistryError):
    """Raised when an artifact is missing or does not match its recorded hash."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers never see a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        # mkstemp creates the file private (0600); the index is meant to be shared.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_version(version: str) -> str:
    # fullmatch: with match, "$" also accepts a trailing newline ("1.0\n").
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise RegistryError(f"version must look like '1.0' or '2.1', got {version!r}")
    return version


def _jsonable(value: Any) -> Any:
    """Metrics may hold numpy scalars or arrays; the index stores plain JSON."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        # Recurse: a numpy NaN becomes a float NaN, which must still become None.
        return _jsonable(value.tolist())
    if isinstance(value, float) and value != value:  # NaN is not valid JSON
        return None
    return value


class ModelRegistry:
    """Save, list and load model versions in a folder.

    Parameters
    ----------
    root : str or Path
        Folder of the registry; created if missing.

    Examples
    --------
    >>> registry = ModelRegistry("artifacts/models")            # doctest: +SKIP
    >>> registry.save(pipeline, "1.0", training_range=("2024-01-01", "2024-01-31"),
    ...               metrics={"roc_auc": 0.99})                # doctest: +SKIP
    >>> registry.load("1.0")                                    # doctest: +SKIP
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    @property
    def index_path(self) -> Path:
        """Path of the JSON index."""
        return self.root / INDEX_NAME

    def _read_index(self) -> dict[str, dict[str, Any]]:
        if not self.index_path.exists():
            return {}
        try:
            index = json.loads(self.index_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RegistryError(f"registry index {self.index_path} is not valid JSON: {exc}") from exc
        if not isinstance(index, dict):
            raise RegistryError(f"registry index {self.index_path} must hold a JSON object")
        return index

    def _write_index(self, index: Mapping[str, Any]) -> None:
        _atomic_write_text(self.index_path, json.dumps(index, indent=2, sort_keys=True) + "\n")

    def versions(self) -> list[str]:
        """Registered versions, oldest first (by version number)."""
        return sorted(self._read_index(), key=lambda v: tuple(int(p) for p in v.split(".")))

    def __contains__(self, version: object) -> bool:
        return isinstance(version, str) and version in self._read_index()

    def save(
        self,
        pipeline: Pipeline,
        version: str,
        training_range: tuple[Any, Any],
        metrics: Mapping[str, Any],
        trained_at: dt.datetime | str | None = None,
        notes: str = "",
        overwrite: bool = False,
        threshold: float = 0.5,
    ) -> dict[str, Any]:
        """Store a fitted pipeline as ``version``.

        Parameters
        ----------
        pipeline : imblearn.pipeline.Pipeline
            Fitted pipeline with ``scaler`` and ``model`` steps.
        version : str
            Version such as ``"1.0"``.
        training_range : (start, end)
            First and last date of the training data.
        metrics : mapping
            Evaluation metrics to record (JSON-serialisable values).
        trained_at : datetime, str or None
            When the model was trained; defaults to now (UTC). The course
            passes simulated dates so that rebuilds are identical.
        notes : str
            Free text.
        overwrite : bool, default=False
            Replace an existing version. Without it, saving an existing
            version raises :class:`VersionExistsError`.
        threshold : float, default=0.5
            The decision threshold the model is deployed with: an email is
            flagged when its probability is at least this. It belongs to the
            version as much as the trees do, so it is stored with them.

        Returns
        -------
        dict
            The index entry written.
        """
        _check_version(version)
        steps = dict(getattr(pipeline, "named_steps", {}))
        if "scaler" not in steps or "model" not in steps:
            raise RegistryError("pipeline must have 'scaler' and 'model' steps (see build_pipeline)")
        if not hasattr(steps["model"], "classes_"):
            raise RegistryError("the pipeline is not fitted; train it before saving")
        try:
            stamps = [pd.Timestamp(d) for d in training_range]
            if len(stamps) != 2 or any(pd.isna(d) for d in stamps):  # None parses to NaT
                raise ValueError("not two dates")
            start, end = (d.date().isoformat() for d in stamps)
        except (TypeError, ValueError) as exc:
            raise RegistryError(
                f"training_range must be two dates (start, end), got {training_range!r}"
            ) from exc
        if end < start:
            raise RegistryError(f"training_range ends ({end}) before it starts ({start})")
        if not isinstance(metrics, Mapping):
            raise RegistryError(f"metrics must be a mapping of names to values, got {metrics!r}")
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, Real)
            or not 0 < threshold < 1
        ):
            raise RegistryError(f"threshold must be a number in (0, 1), got {threshold!r}")
        # Parse trained_at before writing any file, so a bad value leaves the registry untouched.
        try:
            when = pd.Timestamp(trained_at if trained_at is not None else dt.datetime.now(dt.UTC))
        except (TypeError, ValueError) as exc:
            raise RegistryError(f"trained_at must be a date and time, got {trained_at!r}") from exc
        if pd.isna(when):
            raise RegistryError(f"trained_at must be a date and time, got {trained_at!r}")

        index = self._read_index()
        if version in index and not overwrite:
            raise VersionExistsError(
                f"version {version} is already registered in {self.root.name}/; "
                "pick a new version or pass overwrite=True"
            )
        artifacts = {
            "pipeline": (f"pipeline_v{version}.pkl", pipeline),
            "model": (f"model_v{version}.pkl", steps["model"]),
            "scaler": (f"scaler_v{version}.pkl", steps["scaler"]),
        }
        files = {}
        for role, (name, obj) in artifacts.items():
            path = self.root / name
            tmp = path.with_name(f".{name}.tmp")
            joblib.dump(obj, tmp)
            os.replace(tmp, path)
            files[role] = {"file": name, "sha256": _sha256(path)}
        entry = {
            "version": version,
            "trained_at": when.isoformat(),
            "training_data": {"start": start, "end": end},
            "features": [str(f) for f in getattr(pipeline, "feature_names_in_", [])],
            "metrics": _jsonable(dict(metrics)),
            "threshold": float(threshold),
            "artifacts": files,
            "notes": notes,
        }
        index[version] = entry
        self._write_index(index)
        return entry

    def entry(self, version: str) -> dict[str, Any]:
        """The index entry of ``version``."""
        _check_version(version)
        index = self._read_index()
        if version not in index:
            known = ", ".join(self.versions()) or "none"
            raise RegistryError(f"unknown version {version!r}; registered versions: {known}")
        return index[version]

    def threshold(self, version: str) -> float:
        """The decision threshold ``version`` is deployed with (0.5 if none was recorded)."""
        return float(self.entry(version).get("threshold", 0.5))

    def verify(self, version: str) -> None:
        """Raise :class:`ArtifactIntegrityError` if an artifact is missing or changed."""
        for role, info in self.entry(version)["artifacts"].items():
            path = self.root / info["file"]
            # Named from the registry's folder: the message reads the same on every machine.
            where = f"{self.root.name}/{info['file']}"
            if not path.exists():
                raise ArtifactIntegrityError(f"{role} artifact of version {version} is missing: {where}")
            if _sha256(path) != info["sha256"]:
                raise ArtifactIntegrityError(
                    f"{role} artifact of version {version} has been modified since it was "
                    f"registered (SHA-256 mismatch): {where}"
                )

    def load(self, version: str, part: str = "pipeline") -> Any:
        """Load a verified artifact of ``version``.

        Parameters
        ----------
        version : str
            A registered version.
        part : {"pipeline", "model", "scaler"}
            Which artifact to return.
        """
        entry = self.entry(version)
        if part not in entry["artifacts"]:
            raise RegistryError(
                f"part must be one of {sorted(entry['artifacts'])}, got {part!r}"
            )
        self.verify(version)
        return joblib.load(self.root / entry["artifacts"][part]["file"])

    def latest(self) -> str:
        """The highest registered version."""
        versions = self.versions()
        if not versions:
            raise RegistryError(f"the registry in {self.root} is empty")
        return versions[-1]

    def list_versions(self) -> pd.DataFrame:
        """A table of the registered versions with their main metrics."""
        rows = []
        for version in self.versions():
            entry = self.entry(version)
            metrics = entry["metrics"]
            rows.append(
                {
                    "version": version,
                    "trained_at": entry["trained_at"],
                    "training_start": entry["training_data"]["start"],
                    "training_end": entry["training_data"]["end"],
                    "threshold": float(entry.get("threshold", 0.5)),
                    **{
                        name: metrics.get(name)
                        for name in ("roc_auc", "precision", "recall", "fpr", "f1")
                        if name in metrics
                    },
                    "sha256": entry["artifacts"]["pipeline"]["sha256"][:12],
                    "notes": entry["notes"],
                }
            )
        return pd.DataFrame(rows).set_index("version") if rows else pd.DataFrame()
