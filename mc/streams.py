"""Counter-based random streams, one per history.

Every history ``h`` of a run with seed ``s`` owns the stream obtained by
hashing ``(s, h)`` (SplitMix64 finaliser, Steele, Lea & Flood 2014); draws
then advance a Weyl counter inside that stream.  A history's random numbers
therefore depend only on ``(seed, history index)``, never on which thread,
batch or worker ran it, which makes every result bit-identical for any
thread or process count.  The state is a plain ``uint64`` passed by value:
``u, state = uniform(state)``.
"""

import numpy as np

from geometry.jit import jit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_STREAM_SALT = np.uint64(0xD1B54A32D192ED03)
_TO_UNIT = 2.0**-53


@jit()
def mix64(z):
    """SplitMix64 finaliser: a bijective avalanche hash of a uint64."""
    z = (z ^ (z >> np.uint64(30))) * _MUL1
    z = (z ^ (z >> np.uint64(27))) * _MUL2
    return z ^ (z >> np.uint64(31))


@jit()
def history_stream(seed, history):
    """Initial state of the stream of history ``history`` under ``seed``."""
    return mix64(mix64(np.uint64(seed) ^ _STREAM_SALT) + np.uint64(history) * _GOLDEN)


@jit()
def uniform(state):
    """One uniform deviate in the open interval (0, 1) and the advanced state."""
    state = state + _GOLDEN
    z = mix64(state)
    return ((z >> np.uint64(11)) + 0.5) * _TO_UNIT, state


def uniforms(seed: int, histories, count: int, salt: int = 0) -> np.ndarray:
    """``count`` uniform deviates in (0, 1) per history, (len(histories), count), in numpy.

    The same counter-based construction as :func:`history_stream` and :func:`uniform`, keyed by
    ``seed ^ salt``: a history's deviates depend only on (seed, salt, history index), so tables
    generated from them in Python (precomputed source particles) are the same whichever call,
    thread or worker generates a history's row.  A nonzero ``salt`` keeps them apart from the
    kernel's own stream of the history."""
    key = np.array([seed], dtype=np.uint64) ^ np.uint64(salt) ^ _STREAM_SALT
    with np.errstate(over="ignore"):
        state = _mix64_array(_mix64_array(key) + np.asarray(histories, dtype=np.uint64) * _GOLDEN)
        steps = np.arange(1, count + 1, dtype=np.uint64) * _GOLDEN
        z = _mix64_array(state[:, None] + steps[None, :])
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * _TO_UNIT


def _mix64_array(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _MUL1
        z = (z ^ (z >> np.uint64(27))) * _MUL2
        return z ^ (z >> np.uint64(31))
