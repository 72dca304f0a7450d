"""What every emmc command does around its batches: checks, directory, backend, signals, publication.

:class:`RunOptions` are the options shared by ``emmc run|sweep|converge|reproduce``.
Before any transport: :func:`preflight` checks them (``--out`` included) and the
time the histories take at an optimistic rate, :func:`check_memory` the memory
of the compiled case's scores, :func:`connect_backend` reaches the dask cluster;
then :func:`session` sets the SIGTERM/SIGINT flag, claims the run directory
(refused when foreign, busy or holding another run; locked) and sets the
progress display and the ambient :mod:`mc.execution` settings.  :func:`run_case`
is ``emmc run``; the campaigns build on the same pieces.

Exit statuses (also in ``emmc --help``): 0 success; 1 a run that finished
but failed (a precision target missed, a campaign point failed, a
reproduction verdict FAIL); 2 bad input (nothing written); 128 + the signal
number when stopped by a signal (130 for Ctrl-C, 143 for SIGTERM).
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mc import execution
from mc.batches import _CALL_MEMORY, thread_count
from mc.checkpoint import code_identity, normal_case
from mc.config import dump_toml
from mc.errors import ConfigError
from mc.progress import Progress
from mc.rundir import RunDirectory, check_out
from mc.signals import graceful_stop
from mc.targets import check_names

EXIT_OK, EXIT_FAILED = 0, 1

OPTIMISTIC_RATE = 1e8
"""Histories per second per core assumed by the cost estimate: faster than any kernel of emmc,
so the estimated time is a lower bound."""

MAX_SECONDS = 365.25 * 86400
"""Runs estimated to take longer than this (a year) are refused unless forced."""


@dataclass
class RunOptions:
    out: Path
    overwrite: bool = False
    resume: bool = False
    threads: int | None = None
    scheduler: str | None = None
    dask_local: int | None = None
    force: bool = False
    progress: bool = True
    argv: list[str] | None = None
    """The command line as given to ``emmc`` (for the provenance record; default: this process's)."""


def available_threads() -> int:
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


def check_options(options: RunOptions) -> None:
    """Validate the shared options (and ``--out``) before any work."""
    if options.overwrite and options.resume:
        raise ConfigError("--resume", "cannot be combined with --overwrite")
    if options.threads is not None:
        if options.threads < 1:
            raise ConfigError("--threads", f"must be >= 1, got {options.threads}")
        available = available_threads()
        if options.scheduler is None and options.dask_local is None and options.threads > available:
            raise ConfigError("--threads", f"{options.threads} exceeds the {available} threads available here "
                                           f"(numba's NUMBA_NUM_THREADS, the usable CPUs)")
    if options.scheduler is not None and options.dask_local is not None:
        raise ConfigError("--dask-local", "cannot be combined with --scheduler")
    if options.dask_local is not None and options.dask_local < 1:
        raise ConfigError("--dask-local", f"must be >= 1 worker, got {options.dask_local}")
    if options.scheduler is not None and not options.scheduler.strip():
        raise ConfigError("--scheduler", "must be a scheduler address such as tcp://host:8786")
    options.out = check_out(options.out)


def physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_cost(histories: int, cores: int, *, force: bool) -> None:
    """Refuse a run whose time is absurd even at an optimistic rate (before anything is compiled)."""
    seconds = histories / (OPTIMISTIC_RATE * max(cores, 1))
    if seconds > MAX_SECONDS and not force:
        raise ConfigError("histories", f"{histories:.3g} histories take at least {seconds / MAX_SECONDS:.3g} years on "
                                       f"{cores} cores (at an optimistic {OPTIMISTIC_RATE:.0e} histories/s per core); "
                                       "pass --force to run anyway")


def check_memory(n_scores: int, batches: int, threads: int, *, force: bool) -> None:
    """Refuse a case whose batch totals and estimates cannot fit in this machine's memory."""
    # batch totals, their batch means and deviations in finalize, and the per-call chunk rows of each thread
    needed = 8 * n_scores * (4 * batches + 2) + _CALL_MEMORY * max(threads, 1)
    total = physical_memory()
    if total is not None and needed > total and not force:
        raise ConfigError("memory", f"{n_scores:,} scores x {batches:,} batches need about {needed / 2**30:.3g} GiB, "
                                    f"more than this machine's {total / 2**30:.3g} GiB; pass --force to try anyway")


@dataclass
class Session:
    directory: RunDirectory
    backend: object
    progress: Progress
    records: list
    started: float


def preflight(options: RunOptions, histories: int) -> None:
    """The checks that need no compiled kernel: options, ``--out``, and the time ``histories`` take."""
    check_options(options)
    if options.scheduler is None:  # a scheduler's cores are known once connected
        threads = options.threads or available_threads()
        cores = threads * options.dask_local if options.dask_local is not None else threads
        check_cost(histories, cores, force=options.force)


def connect_backend(options: RunOptions, histories: int):
    """This process, or a client of the dask cluster the options name (its size checked against the cost)."""
    if options.scheduler is None and options.dask_local is None:
        return execution.InProcess()
    from mc.distributed import connect

    backend = connect(scheduler=options.scheduler, local=options.dask_local, threads=options.threads)
    try:
        check_cost(histories, backend.cores, force=options.force)
    except BaseException:
        close_backend(backend)
        raise
    return backend


def close_backend(backend) -> None:
    if hasattr(backend, "close"):
        backend.close()


@contextmanager
def session(options: RunOptions, identity: dict, *, label: str, backend, points: int = 0):
    """The run directory, signal handlers, progress and execution settings of one command (closes ``backend``)."""
    progress = Progress(options.progress, label=label, points=points)
    try:
        # signals only raise the flag from here on: a directory being claimed is never left half-made
        with graceful_stop() as stop, \
                RunDirectory.open(options.out, identity, overwrite=options.overwrite, resume=options.resume,
                                  argv=options.argv) as directory, \
                thread_count(options.threads if isinstance(backend, execution.InProcess) else None):
            records: list = []
            with execution.using(store=directory.store, backend=backend, progress=progress, stop=stop,
                                 records=records):
                yield Session(directory, backend, progress, records, time.perf_counter())
    finally:
        progress.close()
        close_backend(backend)


def run_points(run: Session, cases: list, labels: list[str], options: RunOptions) -> list:
    """Run the points of a campaign together: each prepared point is checked against the memory,
    each failing one reported on one line (``emmc: LABEL failed: REASON``) while the others go on."""
    def check(state) -> None:
        check_memory(state.n_scores, state.case.settings.batches, options.threads or available_threads(),
                     force=options.force)

    def on_point(i: int, result) -> None:
        run.progress.point_done()
        if result.error:
            print(f"emmc: {labels[i]} failed: {result.error}", file=sys.stderr)

    return execution.execute_many(cases, on_point=on_point, check=check)


def report_written(paths, options: RunOptions) -> None:
    if options.progress:
        for path in paths:
            print(f"wrote {path}")


def run_identity(command: str, name: str, data: dict, summary: str, **extra) -> dict:
    """What a run directory belongs to: the command, the (normalised) case and anything swept, the code."""
    return {"command": command, "summary": summary, "name": name, "case": normal_case(data), "code": code_identity(),
            **extra}


def run_case(case, options: RunOptions, *, target=None, material=None, delta_mu_ev=1e-3, plot=False) -> tuple[int, list, object]:
    """``emmc run``: (exit status, written paths, the table)."""
    from mc.case import plot as plot_figures

    histories = target.max_histories if target else case.settings.histories
    preflight(options, histories)
    state = execution.prepare_run(case, load=False)
    if target is not None:
        layout = execution.table_layout(state)
        if layout is not None:
            check_names(layout, target)
    batches = state.max_batches(target.max_histories) if target else case.settings.batches
    check_memory(state.n_scores, batches, options.threads or available_threads(), force=options.force)
    backend = connect_backend(options, histories)
    identity = run_identity("run", case.name, case.data, f"case {case.name!r}")
    with session(options, identity, label=case.name, backend=backend) as run:
        execution.load_stored(state)
        result = execution.execute(case, target=target, state=state)
        frame = result.frame
        if material is not None:
            from observables.materials import to_si

            frame = to_si(frame, material, delta_mu_ev)
        written = publish_run(run, case, frame, result, plot_figures if plot else None)
    failed = result.target is not None and not result.target["met"]
    return (EXIT_FAILED if failed else EXIT_OK), written, frame


def write_case_toml(stage: Path, name: str, data: dict) -> None:
    """``case.toml``: the case as run, its name written in (it may have come from the file name)."""
    (stage / "case.toml").write_text(dump_toml({"name": name, **data}))


def publish_run(run: Session, case, frame, result, plot) -> list[Path]:
    from observables.tables import write_table_files

    directory = run.directory
    with directory.staging() as stage:
        write_table_files(frame, stage)
        write_case_toml(stage, case.name, case.data)
        if plot is not None:
            plot(case, frame, stage)
        totals = result.state.totals(result.batches)
        provenance = directory.provenance(
            case=case.name, seed=case.settings.seed, histories=int(totals.histories.sum()), batches=result.batches,
            case_key=result.state.key, source=case.source or None, backend=run.backend.description,
            transport_seconds=totals.seconds, wall_seconds=time.perf_counter() - run.started,
            batches_resumed=result.resumed, target=result.target)
        return directory.publish(stage, provenance)


def plot_run_directory(path: str) -> list[Path]:
    """``emmc plot RUN_DIR``: every figure of a finished run directory drawn again from its saved tables.

    Every folder of the run holding ``case.toml`` and ``results.parquet`` (the run itself, or each case
    of a campaign) gets its case's figures; the directory is republished as a set with the old
    figures replaced and the provenance extended by when the figures were drawn."""
    import json
    import shutil

    from mc.case import parse_case, plot
    from mc.config import load_toml
    from mc.rundir import PROVENANCE, STATE
    from observables.tables import read_table

    directory = check_out(path, key="run_dir")
    identity_file = directory / STATE / "run.json"
    if not (directory / PROVENANCE).exists() or not identity_file.exists():
        raise ConfigError("run_dir", f"{str(directory)!r} holds no finished emmc run (no {PROVENANCE})")
    identity = json.loads(identity_file.read_text())["identity"]
    old = json.loads((directory / PROVENANCE).read_text())
    with RunDirectory.open(directory, identity, resume=True, key="run_dir") as run:
        with run.staging() as stage:
            for name in old.get("files", {}):
                if not name.endswith(".png"):
                    (stage / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(directory / name, stage / name)
            for case_toml in sorted(stage.rglob("case.toml")):
                folder = case_toml.parent
                if (folder / "results.parquet").exists():
                    data = load_toml(case_toml)
                    plot(parse_case(data, default_name=str(data.get("name", "case"))), read_table(folder / "results.parquet"),
                         folder)
            fields = {k: v for k, v in old.items() if k not in ("files", "finished", "command")}
            return run.publish(stage, run.provenance(**fields, figures_drawn=True))
