"""Run directories (issue 9): one run per directory, byte-identical tables, kill and resume, atomic publication."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import aperture_case
from mc.cli import main

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}

CASE = aperture_case(name="run-dir", seed=11)

# long enough to be killed mid-run: 48 batches of half a million histories
LONG = aperture_case(name="run-dir", seed=11, histories="24_000_000", batches=48)


def write_case(tmp_path, text=CASE, name="case.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def emmc(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mc", *map(str, args)], env=ENV, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def batch_files(out: Path) -> list[Path]:
    return sorted((out / ".emmc" / "cases").glob("*/batch-*.npz"))


def wait_for_batches(out: Path, proc: subprocess.Popen, count: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while len(batch_files(out)) < count:
        assert proc.poll() is None, f"the run ended before {count} batches were saved: {proc.communicate()}"
        assert time.monotonic() < deadline, "no batches saved in time"
        time.sleep(0.01)


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory):
    """The uninterrupted run of LONG (in this process) that every interrupted one must equal byte for byte."""
    tmp = tmp_path_factory.mktemp("reference")
    out = tmp / "out"
    assert main(["run", str(write_case(tmp, LONG)), "--out", str(out), "--quiet"]) == 0
    return out


def test_same_seed_gives_byte_identical_tables_whatever_the_thread_count(tmp_path):
    case = write_case(tmp_path)
    assert main(["run", str(case), "--out", str(tmp_path / "one"), "--threads", "1", "--quiet"]) == 0
    assert main(["run", str(case), "--out", str(tmp_path / "two"), "--threads", "2", "--quiet"]) == 0
    for name in ("results.csv", "results.parquet"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    timing = pd.read_csv(tmp_path / "one" / "timing.csv")
    results = pd.read_csv(tmp_path / "one" / "results.csv")
    assert list(timing["row"]) == list(range(len(results))) and {"seconds", "fom"} <= set(timing.columns)


def test_provenance_records_case_seed_versions_and_every_file(tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(write_case(tmp_path)), "--out", str(out), "--seed", "5", "--quiet"]) == 0
    record = json.loads((out / "provenance.json").read_text())
    assert record["seed"] == 5 and record["case"] == "run-dir" and record["histories"] == 20_000
    assert {"emmc", "numpy", "numba", "python", "host", "started", "finished", "command", "git_revision"} <= set(record)
    assert "--seed 5" in record["command"]
    assert set(record["files"]) == {"results.csv", "results.parquet", "timing.csv", "case.toml"}
    import tomllib

    assert tomllib.loads((out / "case.toml").read_text())["seed"] == 5


def test_a_directory_holding_another_run_is_refused_unless_overwrite_or_resume(tmp_path, capsys):
    case = write_case(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(case), "--out", str(out), "--plot", "--quiet"]) == 0
    figures = sorted(p.name for p in out.glob("*.png"))
    assert figures
    before = (out / "results.csv").read_bytes()
    capsys.readouterr()
    assert main(["run", str(case), "--out", str(out), "--seed", "6", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "holds a finished run of case 'run-dir'" in err and "--overwrite" in err
    assert (out / "results.csv").read_bytes() == before
    # a different case cannot resume this one
    assert main(["run", str(case), "--out", str(out), "--seed", "6", "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "seed was 3" not in err and "seed was 11, now 6" in err
    # --resume of the same finished run republishes the same table
    assert main(["run", str(case), "--out", str(out), "--resume", "--quiet", "--plot"]) == 0
    assert (out / "results.csv").read_bytes() == before
    # --overwrite replaces it: the old run's figures do not linger beside the new table
    (out / "notes.txt").write_text("mine")
    assert main(["run", str(case), "--out", str(out), "--seed", "6", "--overwrite", "--quiet"]) == 0
    assert not list(out.glob("*.png")) and (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / "provenance.json").read_text())["seed"] == 6


def test_foreign_busy_and_impossible_directories_are_refused_before_any_work(tmp_path, capsys):
    case = write_case(tmp_path)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("x")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    for out, message in [(foreign, "holds files that no emmc run wrote ('thesis.tex')"),
                         (a_file, "is a file, not a directory"),
                         (a_file / "sub", "is a file"),
                         ("", "must name a directory"),
                         ("/proc/emmc-out", "cannot")]:
        assert main(["run", str(case), "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and err.startswith("emmc: error: --out: ") and message in err, err
    assert sorted(p.name for p in foreign.iterdir()) == ["thesis.tex"]
    # busy: another process holds the lock (flock is per open file, so this test's own descriptor counts)
    import fcntl

    out = tmp_path / "busy"
    assert main(["run", str(case), "--out", str(out), "--quiet"]) == 0
    with open(out / ".emmc" / "lock", "a+") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(["run", str(case), "--out", str(out), "--resume", "--quiet"]) == 2
    assert "is in use by another emmc run" in capsys.readouterr().err


def test_sigkill_mid_run_then_resume_gives_the_uninterrupted_table(tmp_path, long_reference):
    case = write_case(tmp_path, LONG)
    out = tmp_path / "out"
    proc = emmc("run", case, "--out", out, "--quiet", "--threads", "1")
    wait_for_batches(out, proc, 3)
    proc.kill()
    proc.wait()
    saved = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in batch_files(out)}
    assert 3 <= len(saved) < 48, "the kill must land mid-run"
    assert not (out / "provenance.json").exists()
    # a plain run is refused: the directory holds an unfinished run
    assert main(["run", str(case), "--out", str(out), "--quiet"]) == 2
    assert main(["run", str(case), "--out", str(out), "--resume", "--quiet"]) == 0
    for name in ("results.csv", "results.parquet"):
        assert (out / name).read_bytes() == (long_reference / name).read_bytes()
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in batch_files(out)}
    assert all(after[name] == saved[name] for name in saved), "a finished batch was computed again"
    assert json.loads((out / "provenance.json").read_text())["batches_resumed"] == len(saved)


def test_sigterm_stops_at_a_batch_boundary_with_one_line_and_resume_completes(tmp_path, long_reference):
    case = write_case(tmp_path, LONG)
    out = tmp_path / "out"
    proc = emmc("run", case, "--out", out, "--quiet", "--threads", "1")
    wait_for_batches(out, proc, 2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err.count("\n") == 1 and "stopped by SIGTERM" in err and "--resume" in err and "Traceback" not in err
    assert 2 <= len(batch_files(out)) < 48 and not (out / "provenance.json").exists()
    assert main(["run", str(case), "--out", str(out), "--resume", "--quiet"]) == 0
    assert (out / "results.csv").read_bytes() == (long_reference / "results.csv").read_bytes()


PUBLISH_UNDER_SIGTERM = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from mc.rundir import RunDirectory
    from mc.signals import graceful_stop

    out = Path(sys.argv[1])
    with RunDirectory.open(out, {"command": "test", "n": int(sys.argv[2])}, overwrite=True) as run, graceful_stop() as stop:
        with run.staging() as stage:
            for i in range(5):
                (stage / f"part{i}.txt").write_text(sys.argv[2])
                if i == 2:
                    os.kill(os.getpid(), signal.SIGTERM)  # a real SIGTERM in the middle of writing the set
            run.publish(stage, {"n": sys.argv[2]})
        print("stop requested" if stop.signum == signal.SIGTERM else "no stop")
""")


def test_publication_is_atomic_under_sigterm_and_recovered_after_a_kill(tmp_path):
    out = tmp_path / "out"
    script = tmp_path / "publish.py"
    script.write_text(PUBLISH_UNDER_SIGTERM)
    for n in ("1", "2"):
        proc = subprocess.run([sys.executable, str(script), str(out), n], env=ENV, capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 0 and proc.stdout.strip() == "stop requested", proc.stderr
        assert all((out / f"part{i}.txt").read_text() == n for i in range(5))
        assert json.loads((out / "provenance.json").read_text())["n"] == n
        assert not list((out / ".emmc").glob("staging-*")) and not (out / ".emmc" / "publish.json").exists()

    # a process killed after the commit point: the next one to open the directory finishes the publication
    from mc.rundir import RunDirectory, _apply

    identity = {"command": "test", "n": 3}
    with RunDirectory.open(out, identity, overwrite=True) as run:
        with run.staging() as stage:
            for i in range(5):
                (stage / f"part{i}.txt").write_text("3")
            import mc.rundir as rundir

            original = rundir._apply
            rundir._apply = lambda path, journal: None  # the kill: journal committed, nothing moved
            try:
                run.publish(stage, {"n": "3"})
            finally:
                rundir._apply = original
    # --overwrite removed run 2's files; run 3's are committed but still staged
    assert (out / ".emmc" / "publish.json").exists() and not (out / "part0.txt").exists()
    stale = out / ".emmc" / "staging-999-dead"  # and one killed before its commit point
    stale.mkdir()
    (stale / "half.txt").write_text("x")
    with RunDirectory.open(out, identity, resume=True):
        pass
    assert all((out / f"part{i}.txt").read_text() == "3" for i in range(5))
    assert json.loads((out / "provenance.json").read_text())["n"] == "3"
    assert not stale.exists() and not (out / ".emmc" / "publish.json").exists()
    assert _apply is original


def test_precision_target_adds_batches_until_met_and_says_so(tmp_path, capsys):
    case = write_case(tmp_path)
    out = tmp_path / "target"
    args = ["run", str(case), "--out", str(out), "--quiet", "--target-rel-err", "0.04", "--observable", "density",
            "--max-histories", "400000"]
    assert main(args) == 0
    frame = pd.read_csv(out / "results.csv", keep_default_na=False, na_values=[""])
    density = frame[frame.observable == "density"].iloc[0]
    assert density.target == "met" and density.stderr / density.value <= 0.04
    assert 20_000 < density.histories <= 400_000 and (frame[frame.observable == "current"].target.isna()).all()
    record = json.loads((out / "provenance.json").read_text())["target"]
    assert record["met"] and record["histories"] == density.histories
    # a prefix-extension of the fixed-history run: its first 10 batches are that run's batches
    fixed = tmp_path / "fixed"
    assert main(["run", str(case), "--out", str(fixed), "--quiet"]) == 0
    for path in batch_files(fixed):
        twin = next(p for p in batch_files(out) if p.name == path.name)
        import numpy as np

        assert np.array_equal(np.load(path)["totals"], np.load(twin)["totals"])
    # unreachable within --max-histories: the table says so and the exit status is 1
    missed = tmp_path / "missed"
    assert main(["run", str(case), "--out", str(missed), "--quiet", "--target-rel-err", "0.001",
                 "--max-histories", "60000"]) == 1
    assert "precision target was not reached" in capsys.readouterr().err
    assert "missed" in set(pd.read_csv(missed / "results.csv").target.dropna())
    # a target on an observable the case does not tally is bad input, found before any batch runs
    none = tmp_path / "none"
    assert main(["run", str(case), "--out", str(none), "--quiet", "--target-rel-err", "0.01", "--observable",
                 "wind_force", "--max-histories", "60000"]) == 2
    assert "--observable: the case's table has no 'wind_force'" in capsys.readouterr().err and not none.exists()
