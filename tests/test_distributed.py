"""Batches on a dask.distributed LocalCluster: the same table as in-process, and a killed worker loses nothing."""

import os
import signal
import threading
import time
from pathlib import Path

import pytest

import mc
from mc import execution
from conftest import aperture_case
from mc.cli import main

distributed = pytest.importorskip("distributed")
ROOT = Path(__file__).resolve().parents[1]

CASE = aperture_case(name="dask", seed=21, histories="200_000", probes="[[0, 0, 5.0], [3.0, 0, 8.0]]")


def test_local_cluster_of_two_worker_processes_gives_the_in_process_table_bit_for_bit(tmp_path):
    case = tmp_path / "case.toml"
    case.write_text(CASE)
    assert main(["run", str(case), "--out", str(tmp_path / "here"), "--quiet"]) == 0
    assert main(["run", str(case), "--out", str(tmp_path / "dask"), "--dask-local", "2", "--quiet"]) == 0
    for name in ("results.csv", "results.parquet"):
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes()


class _Watch:
    """Progress that tells when the first batch has come back."""

    def __init__(self):
        self.first = threading.Event()

    def add(self, histories):
        pass

    def advance(self, histories):
        self.first.set()


def test_a_worker_killed_mid_batch_is_retried_without_losing_or_double_counting(tmp_path):
    from mc.distributed import DaskBackend

    # batches of a few tenths of a second, so that the killed worker is in the middle of one
    case = mc.load_case(_write(tmp_path), histories=24_000_000, batches=12)
    reference = mc.run(case, threads=2)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       env={"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])})
    client = distributed.Client(cluster)
    try:
        watch = _Watch()
        outcome = {}

        def run():
            with execution.using(backend=DaskBackend(client), progress=watch):
                outcome["result"] = execution.execute(case)

        runner = threading.Thread(target=run)
        runner.start()
        assert watch.first.wait(120), "no batch came back"
        pids = client.run(os.getpid)
        busy = {address for address, tasks in client.processing().items() if tasks}
        assert busy and runner.is_alive(), "no worker is running a batch"
        victim = pids[sorted(busy)[0]]
        os.kill(victim, signal.SIGKILL)
        runner.join(180)
        assert not runner.is_alive()
        deadline = time.monotonic() + 30
        while victim in client.run(os.getpid).values() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert victim not in client.run(os.getpid).values(), "the worker was not killed"
        result = outcome["result"]
        assert sorted(result.state.batches) == list(range(12))
        assert (result.frame["value"].to_numpy() == reference["value"].to_numpy()).all()
        assert (result.frame["stderr"].to_numpy() == reference["stderr"].to_numpy()).all()
        assert int(result.frame["histories"].iloc[0]) == 24_000_000
    finally:
        client.close()
        cluster.close()


def _write(tmp_path):
    path = tmp_path / "case.toml"
    path.write_text(CASE)
    return path
