"""Batches on a dask.distributed cluster (``--scheduler ADDRESS`` or ``--dask-local N``).

One task per batch, named ``emmc-<case key>-b<batch>``: the worker re-parses
the case from its validated dict (:func:`mc.case.parse_case`), prepares it
once per process and sums the batch with :func:`mc.batches.batch_totals`, the
same function the in-process loop uses, so a batch has the same bits wherever
it ran.  Tasks are pure functions of (case, batch): when a worker dies, the
scheduler runs its batches again on another worker and the client receives
each batch once, so nothing is lost or counted twice; the client saves every
batch in the run directory as it arrives (a killed client resumes too).
Every task also returns the hash of the worker's emmc sources; a cluster
running other code than the client is refused rather than mixed in.

dask is optional (``pip install 'emmc[cluster]'``) and imported only here.
"""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from pathlib import Path

from mc.batches import batch_totals, thread_pool
from mc.checkpoint import StoredBatch, code_identity
from mc.errors import ConfigError

RETRIES = 3
"""Extra attempts of a batch whose task raised (a dead worker is rescheduled by the scheduler itself)."""

_POLL = 0.5
"""Seconds between looks at the stop flag while waiting for batches."""

_PREPARED: OrderedDict = OrderedDict()
_PREPARED_MAX = 4


def _dask(option: str):
    try:
        import distributed
    except ImportError:
        raise ConfigError(option, "needs dask.distributed, which is not installed: pip install 'emmc[cluster]'") from None
    return distributed


def _prepared(name: str, data: dict, key: str):
    """The simulation of a case, prepared once per worker process (compiling or loading its kernel)."""
    if key not in _PREPARED:
        from mc.case import parse_case
        from mc.systems import system_module

        case = parse_case(data, default_name=name)
        simulation = system_module(case.kind).prepare(case)
        _PREPARED[key] = (simulation, int(simulation.kernel(0, 0).shape[1]))
        while len(_PREPARED) > _PREPARED_MAX:
            _PREPARED.popitem(last=False)
    _PREPARED.move_to_end(key)
    return _PREPARED[key]


def batch_task(name: str, data: dict, key: str, first: int, size: int, threads: int):
    """Run one batch on a worker: (totals, seconds, the worker's source hash)."""
    simulation, n_scores = _prepared(name, data, key)
    start = time.perf_counter()
    with thread_pool(threads) as pool:
        totals = batch_totals(simulation.kernel, first, size, n_scores=n_scores, chunk=simulation.chunk, pool=pool,
                              threads=threads)
    return totals, time.perf_counter() - start, code_identity()["sources"]


class DaskBackend:
    """Runs the batches of :func:`mc.execution.run_missing` as tasks on a dask cluster."""

    def __init__(self, client, cluster=None, *, threads_per_task: int = 1, description: str = "dask"):
        self.client = client
        self.cluster = cluster
        self.threads_per_task = threads_per_task
        self.description = description

    @property
    def cores(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def run(self, jobs, on_done, on_error, progress, stop) -> None:
        from mc.signals import Interrupted

        distributed = _dask("--scheduler")
        sources = code_identity()["sources"]
        futures = {}
        for job in jobs:
            state = job.state
            future = self.client.submit(batch_task, state.case.name, state.case.data, state.key, job.first, job.size,
                                        self.threads_per_task, key=f"emmc-{state.key[:16]}-b{job.batch}",
                                        retries=RETRIES)
            futures[future] = job
        pending = set(futures)
        try:
            while pending:
                if stop is not None and stop.signum is not None:
                    raise Interrupted(stop.signum, "at a batch boundary")
                try:
                    done, pending = distributed.wait(pending, timeout=_POLL, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    continue
                for future in done:
                    job = futures[future]
                    if future.status != "finished":
                        on_error(job, future.exception())
                        continue
                    totals, seconds, worker_sources = future.result()
                    if worker_sources != sources:
                        raise ConfigError("--scheduler", "the cluster's workers run other emmc sources than this "
                                                         "process; install the same version on both")
                    on_done(job, StoredBatch(totals, job.size, seconds))
                    if progress is not None:
                        progress.advance(job.size)
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def connect(*, scheduler: str | None = None, local: int | None = None, threads: int | None = None) -> DaskBackend:
    """A client of the cluster at ``scheduler`` or of a new LocalCluster of ``local`` worker processes."""
    option = "--scheduler" if scheduler is not None else "--dask-local"
    distributed = _dask(option)
    threads = threads or 1
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="15s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError("--scheduler", f"cannot reach a dask scheduler at {scheduler!r} ({exc})") from None
        workers = len(client.scheduler_info().get("workers", {}))
        return DaskBackend(client, threads_per_task=threads,
                           description=f"dask scheduler {scheduler} ({workers} workers at start)")
    root = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join([root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    # the workers must import these very sources (an installed emmc elsewhere would be other code)
    cluster = distributed.LocalCluster(n_workers=local, threads_per_worker=threads, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR,
                                       env={"PYTHONPATH": path})
    client = distributed.Client(cluster)
    return DaskBackend(client, cluster, threads_per_task=threads,
                       description=f"dask LocalCluster of {local} worker processes x {threads} threads")
