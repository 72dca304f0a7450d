"""Precision targets (like OpenMC's triggers): run batches until the named estimates are precise enough.

    emmc run CASE --target-rel-err 0.01 [--observable wind_force] [--observable density:z] --max-histories N

The case's own batches run first; while some named estimate has a relative
error above the target, batches of the same size (``histories // batches``)
with the next history indices are added, as many as the N^-1/2 law predicts
are missing (at least one), never beyond ``max_histories``.  A run with a
target is therefore a prefix-extension of the fixed-history run, and the
decision depends only on the table so far: a resumed run stops where an
uninterrupted one does.

The relative error of an estimate is stderr/|value| for a scalar and
sqrt(sum stderr^2)/|v| over the components of a vector or tensor (a force
on the axis has x and y components that are zero by symmetry; their own
relative errors never converge).  ``--observable NAME`` names every estimate
of that observable, ``NAME:COMPONENT`` one component alone; without
``--observable`` every estimate with a finite error bar is named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mc.errors import ConfigError
from observables.tables import OBSERVABLES

GROUP_COLUMNS = ("tally", "impurity", "estimator", "method", "side", "source")
"""Columns that, besides case, observable and position, tell one vector estimate from another."""


@dataclass(frozen=True)
class PrecisionTarget:
    rel_err: float
    observables: tuple[str, ...]
    max_histories: int

    def describe(self) -> dict:
        return {"rel_err": self.rel_err, "observables": list(self.observables), "max_histories": self.max_histories}


def parse_target(rel_err, observables, max_histories, histories: int) -> PrecisionTarget | None:
    """Validate the command-line target options (None when no target was asked for)."""
    if rel_err is None:
        if observables:
            raise ConfigError("--observable", "needs --target-rel-err")
        if max_histories is not None:
            raise ConfigError("--max-histories", "needs --target-rel-err")
        return None
    if not (math.isfinite(rel_err) and 0.0 < rel_err < 1.0):
        raise ConfigError("--target-rel-err", f"must be a number in (0, 1), got {rel_err!r}")
    if max_histories is None:
        raise ConfigError("--max-histories", "is required with --target-rel-err (the most histories to spend)")
    if max_histories < histories:
        raise ConfigError("--max-histories", f"must be >= the case's histories ({histories:,}), got {max_histories:,}")
    for name in observables:
        observable = name.split(":", 1)[0]
        if observable not in OBSERVABLES:
            raise ConfigError("--observable", f"unknown observable {observable!r}; one of {', '.join(sorted(OBSERVABLES))}")
    return PrecisionTarget(float(rel_err), tuple(observables), int(max_histories))


def check_names(layout: pd.DataFrame, target: PrecisionTarget) -> None:
    """Refuse, before any batch runs, a target naming an observable (or component) the case's table lacks.

    ``layout`` is the table the case will produce (any values: only its rows matter)."""
    for name in target.observables:
        observable, _, component = name.partition(":")
        rows = layout["observable"] == observable
        if component:
            rows &= layout["component"] == component
        if not rows.any():
            present = ", ".join(sorted(set(layout["observable"])))
            raise ConfigError("--observable", f"the case's table has no {name!r} (it has {present})")


def _named(frame: pd.DataFrame, target: PrecisionTarget) -> tuple[pd.Series, pd.Series]:
    """Which rows the target names, and which of them were named as a component of their own."""
    alone = pd.Series(False, index=frame.index)
    if not target.observables:
        return pd.Series(np.isfinite(frame["stderr"].to_numpy(float)), index=frame.index), alone
    named = pd.Series(False, index=frame.index)
    for name in target.observables:
        observable, _, component = name.partition(":")
        rows = frame["observable"] == observable
        if component:
            rows &= frame["component"] == component
            alone |= rows
        named |= rows
    return named, alone


def relative_errors(frame: pd.DataFrame, target: PrecisionTarget) -> pd.Series:
    """Relative error of the estimate each named row belongs to (NaN for rows not named)."""
    named, alone = _named(frame, target)
    keys = ["case", "observable", "x", "y", "z"] + [c for c in GROUP_COLUMNS if c in frame]
    rel = pd.Series(np.nan, index=frame.index)
    rows = frame[named]
    if rows.empty:
        return rel
    # scalars (and explicitly named components) are estimates of their own
    vector = (rows["component"] != "") & ~alone[rows.index]
    with np.errstate(divide="ignore", invalid="ignore"):
        scalar = rows[~vector]
        rel[scalar.index] = np.where(scalar["stderr"] == 0.0, 0.0, scalar["stderr"].abs() / scalar["value"].abs())
        grouped = rows[vector].groupby(keys, dropna=False, sort=False)
        for _, group in grouped:
            norm = math.sqrt(float((group["value"] ** 2).sum()))
            spread = math.sqrt(float((group["stderr"] ** 2).sum()))
            rel[group.index] = 0.0 if spread == 0.0 else (spread / norm if norm > 0 else math.inf)
    return rel.fillna(np.inf).where(named)


def target_status(frame: pd.DataFrame, target: PrecisionTarget) -> tuple[bool, float, pd.Series]:
    """(all named estimates met the target, the worst relative error, 'met'/'missed'/'' per row)."""
    rel = relative_errors(frame, target)
    named = rel.notna()
    if not named.any():
        names = ", ".join(target.observables) or "estimates with an error bar"
        raise ConfigError("--observable", f"the case has no {names} to reach the target on")
    worst = float(rel[named].max())
    column = pd.Series("", index=frame.index, dtype=object)
    column[named] = np.where(rel[named] <= target.rel_err, "met", "missed")
    return bool((rel[named] <= target.rel_err).all()), worst, column


def next_batch_count(count: int, histories: int, worst: float, target: PrecisionTarget, base: int, max_count: int) -> int:
    """How many batches the N^-1/2 law says reach the target: at least one more, at most ``max_count``.

    An estimate with no finite relative error yet (nothing scored it) gives no
    prediction: the batches are doubled."""
    if not math.isfinite(worst):
        wanted = 2 * count
    else:
        needed = histories * (worst / target.rel_err) ** 2
        wanted = count + max(1, math.ceil((needed - histories) / base))
    return int(min(max_count, max(count + 1, wanted)))
