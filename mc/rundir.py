"""Run directories: one run per directory, locked, resumable, published atomically as a set.

A run directory (``emmc run|sweep|converge|reproduce --out DIR``) holds

* the published files: ``results.csv``, ``results.parquet``, ``timing.csv``,
  ``case.toml`` (the case as run), figures, campaign files, and last
  ``provenance.json`` (who made them: versions, git revision, seed, command
  line, times, host, the SHA-256 of every published file);
* ``.emmc/``: its state: ``lock`` (held while a process works here),
  ``run.json`` (what run this directory belongs to), ``cases/`` (the
  per-batch checkpoints, :mod:`mc.checkpoint`), ``published.json`` (the files of
  the last publication) and, only while one is in flight, ``publish.json`` and a
  ``staging-*`` folder.

Rules: ``--out`` is checked before any work (never the empty string, never a
file or a path under one, its first existing parent writable); a directory
holding files emmc did not write is refused; one holding another run is
refused unless ``overwrite`` (its published files and checkpoints are removed,
other files are left alone) or ``resume`` (the same run continues; a
different case is refused naming the first difference); a directory in use
by another process (``flock`` on ``.emmc/lock``, released by the kernel when
that process dies, even by SIGKILL) is refused.

Publication: every file is written into a staging folder inside ``.emmc``;
then ``publish.json`` is moved into place (the commit point), the previous
``provenance.json`` and the previous run's files that the new set lacks are
removed, the staged files are moved in and ``provenance.json`` last.  A
process killed after the commit point has its publication finished by the
next emmc that opens the directory, one killed before it leaves a staging
folder that the next one removes.  Readers: a directory whose
``provenance.json`` exists holds one complete set, the one it lists.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

from mc.checkpoint import CaseStore, code_identity, digest, write_json
from mc.errors import ConfigError

STATE = ".emmc"
PROVENANCE = "provenance.json"


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def check_out(text: str, key: str = "--out") -> Path:
    """Check ``--out`` before any work, writing nothing: a creatable or existing directory."""
    if not str(text).strip():
        raise ConfigError(key, "must name a directory, got an empty string")
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(key, f"{str(path)!r} is a file, not a directory")
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise ConfigError(key, f"cannot create {str(path)!r}: {str(existing)!r} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(key, f"cannot write into {str(existing)!r} (permission denied)")
    return path


def git_revision() -> str | None:
    """The git commit of emmc's sources (with ``-dirty`` for uncommitted changes), if they are a checkout."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def command_line(argv: list[str] | None = None) -> str:
    """The emmc command as typed (``argv`` without the program name; default: this process's)."""
    return shlex.join(["emmc"] + list(sys.argv[1:] if argv is None else argv))


def _tree(root: Path) -> list[str]:
    """Every file under ``root`` as a sorted list of relative paths."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class RunDirectory:
    """An opened (locked) run directory; see the module docstring for the rules."""

    def __init__(self, path: Path, identity: dict, *, created: bool, was_empty: bool, resumed: bool, started: str,
                 command: str):
        self.path = path
        self.command = command
        self.state = path / STATE
        self.identity = identity
        self.created = created
        self.was_empty = was_empty
        self.resumed = resumed
        self.started = started
        self.store = CaseStore(self.state / "cases")

    # ------------------------------------------------------------------ opening

    @classmethod
    @contextmanager
    def open(cls, path: Path, identity: dict, *, overwrite: bool = False, resume: bool = False,
             key: str = "--out", argv: list[str] | None = None):
        """Lock ``path`` for the run described by ``identity`` (a JSON-able dict; its digest is the run's key).

        On leaving, the lock is released; a directory this call created is removed
        again if nothing was kept in it (no batch, no publication)."""
        created = not path.exists()
        entries = [] if created else [p.name for p in path.iterdir()]
        if not created:
            if entries and STATE not in entries:
                shown = ", ".join(repr(e) for e in sorted(entries)[:3]) + (", ..." if len(entries) > 3 else "")
                raise ConfigError(key, f"{str(path)!r} holds files that no emmc run wrote ({shown}); "
                                       "choose a new or empty directory")
        had_state = STATE in entries
        try:
            (path / STATE).mkdir(parents=True, exist_ok=True)
            lock = open(path / STATE / "lock", "a+")
        except OSError as exc:
            raise ConfigError(key, f"cannot create {str(path)!r}: {exc.strerror}") from None
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.seek(0)
                holder = lock.read().strip() or "another process"
                raise ConfigError(key, f"{str(path)!r} is in use by another emmc run ({holder})") from None
            try:
                lock.seek(0)
                lock.truncate()
                command = command_line(argv)
                lock.write(f"pid {os.getpid()} on {socket.gethostname()} since {now()}: {command}")
                lock.flush()
                run = cls._claim(path, identity, created=created, was_empty=not entries, overwrite=overwrite,
                                 resume=resume, key=key, command=command)
            except BaseException:
                if not had_state:  # refused or interrupted while claiming a directory that was new or empty
                    shutil.rmtree(path if created else path / STATE, ignore_errors=True)
                raise
            try:
                yield run
            finally:
                run._abandon_if_empty()
        finally:
            lock.close()

    @classmethod
    def _claim(cls, path: Path, identity: dict, *, created, was_empty, overwrite, resume, key,
               command) -> "RunDirectory":
        state = path / STATE
        cls._recover(path)
        run_file = state / "run.json"
        previous = json.loads(run_file.read_text()) if run_file.exists() else None
        run_key = digest(identity)
        if previous is not None and overwrite:
            cls._discard(path)
            previous = None
        elif previous is not None:
            finished = (path / PROVENANCE).exists()
            what = f"a {'finished' if finished else 'unfinished'} run of {previous.get('summary', 'another case')}"
            if not resume:
                hint = "--resume to continue it, " if not finished else "--resume to republish it, "
                raise ConfigError(key, f"{str(path)!r} holds {what} (started {previous.get('started', '?')}); "
                                       f"use {hint}--overwrite to replace it, or another directory")
            if previous.get("key") != run_key:
                raise ConfigError("--resume", f"{str(path)!r} holds {what}, not this one: "
                                              f"{difference(previous.get('identity'), identity)}")
        if previous is None:
            previous = {"key": run_key, "identity": identity, "summary": identity.get("summary", ""),
                        "started": now()}
            write_json(run_file, previous)
        return cls(path, identity, created=created, was_empty=was_empty, resumed=resume, started=previous["started"],
                   command=command)

    @staticmethod
    def _recover(path: Path) -> None:
        """Finish a publication a killed process committed; remove staging it did not."""
        state = path / STATE
        journal = state / "publish.json"
        if journal.exists():
            _apply(path, json.loads(journal.read_text()))
        for stale in state.glob("staging-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in path.glob(".emmc-*"):  # staging folders of emmc before run directories
            shutil.rmtree(stale, ignore_errors=True)
        for stale in state.rglob(".*.tmp"):  # files a killed process was writing (mc.checkpoint.write_atomic)
            stale.unlink(missing_ok=True)

    @staticmethod
    def _discard(path: Path) -> None:
        """Remove the previous run: its published files and its checkpoints (nothing else)."""
        state = path / STATE
        published = state / "published.json"
        files = json.loads(published.read_text())["files"] if published.exists() else []
        (path / PROVENANCE).unlink(missing_ok=True)
        for name in files:
            (path / name).unlink(missing_ok=True)
        _prune_empty_dirs(path, files)
        published.unlink(missing_ok=True)
        shutil.rmtree(state / "cases", ignore_errors=True)
        (state / "run.json").unlink(missing_ok=True)

    def _abandon_if_empty(self) -> None:
        """Leave a directory that was new or empty as it was when nothing was kept (bad input, early Ctrl-C)."""
        if not self.was_empty or (self.path / PROVENANCE).exists() or any(self.store.root.rglob("batch-*")):
            return
        shutil.rmtree(self.path if self.created else self.state, ignore_errors=True)

    # ------------------------------------------------------------------ publishing

    @contextmanager
    def staging(self):
        """A fresh folder to write the files of a publication into (removed if the block fails)."""
        stage = self.state / f"staging-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        stage.mkdir()
        try:
            yield stage
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise

    def publish(self, stage: Path, provenance: dict) -> list[Path]:
        """Write ``provenance.json`` into ``stage`` and make the staged set the directory's published files."""
        files = _tree(stage)
        provenance = dict(provenance, files={name: _sha256(stage / name) for name in files})
        write_json(stage / PROVENANCE, provenance)
        files.append(PROVENANCE)
        published = self.state / "published.json"
        old = json.loads(published.read_text())["files"] if published.exists() else []
        journal = {"staging": stage.name, "files": files, "remove": [f for f in old if f not in files]}
        write_json(self.state / "publish.json", journal)  # the commit point
        _apply(self.path, journal)
        return [self.path / name for name in files]

    def provenance(self, **fields) -> dict:
        """The provenance record of this run: versions, revision, command, times, host, and ``fields``."""
        import numba
        import numpy
        import pandas

        return {
            "emmc": code_identity()["emmc"],
            "git_revision": git_revision(),
            "source_sha256": code_identity()["sources"],
            "python": sys.version.split()[0],
            "numpy": numpy.__version__,
            "numba": numba.__version__,
            "pandas": pandas.__version__,
            "command": self.command,
            "host": socket.gethostname(),
            "started": self.started,
            "finished": now(),
            "resumed": self.resumed,
            **fields,
        }


def _apply(path: Path, journal: dict) -> None:
    """Carry out a committed publication (again, if a killed process left it half done)."""
    state = path / STATE
    stage = state / journal["staging"]
    (path / PROVENANCE).unlink(missing_ok=True)
    for name in journal["remove"]:
        (path / name).unlink(missing_ok=True)
    _prune_empty_dirs(path, journal["remove"])
    for name in journal["files"]:
        if name == PROVENANCE:
            continue
        source = stage / name
        if source.exists():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, path / name)
    if (stage / PROVENANCE).exists():
        os.replace(stage / PROVENANCE, path / PROVENANCE)
    write_json(state / "published.json", {"files": journal["files"]})
    shutil.rmtree(stage, ignore_errors=True)
    (state / "publish.json").unlink(missing_ok=True)


def _prune_empty_dirs(root: Path, names) -> None:
    for folder in sorted({(root / n).parent for n in names}, key=lambda p: len(p.parts), reverse=True):
        while folder != root and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def difference(old: dict | None, new: dict) -> str:
    """Why a run identity (see :func:`mc.runner.run_identity`) is not another, in one phrase."""
    old = old or {}
    if old.get("command") != new.get("command"):
        return f"it was made by emmc {old.get('command')}, this is emmc {new.get('command')}"
    if old.get("code") != new.get("code") and {k: v for k, v in old.items() if k != "code"} == \
            {k: v for k, v in new.items() if k != "code"}:
        return "its checkpoints were made by other emmc sources or numpy/numba versions (use --overwrite)"
    for key in ("case", "name"):
        if old.get(key) != new.get(key):
            path, a, b = _first_difference(old.get(key), new.get(key), "" if key == "case" else key)
            return f"{path or 'the case'} was {_short(a)}, now {_short(b)}"
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key) and key != "summary":
            path, a, b = _first_difference(old.get(key), new.get(key), key)
            return f"{path} was {_short(a)}, now {_short(b)}"
    return "its identity differs"


def _first_difference(old, new, where: str):
    """(the dotted path of the first difference, the old value there, the new one)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new), key=str):
            if old.get(k) != new.get(k):
                return _first_difference(old.get(k), new.get(k), f"{where}.{k}" if where else str(k))
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            if a != b:
                return _first_difference(a, b, f"{where}[{i}]")
    return where, old, new


def _short(value) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
