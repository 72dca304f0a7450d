"""The batch loop shared by every Monte Carlo system.

Histories 0..N-1 are split into B consecutive batches.  A system supplies a
kernel ``kernel(first_history, count) -> (n_chunks, n_scores)`` array: a
serial ``@njit(nogil=True)`` loop that runs ``count`` histories starting at
``first_history`` in chunks of :data:`CHUNK` histories, each chunk
accumulating into its own row.  :func:`run_batches` hands contiguous ranges
of whole chunks to a pool of threads (the kernel releases the GIL), so no two
threads ever write the same memory, and sums the rows in a fixed order.
Chunk boundaries and every reduction are fixed by the history indices alone,
hence the totals are bit-identical for any thread count.

Why not numba's ``prange``: its parfor lowering compiles the kernel body a
second time (the pre-engine point-contact kernel took 37 s to compile, 14 s
without).  The 1D chain's kernel is still declared ``parallel=True`` without
any ``prange``: that pipeline's extra passes made the pre-engine serial loops
about 3x faster.  The engine's kernel is not: with its arrays borrowed
(:mod:`mc.borrowed`) it runs as fast without them (0.90x against 0.89x of the
frozen pre-engine kernel, bench/bench_point_contact.py), and they would add
17 s to its compilation.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import numba
import numpy as np
from tqdm import tqdm

CHUNK = 2048
"""Histories per accumulator row (fixed: part of what makes results thread-independent)."""

_CALL_CHUNKS = 512
"""Most chunks per kernel call (keeps the progress bar moving)."""

_CALL_MEMORY = 64 * 2**20
"""Bytes of per-chunk accumulators one call may hold (many-impurity cases have large score vectors)."""


@dataclass
class BatchTotals:
    """Summed scores of each batch: ``totals[b, s]``, histories per batch and wall time."""

    totals: np.ndarray
    histories: np.ndarray
    seconds: float


@dataclass
class Simulation:
    """A case made ready to run, as every system prepares it (``prepare(case)``).

    ``kernel(first, count)`` returns the per-chunk score rows (n_chunks, n_scores)
    of histories first .. first+count-1 and depends on nothing else, so any
    runner (threads, checkpointed batches, a cluster) may call it for any range;
    ``finalize(batches)`` turns the batch totals into the rows of the results table.
    """

    label: str
    kernel: Callable[[int, int], np.ndarray]
    finalize: Callable[[BatchTotals], "object"]
    chunk: int = CHUNK
    """Histories per accumulator row of this kernel (fixed by the case, never by the thread count)."""


def batch_sizes(histories: int, batches: int) -> np.ndarray:
    base, extra = divmod(histories, batches)
    return np.array([base + (1 if b < extra else 0) for b in range(batches)], dtype=np.int64)


def batch_plan(sizes) -> list[tuple[int, int]]:
    """(first history, histories) of each batch: batches are consecutive ranges of history indices."""
    plan, first = [], 0
    for size in sizes:
        plan.append((first, int(size)))
        first += int(size)
    return plan


def n_chunks(count: int, chunk: int = CHUNK) -> int:
    return (count + chunk - 1) // chunk


@contextmanager
def thread_count(threads: int | None):
    """Run kernels on ``threads`` threads (numba's thread setting is the one knob), restoring the previous one."""
    if threads is None:
        yield
        return
    threads = max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS))
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def run_chunks(kernel, first: int, count: int, pool: ThreadPoolExecutor | None, threads: int,
               chunk: int = CHUNK) -> np.ndarray:
    """Per-chunk rows of histories first .. first+count-1, the chunks shared out between threads.

    Each thread gets a contiguous range of whole chunks, so every row is the
    same as in a single call and the rows come back in history order."""
    chunks = n_chunks(count, chunk)
    if pool is None or threads < 2 or chunks < 2:
        return kernel(first, count)
    per_thread = (chunks + threads - 1) // threads
    pieces = []
    for start in range(0, chunks, per_thread):
        begin = start * chunk
        end = min(count, (start + per_thread) * chunk)
        pieces.append((first + begin, end - begin))
    return np.concatenate(list(pool.map(lambda piece: kernel(*piece), pieces)), axis=0)


def show_progress(requested: bool) -> bool:
    return requested and sys.stderr.isatty()


def call_size(n_scores: int, chunk: int = CHUNK) -> int:
    """Histories per kernel call: whole chunks, at most :data:`_CALL_CHUNKS` of them and
    :data:`_CALL_MEMORY` bytes of per-chunk rows (part of the fixed summation order)."""
    return chunk * max(1, min(_CALL_CHUNKS, _CALL_MEMORY // (8 * max(n_scores, 1))))


def batch_totals(
    kernel: Callable[[int, int], np.ndarray],
    first: int,
    size: int,
    *,
    n_scores: int,
    chunk: int = CHUNK,
    pool: ThreadPoolExecutor | None = None,
    threads: int = 1,
    after_call: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Summed scores (n_scores,) of the batch of histories first .. first+size-1.

    The one reduction every runner uses (threads here, a dask worker, a resumed
    process): the batch is cut into calls of :func:`call_size` histories from its
    first history, each call into chunk rows summed in history order, and the call
    sums are added in order, so the result is bit-identical wherever it runs.
    ``after_call(count)`` is told after each call (progress; it may raise to abandon
    the batch, which then leaves nothing behind).
    """
    per_call = call_size(n_scores, chunk)
    total = np.zeros(n_scores)
    done = 0
    while done < size:
        count = int(min(per_call, size - done))
        total += run_chunks(kernel, first + done, count, pool, threads, chunk).sum(axis=0)
        done += count
        if after_call is not None:
            after_call(count)
    return total


@contextmanager
def thread_pool(threads: int):
    """A pool for :func:`run_chunks` when more than one thread runs kernels (None otherwise)."""
    if threads < 2:
        yield None
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        yield pool


def run_batches(
    kernel: Callable[[int, int], np.ndarray],
    histories: int,
    batches: int,
    *,
    progress: bool = False,
    label: str = "histories",
    chunk: int = CHUNK,
) -> BatchTotals:
    """Run all batches through ``kernel`` and return the per-batch totals."""
    sizes = batch_sizes(histories, batches)
    # compile (or load from the cache) outside the timed region: FOM measures transport
    n_scores = kernel(0, 0).shape[1]
    totals = np.zeros((batches, n_scores))
    start = time.perf_counter()
    bar = tqdm(
        total=histories,
        unit=" hist",
        unit_scale=True,
        desc=label,
        delay=2.0,
        disable=not show_progress(progress),
        file=sys.stderr,
    )
    threads = numba.get_num_threads()
    with bar, thread_pool(threads) as pool:
        for b, (first, size) in enumerate(batch_plan(sizes)):
            totals[b] = batch_totals(kernel, first, size, n_scores=n_scores, chunk=chunk, pool=pool,
                                     threads=threads, after_call=bar.update)
    return BatchTotals(totals=totals, histories=sizes, seconds=time.perf_counter() - start)
