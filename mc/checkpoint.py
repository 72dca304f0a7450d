"""Per-batch checkpoints: the finished batches of a case, persisted one file each.

A case is identified by :func:`case_key`, a SHA-256 of the validated case (the
TOML dict with the overrides applied, and its name) and of the code identity
(:func:`code_identity`: emmc's version, a hash of its sources, the numpy and
numba versions), because the batch totals depend on nothing else.  A
:class:`CaseStore` keeps, under ``root/<key>/``,

* ``meta.json``: the case, its key, the number of scores and the code identity;
* ``batch-000017.npz``: the summed scores, history count and seconds of batch 17.

Every file is written to a temporary name and moved into place with
``os.replace``, so a SIGKILL at any moment leaves either the whole file or
none; a temporary file left behind by a killed process is removed when the
run directory is opened next (:mod:`mc.rundir`).  Batch ``b`` always covers the same history indices,
so a batch found here is never recomputed and a resumed run gives the table
of an uninterrupted one, bit for bit.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

_BATCH = re.compile(r"batch-(\d{6,})\.npz")
_PACKAGES = ("mc", "geometry", "observables")
"""Source trees whose code can change a batch total (runs/ only holds campaigns and cases)."""


@lru_cache(maxsize=1)
def code_identity() -> dict:
    """What the batch totals depend on besides the case: emmc's sources and numeric libraries."""
    import numba

    from mc import __version__

    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for package in _PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return {"emmc": __version__, "sources": digest.hexdigest(), "numpy": np.__version__, "numba": numba.__version__}


def plain(value):
    """numpy scalars and arrays as the Python numbers and lists JSON knows (cases built in Python hold them)."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def canonical_json(value) -> str:
    """JSON with sorted keys and no whitespace: equal values give equal text (and hashes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False, default=plain)


def digest(value) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def _normal(value):
    """Integral floats as ints: ``histories = 2e4`` and ``--histories 20000`` are one case (the
    parsers read both alike); -0.0 keeps its sign."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    if isinstance(value, (float, np.floating)) and float(value).is_integer() and math.copysign(1.0, value) > 0:
        return int(value)
    return plain(value) if isinstance(value, (np.generic, np.ndarray)) else value


def normal_case(data: dict) -> dict:
    """A case dict in the form its identity is compared in (integral floats as ints, plain numbers)."""
    return _normal(data)


def case_identity(case) -> dict:
    """The validated case as a plain dict: what makes its batch totals (with its name for the tables)."""
    return {"name": case.name, "case": normal_case(case.data)}


def case_key(case) -> str:
    return digest({"case": case_identity(case), "code": code_identity()})


def write_atomic(path: Path, write) -> None:
    """Write a file through ``write(handle)`` under a temporary name, fsync it, then move it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: Path, value) -> None:
    text = json.dumps(value, indent=2, sort_keys=True, default=plain) + "\n"
    write_atomic(path, lambda handle: handle.write(text.encode()))


@dataclass
class StoredBatch:
    totals: np.ndarray
    histories: int
    seconds: float


class CaseStore:
    """Checkpoints of the cases of one run directory (``root`` is ``DIR/.emmc/cases``)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def folder(self, key: str) -> Path:
        return self.root / key[:32]

    def open(self, case, key: str, n_scores: int) -> Path:
        """The checkpoint folder of ``case``, created with its meta.json if new."""
        folder = self.folder(key)
        meta = folder / "meta.json"
        if not meta.exists():
            folder.mkdir(parents=True, exist_ok=True)
            write_json(meta, {"key": key, "case": case_identity(case), "n_scores": int(n_scores),
                              "code": code_identity()})
        return folder

    def load(self, key: str, n_scores: int) -> dict[int, StoredBatch]:
        """Every finished batch of the case ``key`` (none if it has no checkpoint).

        A file that cannot be read back whole (a disk that filled up) is dropped and
        its batch computed again: it gives the same numbers."""
        folder = self.folder(key)
        found: dict[int, StoredBatch] = {}
        if not folder.is_dir():
            return found
        for path in folder.iterdir():
            match = _BATCH.fullmatch(path.name)
            if not match:
                continue
            try:
                with np.load(path) as data:
                    batch = StoredBatch(np.array(data["totals"], dtype=float), int(data["histories"]),
                                        float(data["seconds"]))
            except (OSError, ValueError, KeyError, EOFError):
                path.unlink(missing_ok=True)
                continue
            if batch.totals.shape == (n_scores,):
                found[int(match.group(1))] = batch
        return found

    def save(self, key: str, index: int, batch: StoredBatch) -> None:
        path = self.folder(key) / f"batch-{index:06d}.npz"
        write_atomic(path, lambda handle: np.savez(handle, totals=batch.totals, histories=np.int64(batch.histories),
                                                    seconds=np.float64(batch.seconds)))
