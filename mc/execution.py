"""Running a case's batches: where they run, what is kept, when to stop.

Batch ``b`` of a case always covers the same history indices (the first
``batches`` split ``histories`` as :func:`mc.batches.batch_sizes` does; a
precision target adds batches of ``histories // batches`` after them), and
:func:`mc.batches.batch_totals` sums it in a fixed order, so its totals are
the same bits whoever runs it: this process, a dask worker, a resumed run.
The batch totals are then reduced into estimates in one place, in batch
order, by the system's ``finalize``.

What a run uses comes from the ambient :class:`Execution` (set with
:func:`using`), so that campaign scripts calling :func:`mc.run` get the
checkpoints, the cluster, the progress display and the stop flag of the
command that runs them without knowing about any of it:

* ``store``: a :class:`mc.checkpoint.CaseStore`; finished batches are saved
  there and never recomputed;
* ``backend``: :class:`InProcess` (numba threads) or
  :class:`mc.distributed.DaskBackend`;
* ``progress``: a :class:`mc.progress.Progress`;
* ``stop``: a :class:`mc.signals.StopFlag` checked between kernel calls;
* ``records``: a list that receives a :class:`RunRecord` per finished run
  (``emmc reproduce`` reads the batch values of every run from it).
"""

from __future__ import annotations

import time
import warnings
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Callable

import numba
import numpy as np
import pandas as pd

from mc.batches import BatchTotals, Simulation, batch_plan, batch_sizes, batch_totals, thread_count, thread_pool
from mc.checkpoint import CaseStore, StoredBatch, case_key
from mc.errors import ConfigError
from mc.progress import Progress
from mc.signals import StopFlag
from mc.systems import system_module
from mc.targets import PrecisionTarget, next_batch_count, target_status


class InProcess:
    """Batches run one after the other in this process, each shared out between numba threads."""

    description = "in-process"

    def run(self, jobs: list["Job"], on_done, on_error, progress: Progress | None, stop: StopFlag | None) -> None:
        threads = numba.get_num_threads()

        def after_call(count: int) -> None:
            if progress is not None:
                progress.advance(count)
            if stop is not None:
                stop.check("at a batch boundary")

        with thread_pool(threads) as pool:
            for job in jobs:
                if job.state.failed is not None:
                    continue
                if stop is not None:
                    stop.check("at a batch boundary")
                sim = job.state.simulation
                start = time.perf_counter()
                try:
                    totals = batch_totals(sim.kernel, job.first, job.size, n_scores=job.state.n_scores, chunk=sim.chunk,
                                          pool=pool, threads=threads, after_call=after_call)
                except Exception as exc:  # noqa: BLE001 - the caller decides what a failed batch means
                    on_error(job, exc)
                    continue
                on_done(job, StoredBatch(totals, job.size, time.perf_counter() - start))


@dataclass
class Execution:
    store: CaseStore | None = None
    backend: object = field(default_factory=InProcess)
    progress: Progress | None = None
    stop: StopFlag | None = None
    records: list | None = None


_CURRENT: ContextVar[Execution] = ContextVar("emmc_execution", default=Execution())


def current() -> Execution:
    return _CURRENT.get()


@contextmanager
def using(**changes):
    """Run the enclosed runs with some of :class:`Execution`'s settings changed."""
    token = _CURRENT.set(replace(_CURRENT.get(), **changes))
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)


@contextmanager
def api_call(*, threads: int | None, progress: bool, label: str, points: int = 0):
    """Settings of a Python API call (``mc.run``, ``mc.sweep``): its thread count, and a progress
    bar of its own when asked for and no emmc command around it shows one already."""
    own = progress and current().progress is None
    bar = Progress(label=label, points=points) if own else None
    try:
        with thread_count(threads), using(progress=bar) if own else nullcontext():
            yield
    finally:
        if bar is not None:
            bar.close()


@dataclass
class RunState:
    """A case made ready to run: its simulation, checkpoint key and the batches it has so far."""

    case: object
    simulation: Simulation
    key: str
    n_scores: int
    batches: dict[int, StoredBatch]
    failed: Exception | None = None

    @property
    def base_batches(self) -> int:
        return self.case.settings.batches

    def plan(self, count: int) -> list[tuple[int, int, int]]:
        """(batch, first history, histories) of batches 0 .. count-1 (beyond the case's batches, target extensions)."""
        settings = self.case.settings
        sizes = list(batch_sizes(settings.histories, settings.batches)[:count])
        sizes += [settings.histories // settings.batches] * (count - len(sizes))
        return [(b, first, size) for b, (first, size) in enumerate(batch_plan(sizes))]

    def max_batches(self, max_histories: int) -> int:
        settings = self.case.settings
        return settings.batches + (max_histories - settings.histories) // (settings.histories // settings.batches)

    def histories(self, count: int) -> int:
        return sum(size for _, _, size in self.plan(count))

    def totals(self, count: int) -> BatchTotals:
        stored = [self.batches[b] for b in range(count)]
        return BatchTotals(totals=np.stack([s.totals for s in stored]),
                           histories=np.array([s.histories for s in stored], dtype=np.int64),
                           seconds=float(sum(s.seconds for s in stored)))


@dataclass
class Job:
    state: RunState
    batch: int
    first: int
    size: int


@dataclass
class RunRecord:
    """A finished run: its case, simulation and batch totals (enough to recompute any row per batch)."""

    case: object
    simulation: Simulation
    key: str
    totals: BatchTotals
    frame: pd.DataFrame


@dataclass
class RunResult:
    frame: pd.DataFrame
    state: RunState
    batches: int
    resumed: int
    """Batches found in the checkpoint instead of run."""
    target: dict | None = None


def prepare_run(case, *, load: bool = True) -> RunState:
    """Prepare ``case`` (compiles its kernel) and, with ``load``, take the batches the ambient store holds."""
    simulation = system_module(case.kind).prepare(case)
    n_scores = int(simulation.kernel(0, 0).shape[1])
    state = RunState(case, simulation, case_key(case), n_scores, {})
    if load:
        load_stored(state)
    return state


def table_layout(state: RunState) -> pd.DataFrame | None:
    """The rows the case's table will have, before any batch runs (the table of two empty batches),
    or None if the system cannot make one from nothing."""
    empty = BatchTotals(totals=np.zeros((2, state.n_scores)), histories=np.ones(2, dtype=np.int64), seconds=0.0)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return state.simulation.finalize(empty).frame()
        except Exception:  # noqa: BLE001 - only a pre-check: the real table decides
            return None


def load_stored(state: RunState) -> None:
    """Take the finished batches of ``state``'s case from the ambient store (creating its checkpoint)."""
    store = current().store
    if store is None:
        return
    store.open(state.case, state.key, state.n_scores)
    found = store.load(state.key, state.n_scores)
    # a stored batch is only used where the plan puts the same number of histories
    sizes = {b: size for b, _, size in state.plan(max(found, default=-1) + 1)}
    state.batches = {b: batch for b, batch in found.items() if sizes.get(b) == batch.histories}


def run_missing(wanted: list[tuple[RunState, int]], *, isolate: bool = False) -> None:
    """Run the batches 0 .. count-1 that each state lacks, saving each one as it finishes.

    With ``isolate`` a failing batch marks its run failed and the others go on
    (a campaign keeps its finished points); otherwise the error propagates."""
    ctx = current()
    jobs = [Job(state, b, first, size) for state, count in wanted for b, first, size in state.plan(count)
            if b not in state.batches and state.failed is None]
    if not jobs:
        return
    if ctx.progress is not None:
        ctx.progress.add(sum(job.size for job in jobs))

    def on_done(job: Job, batch: StoredBatch) -> None:
        if ctx.store is not None:
            ctx.store.save(job.state.key, job.batch, batch)
        job.state.batches[job.batch] = batch

    def on_error(job: Job, exc: Exception) -> None:
        if not isolate:
            raise exc
        job.state.failed = exc

    ctx.backend.run(jobs, on_done, on_error, ctx.progress, ctx.stop)


def finish(state: RunState, count: int) -> pd.DataFrame:
    """The results table of the first ``count`` batches (the one reduction of batch totals)."""
    totals = state.totals(count)
    frame = state.simulation.finalize(totals).frame()
    frame["seed"] = state.case.settings.seed
    frame["histories"] = int(totals.histories.sum())
    frame["batches"] = count
    if "seconds" not in frame:
        frame["seconds"] = totals.seconds
    return frame


def _record(state: RunState, count: int, frame: pd.DataFrame) -> None:
    records = current().records
    if records is not None:
        records.append(RunRecord(state.case, state.simulation, state.key, state.totals(count), frame))


def execute(case, *, target: PrecisionTarget | None = None, state: RunState | None = None) -> RunResult:
    """Run ``case`` (batches found in the ambient store are not run again) and return its table."""
    state = state if state is not None else prepare_run(case)
    resumed = len(state.batches)
    count = case.settings.batches
    run_missing([(state, count)])
    frame = finish(state, count)
    status = None
    if target is not None:
        base = case.settings.histories // case.settings.batches
        max_count = state.max_batches(target.max_histories)
        while True:
            met, worst, column = target_status(frame, target)
            if met or count >= max_count:
                break
            count = next_batch_count(count, state.histories(count), worst, target, base, max_count)
            run_missing([(state, count)])
            frame = finish(state, count)
        frame["target"] = column
        status = {**target.describe(), "met": met, "worst_rel_err": worst, "histories": state.histories(count),
                  "batches": count}
    _record(state, count, frame)
    return RunResult(frame, state, count, min(resumed, count), status)


@dataclass
class PointResult:
    """One point of a campaign: its table, or why it failed."""

    frame: pd.DataFrame | None
    error: str | None
    resumed: int = 0
    seconds: float = 0.0


def execute_many(cases: list, *, on_point: Callable[[int, PointResult], None] | None = None,
                 check: Callable[[RunState], None] | None = None) -> list[PointResult]:
    """Run several cases at once (a cluster gets every batch of every point together).

    A point that fails (while being prepared, in a batch, or when its table is
    made) is reported as such; the other points are still run and returned.
    ``check(state)`` sees every prepared point before any batch runs (it may refuse the campaign)."""
    states: list[RunState | None] = []
    errors: list[str | None] = []
    for case in cases:
        try:
            states.append(prepare_run(case))
            errors.append(None)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failing point must not cost the others
            states.append(None)
            errors.append(_describe(exc))
    if check is not None:
        for state in states:
            if state is not None:
                check(state)
    live = [(s, s.case.settings.batches) for s in states if s is not None]
    resumed = [len(s.batches) if s is not None else 0 for s in states]
    run_missing(live, isolate=True)
    results = []
    for i, state in enumerate(states):
        if state is not None and state.failed is not None:
            errors[i] = _describe(state.failed)
        if errors[i] is not None:
            result = PointResult(None, errors[i], resumed[i])
        else:
            try:
                frame = finish(state, state.base_batches)
                _record(state, state.base_batches, frame)
                result = PointResult(frame, None, resumed[i], state.totals(state.base_batches).seconds)
            except Exception as exc:  # noqa: BLE001
                result = PointResult(None, _describe(exc), resumed[i])
        if on_point is not None:
            on_point(i, result)
        results.append(result)
    return results


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
