"""The results table every consumer reads (SPEC §6).

One row per estimate in long ("tidy") form.  The required columns come first
and keep their meaning forever; extra columns (histories, the parameters of
the case) follow.  :class:`ResultRows` collects rows while a system is
evaluated.  The columns that depend on how long the run took
(:data:`TIMING_COLUMNS`: seconds, fom) are written apart, to ``timing.csv``
(same rows in the same order, with the key columns), so that the same case
and seed give byte-identical ``results.csv`` and ``results.parquet``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ["case", "observable", "component", "x", "y", "z", "value", "stderr", "reference", "units"]

OBSERVABLES = {
    "current",
    "resistance",
    "density",
    "potential",
    "current_density",
    "wind_force",
    "direct_force",
    "backscatter_current",
    "delta_resistance",
    "collision_rate",
    "potential_drop",
    "resistivity",
    "resistivity_reservoir",
    "conductivity_change",
    "force_total",
    "gamma_wexler",
    "transmission",
    "reflection",
    "density_dipole",
    "density_gradient",
    "far_field_drop",
    "resistivity_close_in",
    "force_resistivity_ratio",
}

UNITS = {
    # driven by the reservoirs' delta-mu (ballistic and two-terminal systems)
    "e delta_mu / hbar": "particle current, in units of delta-mu/hbar (times e: the charge current)",
    "hbar / e^2": "resistance (= 4108.24 Ohm)",
    "delta_mu dn/dE": "excess electron density, in units of delta-mu times the density of states dn/dE = 1/pi^2",
    "delta_mu / e": "electrostatic potential e dPhi/delta-mu (left reservoir -1/2, right +1/2)",
    "k_F^2 delta_mu / hbar": "particle current density (a current per unit area of a layer)",
    "k_F delta_mu": "force, in units of hbar k_F delta-mu / hbar = k_F delta-mu",
    "k_F^3 delta_mu": "force per unit area of a layer",
    "delta_mu / hbar": "rate (collisions per unit time)",
    "hbar / (e^2 k_F)": "resistivity (resistance times length)",
    "hbar / (e^2 k_F^2)": "resistance times area of a layer (rho L when no length is given)",
    "hbar k_F / e^2": "1D resistivity (resistance per unit length of a chain)",
    # driven by a bulk field E0 with mean free path l = v_F tau (Sorbello Eq. 1, e E0 l = 1)
    "E0 l": "electrostatic potential (drop), in units of the field times the mean free path",
    "e E0 l dn/dE": "excess electron density for the bulk drive",
    "k_F^2 e E0 l / hbar": "particle current density for the bulk drive",
    "k_F e E0 l": "force for the bulk drive",
    "k_F^3 e E0 l": "force per unit area for the bulk drive",
    "e^2 k_F / hbar": "conductivity change times volume of one scattering complex (Sorbello Eq. A5)",
    "k_F delta_mu dn/dE": "gradient of the excess density (e E = grad of it / (dn/dE), Sorbello Eq. 5)",
    "delta_mu dn/dE / k_F^2": "strength p of the dipole dn = (dn/dE) p cos(theta)/r^2 for the reservoirs' drive",
    "e E0 l / k_F^2": "strength p of the residual-resistivity dipole dn = (dn/dE) p cos(theta)/r^2 (Eq. 6)",
    "1": "dimensionless",
}
"""The units every table uses (reduced: hbar = m = e = k_F = 1, SPEC §1), and what each means."""

REDUCED_UNITS = {
    "current": "e delta_mu / hbar",
    "resistance": "hbar / e^2",
    "density": "delta_mu dn/dE",
    "potential": "delta_mu / e",
    "current_density": "k_F^2 delta_mu / hbar",
    "wind_force": "k_F delta_mu",
    "direct_force": "k_F delta_mu",
    "backscatter_current": "e delta_mu / hbar",
    "delta_resistance": "hbar / e^2",
    "collision_rate": "delta_mu / hbar",
    "potential_drop": "delta_mu / e",
    "resistivity": "hbar / (e^2 k_F)",
    "resistivity_reservoir": "hbar / (e^2 k_F)",
    "conductivity_change": "e^2 k_F / hbar",
    "force_total": "k_F delta_mu",
    "gamma_wexler": "1",
    "transmission": "1",
    "reflection": "1",
    "density_dipole": "e E0 l / k_F^2",
    "density_gradient": "k_F delta_mu dn/dE",
    "far_field_drop": "E0 l",
    "resistivity_close_in": "hbar / (e^2 k_F^2)",
    "force_resistivity_ratio": "1",
}
"""Default unit of each observable (a system passes ``units=`` where its drive or geometry differs)."""


class ResultRows:
    """Accumulates rows of the results table for one case."""

    def __init__(self, case: str, **extra):
        self.case = case
        self.extra = extra
        self.parts: list = []
        """Consecutive single rows (a list of dicts) and blocks of many rows (a dict of columns)."""

    @property
    def rows(self) -> list[dict]:
        """Every row as a dict (blocks expanded)."""
        rows: list[dict] = []
        for part in self.parts:
            rows.extend(part if isinstance(part, list) else pd.DataFrame(part).to_dict("records"))
        return rows

    def add(
        self,
        observable: str,
        value,
        stderr=np.nan,
        reference=np.nan,
        *,
        component: str = "",
        position=None,
        units: str | None = None,
        **columns,
    ) -> None:
        if observable not in OBSERVABLES:
            raise ValueError(f"unknown observable {observable!r}; add it to observables.tables.OBSERVABLES")
        x, y, z = (np.nan, np.nan, np.nan) if position is None else (float(p) for p in position)
        _check_units(units)
        row = {
            "case": self.case,
            "observable": observable,
            "component": component,
            "x": x,
            "y": y,
            "z": z,
            "value": float(value),
            "stderr": float(stderr),
            "reference": float(reference) if reference is not None else np.nan,
            "units": units if units is not None else REDUCED_UNITS[observable],
        }
        row.update(self.extra)
        row.update(columns)
        if not self.parts or not isinstance(self.parts[-1], list):
            self.parts.append([])
        self.parts[-1].append(row)

    def add_block(self, observable: str, values, stderrs, references, *, positions, component: str = "",
                  units: str | None = None, **columns) -> None:
        """Many rows of one observable and component at once (mesh cells, impurity maps): arrays of
        values, standard errors and references, ``positions`` = (x, y, z) arrays; extra columns are
        scalars or arrays of the same length."""
        if observable not in OBSERVABLES:
            raise ValueError(f"unknown observable {observable!r}; add it to observables.tables.OBSERVABLES")
        _check_units(units)
        values = np.ravel(np.asarray(values, dtype=float))
        n = values.size
        x, y, z = (np.broadcast_to(np.ravel(np.asarray(p, dtype=float)), (n,)) for p in positions)
        block = {
            "case": np.full(n, self.case, dtype=object),
            "observable": np.full(n, observable, dtype=object),
            "component": np.full(n, component, dtype=object),
            "x": x, "y": y, "z": z,
            "value": values,
            "stderr": np.broadcast_to(np.ravel(np.asarray(stderrs, dtype=float)), (n,)),
            "reference": np.broadcast_to(np.ravel(np.asarray(references, dtype=float)), (n,)),
            "units": np.full(n, units if units is not None else REDUCED_UNITS[observable], dtype=object),
        }
        for key, value in {**self.extra, **columns}.items():
            block[key] = np.ravel(value) if np.ndim(value) else np.full(n, value, dtype=object if isinstance(value, str) else None)
        self.parts.append(block)

    def add_vector(self, observable: str, values, stderrs, references=None, *, position=None, components="xyz", **columns):
        for i, comp in enumerate(components):
            ref = np.nan if references is None else references[i]
            self.add(observable, values[i], stderrs[i], ref, component=comp, position=position, **columns)

    def frame(self) -> pd.DataFrame:
        # every step holds a copy of all rows (640 000 for a 400 x 400 mesh): the parts' frames go
        # before the joined table is cleaned, and the clean table is flagged in place
        frames = [pd.DataFrame(part) for part in self.parts]
        joined = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        del frames
        return flag_unscored(results_frame(joined))


def _check_units(units) -> None:
    if units is not None and units not in UNITS:
        raise ValueError(f"unit {units!r} is not in observables.tables.UNITS")


INTEGER_COLUMNS = {"seed", "histories", "batches", "impurity", "impurities", "gap", "point", "histories_run",
                   "batches_run"}
"""Counts and indices: integers in every table even where some rows have none."""

ZERO_REFERENCE = 1e-12
"""A reference below this fraction of the largest one of its observable is a zero of symmetry."""


def results_frame(rows) -> pd.DataFrame:
    """The table in its clean form: contract columns first, integer columns as integers, extra
    columns that no row of the table uses dropped, references that vanish by symmetry exactly 0."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=REQUIRED_COLUMNS)
    extra = [c for c in frame.columns if c not in REQUIRED_COLUMNS and not _unused(frame[c])]
    frame = frame[REQUIRED_COLUMNS + extra].copy()
    frame["component"] = frame["component"].fillna("").astype(str)
    if not frame.empty:
        scale = frame["reference"].abs().groupby([frame["case"], frame["observable"]]).transform("max")
        frame["reference"] = frame["reference"].where(~(frame["reference"].abs() <= ZERO_REFERENCE * scale), 0.0)
    for column in extra:
        frame[column] = _as_integers(frame[column])
    return frame


def _unused(column: pd.Series) -> bool:
    return bool(column.isna().all() or (column.dtype == object and column.fillna("").eq("").all()))


def _as_integers(column: pd.Series) -> pd.Series:
    """A count or index column with gaps (NaN where a row has none) as a nullable integer column."""
    if column.name not in INTEGER_COLUMNS or column.dtype.kind not in "fO":
        return column
    return pd.to_numeric(column).astype("Int64")


UNSCORED = "unscored"
"""``flag`` of a Monte Carlo estimate that no history contributed to."""
FEW_EVENTS = "few_events"
"""``flag`` of a Monte Carlo estimate with fewer than :data:`MIN_EFFECTIVE_EVENTS` effective events."""
MIN_EFFECTIVE_EVENTS = 100


def flag_unscored(frame: pd.DataFrame) -> pd.DataFrame:
    """Mark estimates that nothing scored, or too little to trust their error bar, in place (the
    frame is changed and returned: a copy of a large table would double its memory).

    ``unscored``: 0 with a zero batch spread, not known to be zero.  An exact estimator (zero
    variance by construction) keeps stderr 0 with a non-zero value, and an exact zero that equals
    its reference stays; a tally that no history reached reads 0 +- 0, which would claim an exact
    zero.  Its stderr becomes NaN.

    ``few_events``: the effective number of events (value/stderr)^2, which is the number of
    scoring events for a tally of equal positive scores and less for any other, is below 100:
    the error bar itself is uncertain by more than ~10 %.  Rows whose reference is exactly 0 (a
    component that vanishes by symmetry) are not flagged: their relative error means nothing."""
    if frame.empty or "value" not in frame:
        return frame
    value, stderr, reference = (frame[c].astype(float) for c in ("value", "stderr", "reference"))
    unscored = (value == 0.0) & (stderr == 0.0) & ~(reference == 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        effective = (value / stderr) ** 2
    few = (stderr > 0.0) & np.isfinite(stderr) & (value != 0.0) & ~(reference == 0.0) & (effective < MIN_EFFECTIVE_EVENTS)
    if unscored.any() or few.any():
        frame.loc[unscored, "stderr"] = np.nan
        flags = frame["flag"] if "flag" in frame else pd.Series("", index=frame.index, dtype=object)
        flags = flags.where(~few | (flags.astype(str) != ""), FEW_EVENTS)
        frame["flag"] = flags.where(~unscored, UNSCORED)
    return frame


def flag_summary(frame: pd.DataFrame) -> list[str]:
    """One warning line per flag that some rows carry (for stderr), naming the observables."""
    if "flag" not in frame:
        return []
    lines = []
    for flag, what in ((UNSCORED, "that scored nothing"),
                       (FEW_EVENTS, f"with fewer than ~{MIN_EFFECTIVE_EVENTS} effective events")):
        rows = frame[frame["flag"] == flag]
        if len(rows):
            names = ", ".join(sorted(set(rows["observable"])))
            lines.append(f"emmc: warning: {len(rows)} of {len(frame)} estimates {what} (flag = {flag}: {names}); "
                         f"run more histories")
    return lines


TIMING_COLUMNS = ("seconds", "fom")
"""Run-time dependent columns: in ``timing.csv``, never in the results table."""

KEY_COLUMNS = ["case", "observable", "component", "x", "y", "z"]


def split_timing(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(the results table without timing columns, the timing table or None if there is none).

    The timing table has a ``row`` column (the row's position in the results
    table), the key columns and the timing columns, so it joins back either way."""
    timing = [c for c in TIMING_COLUMNS if c in frame]
    results = frame.drop(columns=timing).reset_index(drop=True)
    if not timing:
        return results, None
    table = frame[[c for c in KEY_COLUMNS if c in frame] + timing].reset_index(drop=True)
    table.insert(0, "row", np.arange(len(table)))
    return results, table


def write_table_files(frame: pd.DataFrame, folder: str | os.PathLike, stem: str = "results") -> list[Path]:
    """Write ``{stem}.csv``, ``{stem}.parquet`` and (if the frame has timing columns) ``timing.csv``
    (``{stem}_timing.csv`` for another stem) into ``folder``, which must exist."""
    folder = Path(folder)
    results, timing = split_timing(frame)
    # a scalar's empty component is missing in both files (a CSV cannot tell "" from missing)
    results = results.assign(component=results["component"].replace("", None))
    paths = [folder / f"{stem}.csv", folder / f"{stem}.parquet"]
    results.to_csv(paths[0], index=False)
    results.to_parquet(paths[1], index=False)
    if timing is not None:
        paths.append(folder / ("timing.csv" if stem == "results" else f"{stem}_timing.csv"))
        timing.to_csv(paths[-1], index=False)
    return paths


def write_table(frame: pd.DataFrame, out_dir: str | os.PathLike) -> list[Path]:
    """Write the table files of :func:`write_table_files` into ``out_dir``, each replaced whole.

    For scripts; ``emmc`` publishes through :mod:`mc.rundir`, which also replaces them as a set."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".emmc-", dir=out_dir))
    try:
        written = []
        for path in write_table_files(frame, staging):
            target = out_dir / path.name
            os.replace(path, target)
            written.append(target)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A results table written by emmc (csv or parquet) as :func:`mc.run` returns it: the
    missing component of scalars back to ""."""
    path = Path(path)
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    frame["component"] = frame["component"].fillna("").astype(str)
    return frame
