import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT.parent / "shared" / "examples"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def aperture_case(name="cli-test", seed=3, histories="20_000", batches=10, probes="[[0, 0, 5.0]]") -> str:
    """TOML text of a small ballistic point contact (exact current, density probes): the tests' quick case."""
    return f"""
name = "{name}"
seed = {seed}
histories = {histories}
batches = {batches}
[geometry]
kind = "aperture"
radius = 10.0
[source]
kind = "aperture"
[[tallies]]
kind = "current"
[[tallies]]
kind = "density"
probes = {probes}
"""


@pytest.fixture
def examples_dir() -> Path:
    if not EXAMPLES.is_dir():
        pytest.fail(f"shared examples not found at {EXAMPLES}")
    return EXAMPLES


def assert_agrees(frame, limit=4.0):
    """Every row with a reference and a finite stderr lies within `limit` standard errors of it;
    a zero-variance (exact) estimate must equal its reference to rounding."""
    import numpy as np

    exact = frame[np.isfinite(frame["reference"]) & (frame["stderr"] == 0)]
    np.testing.assert_allclose(exact["value"], exact["reference"], rtol=1e-9, atol=1e-15)
    rows = frame[np.isfinite(frame["reference"]) & np.isfinite(frame["stderr"]) & (frame["stderr"] > 0)]
    assert len(rows) > 0, "no row has a reference and an error bar"
    z = (rows["value"] - rows["reference"]) / rows["stderr"]
    worst = z.abs().idxmax()
    assert z.abs().max() < limit, f"{limit}-sigma disagreement:\n{rows.loc[worst].to_string()}"
    return z


def assert_thread_invariant(case):
    """The same seed gives bit-identical values and errors with 1 and with 2 threads (SPEC §5), and
    the two-thread run really ran kernel calls on two threads (a batch smaller than two chunks of
    histories never reaches the pool, and the test would prove nothing)."""
    import dataclasses
    import threading
    from unittest import mock

    import numpy as np

    import mc
    from mc import execution

    threads_seen: set[int] = set()
    original = execution.system_module

    class Spy:
        def __init__(self, module):
            self.module = module

        def __getattr__(self, name):
            return getattr(self.module, name)

        def prepare(self, case):
            simulation = self.module.prepare(case)
            kernel = simulation.kernel

            def spied(first, count):
                if count > 0:
                    threads_seen.add(threading.get_ident())
                return kernel(first, count)

            return dataclasses.replace(simulation, kernel=spied)

    with mock.patch.object(execution, "system_module", lambda kind: Spy(original(kind))):
        one = mc.run(case, threads=1)
        threads_seen.clear()
        two = mc.run(case, threads=2)
    assert len(threads_seen) >= 2, "the two-thread run used one thread: make each batch at least two chunks long"
    np.testing.assert_array_equal(one["value"].to_numpy(), two["value"].to_numpy())
    np.testing.assert_array_equal(one["stderr"].to_numpy(), two["stderr"].to_numpy())
